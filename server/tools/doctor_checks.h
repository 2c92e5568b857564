/* doctor_checks.h — the checks of `siths-bridge doctor`, each a function that adds its results
 * (check.h) from what struct doctor_env says: where the user's files are, which /proc and policy
 * tree to read, which ports, and the probes (probe.h) to ask — a test passes a temporary HOME,
 * a fake /proc and its own probes. The env is the caller's; the checks never keep pointers. */
#ifndef SITHS_DOCTOR_CHECKS_H
#define SITHS_DOCTOR_CHECKS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "check.h"
#include "config.h"

/* The nickname the CA has in the browsers' NSS databases (certs/trust-localhost-ca.sh). */
#define DOCTOR_NSS_NICK "siths-bridge local CA"

struct doctor_env {
	const struct cfg *cfg;   /* allow-origin: the portals */
	const char *home;        /* the user's home: ~/.pki/nssdb, ~/.mozilla/firefox */
	const char *proc;        /* "/proc", or a fake tree */
	const char *policy_root; /* NULL: "/" (policies.h) */
	uid_t uid;               /* this user */
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX]; /* the bridge's certificate, key and CA */
	unsigned short https_port, wss_port; /* doctor_check_service may set them from the units */
	bool have_systemd;     /* set by doctor_check_service: the user manager answered */
	unsigned pcsc_wait_ms; /* how long pcscd may take to answer */
	/* The probes (probe.h); doctor_env_init sets the real ones. */
	int (*run)(char *const argv[], char *out, size_t n, unsigned timeout_ms);
	int (*socket_owner)(const char *proc, unsigned long inode, const char *prefer, pid_t *pid,
			    char *name, size_t n);
	int (*https_get)(unsigned short port, const char *ca, const char *path, unsigned timeout_ms,
			 int *status, char *body, size_t n, char *why, size_t why_n);
};

/* Fills e for this user: cfg's cert and key when set, else the user service's
 * ~/.local/state/siths-bridge/certs/{server.pem,server.key}, the CA ca.pem beside the
 * certificate, cfg's ports, the real probes. */
void doctor_env_init(struct doctor_env *e, const struct cfg *cfg, const char *home);

/* pcscd reachable through the card core (card.h), its readers, the cards with number and type:
 * "pcscd", "readers", "card.N". */
void doctor_check_pcsc(struct doctor_env *e, struct check_list *l);

/* The user units' state (systemctl --user is-active), and their ports (Listen=): "service".
 * No user manager: info "not available", and have_systemd false. */
void doctor_check_service(struct doctor_env *e, struct check_list *l);

/* Who holds the HTTPS and the WSS port: this user's bridge or service manager, another program,
 * another user: "port.https", "port.wss". */
void doctor_check_ports(struct doctor_env *e, struct check_list *l);

/* The certificate: present, parses, issued by the CA, key matching, days to expiry: "cert". */
void doctor_check_cert(struct doctor_env *e, struct check_list *l);

/* The CA in each of the user's browser stores (~/.pki/nssdb, every Firefox profile), via
 * certutil: "trust.nssdb", "trust.firefox.PROFILE". */
void doctor_check_trust(struct doctor_env *e, struct check_list *l);

/* The managed policies for each configured portal: "policies", "policies.N". */
void doctor_check_policies(struct doctor_env *e, struct check_list *l);

/* GET /health over TLS verified against the CA: "health". */
void doctor_check_health(struct doctor_env *e, struct check_list *l);

#endif
