/* config.h — the daemon's settings, from the command line and/or a config file.
 * The command line wins over the file. All strings are owned by the struct; cfg_free() frees
 * them. Parsing never prints a PIN or secret (there are none in the config). */
#ifndef SITHS_CONFIG_H
#define SITHS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

typedef enum {
	CFG_OK = 0,
	CFG_EXIT_OK,        /* --help or --version was printed: exit 0 */
	CFG_E_USAGE,        /* unknown option or missing argument */
	CFG_E_VALUE,        /* an option's value is malformed (bad ADDR:PORT, level, number,
	                    * an --allow-uid user name that does not exist) */
	CFG_E_NOT_LOOPBACK, /* a listener address that is not 127.0.0.1 / ::1 / localhost */
	CFG_E_FILE,         /* --config file unreadable or malformed */
	CFG_E_NOMEM,
} cfg_err;

const char *cfg_strerror(cfg_err e);

struct cfg_listen {
	char addr[64];       /* numeric loopback address, "127.0.0.1" or "::1" */
	unsigned short port; /* 0 = pick an ephemeral port (tests); the real one is logged */
};

#define CFG_IDLE_EXIT_UNSET ((unsigned)-1)

struct cfg {
	struct cfg_listen https; /* default 127.0.0.1:29443 */
	struct cfg_listen wss;   /* default 127.0.0.1:29444 */
	char *cert_file;         /* PEM server certificate (chain) */
	char *key_file;          /* PEM private key */
	char *www_dir;           /* static page root */
	char **allow_origins;    /* extra allowed origins, exact "scheme://host[:port]" */
	size_t n_allow_origins;
	/* Users besides the daemon's own euid whose loopback clients are served (--allow-uid,
	 * repeatable; names resolved with getpwnam_r while parsing). See docs/security.md. */
	uid_t *allow_uids;
	size_t n_allow_uids;
	int log_level;         /* enum log_level */
	char *test_issuer_dir; /* --test-issuer DIR, NULL when not set */
	/* A CA over CMP (domain/issuer_cmp.h); NULL / 0 when not set. */
	char *issuer_cmp_url;         /* --issuer-cmp URL */
	char *issuer_cmp_trusted;     /* trust anchors of the CMP server's signature */
	char *issuer_cmp_ca;          /* trust anchors the issued certificate must chain to */
	char *issuer_cmp_tls_trusted; /* trust anchors of an https CMP server's TLS certificate */
	char *issuer_cmp_mac_file;    /* a standing MAC order REFERENCE:SECRET (issuer_cmp.h) */
	bool issuer_cmp_signature;    /* --issuer-cmp-protection signature (else mac) */
	unsigned issuer_cmp_msg_timeout_s, issuer_cmp_timeout_s;

	/* Limits (config-file keys of the same name; defaults in config.c). */
	size_t max_body;          /* request body bytes (413 above) */
	size_t max_header;        /* request header bytes */
	unsigned max_connections; /* concurrent HTTPS connections */
	unsigned conn_timeout_s;  /* idle/slow connection timeout (slowloris) */
	size_t ws_max_message;    /* largest WebSocket message accepted from a client */
	unsigned ws_max_clients;
	unsigned max_per_ip; /* concurrent HTTPS connections from one address */
	/* Exit after this many seconds unused (idle.h); 0 = never. CFG_IDLE_EXIT_UNSET until set:
	 * the daemon then picks its default, which depends on whether it was socket-activated. */
	unsigned idle_exit_s;

	char why[256]; /* storage for the last error reason (see cfg_parse_args) */
};

/* Fills defaults. */
void cfg_init(struct cfg *c);

/* Parses argv (getopt_long). The --config FILEs and the --config-if-present FILEs that exist are
 * loaded first, in their order (a later file overrides an earlier one), then the other options
 * override them (allow-origin or allow-uid on the command line replaces the file's list of that
 * key).
 * On CFG_EXIT_OK the caller exits 0; on an error a one-line reason was written to *why
 * (static or owned by c, valid until cfg_free). */
cfg_err cfg_parse_args(struct cfg *c, int argc, char **argv, const char **why);

/* Loads "key = value" lines (# comments); keys are the long option names without "--"
 * (allow-origin and allow-uid repeatable, config not allowed). Values set here override what
 * c held. */
cfg_err cfg_load_file(struct cfg *c, const char *path, const char **why);

/* Parses "ADDR:PORT" ("127.0.0.1:N", "[::1]:N", "localhost:N"; N 0..65535) into *out. */
cfg_err cfg_parse_listen(const char *s, struct cfg_listen *out);

/* "ADDR:PORT" of listener l on port (the bound one), IPv6 in brackets: for logs and /health. */
void cfg_listen_text(const struct cfg_listen *l, unsigned short port, char *buf, size_t n);

/* Checks an origin "scheme://host[:port]" (http or https, no path, no userinfo, not "null"). */
bool cfg_origin_valid(const char *origin);

/* Parses an --allow-uid value: a decimal uid, else a user name looked up with getpwnam_r.
 * CFG_E_VALUE for a malformed number, (uid_t)-1, or a name with no user. */
cfg_err cfg_parse_uid(const char *s, uid_t *out);

/* Writes the --help text to f. */
void cfg_usage(FILE *f, const char *prog);

void cfg_free(struct cfg *c);

#endif
