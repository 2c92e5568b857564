/* policies.h — the browsers' managed policies that let the configured portals reach the bridge
 * under Local Network Access without a prompt: Chromium's and Chrome's managed file (ours
 * alone: siths-bridge.json, LoopbackNetworkAllowedForUrls and, for browsers before 146,
 * LocalNetworkAccessAllowedForUrls) and Firefox's policies.json (shared: only our entries of
 * LocalNetworkAccess.SkipDomains are touched, every other policy is kept). Every file is
 * written whole to a temporary file in its folder and renamed over the old one. */
#ifndef SITHS_POLICIES_H
#define SITHS_POLICIES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
	POLICIES_OK = 0,
	POLICIES_E_ORIGIN, /* an origin that is not scheme://host[:port] */
	POLICIES_E_PARSE, /* an existing Firefox policies file that is not a JSON object (left as is) */
	POLICIES_E_IO, /* a folder or file could not be made, written or renamed */
	POLICIES_E_NOMEM,
} policies_err;

const char *policies_strerror(policies_err e);

struct policies_paths {
	char chromium[PATH_MAX];     /* <root>/etc/chromium/policies/managed/siths-bridge.json */
	char chrome[PATH_MAX];       /* <root>/etc/opt/chrome/policies/managed/siths-bridge.json */
	char firefox_etc[PATH_MAX];  /* <root>/etc/firefox/policies/policies.json */
	char firefox_dist[PATH_MAX]; /* <root>/usr/lib/firefox-esr/distribution/policies.json */
};

/* root: a folder standing for / (tests), NULL or "" for the real one. */
void policies_paths_init(struct policies_paths *p, const char *root);

/* The Firefox file in effect: Firefox reads /etc/firefox/policies/policies.json when it exists and
 * then ignores the installation's distribution/policies.json, so an existing etc file is merged
 * into, else an existing distribution file, else the etc file is made. */
const char *policies_firefox_file(const struct policies_paths *p);

/* Writes the policies for origins[0..n) (n may be 0: our entries are then removed). The Firefox
 * domains written before (the hosts of the origins in our Chromium file) are replaced by the new
 * ones. Idempotent. why (n bytes) gets a one-line reason on failure. */
policies_err policies_write(const struct policies_paths *p, char *const *origins, size_t n,
			    char *why, size_t why_n);

/* Removes our files and our Firefox entries (what the Chromium file says we wrote). */
policies_err policies_remove(const struct policies_paths *p, char *why, size_t why_n);

/* What policies_write would write, as text for a person: each file and its JSON. */
policies_err policies_print(const struct policies_paths *p, char *const *origins, size_t n,
			    FILE *f);

/* Whether origin is allowed in each browser's policies as written now. */
struct policies_presence {
	bool chromium, chrome, firefox;
};
void policies_present(const struct policies_paths *p, const char *origin,
		      struct policies_presence *out);

/* `siths-bridge policies --write|--print|--remove [--config FILE] [--root DIR]`: exit status. */
int policies_main(int argc, char **argv);

#endif
