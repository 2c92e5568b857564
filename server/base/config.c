/* config.c — the daemon's settings from the command line and a "key = value" file.
 * One option table drives getopt_long, the config file keys, the value checks and --help, so the
 * two ways of configuring can never drift apart. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#ifndef SITHS_VERSION
#define SITHS_VERSION "0"
#endif

enum opt_kind {
	K_LISTEN,
	K_STR,
	K_ORIGIN,
	K_UID,
	K_LEVEL,
	K_SIZE,
	K_UINT,
	K_PROTECTION, /* mac|signature into a bool: signature */
	K_CONFIG,
	K_CONFIG_IF, /* a config file that may be missing */
	K_HELP,
	K_VERSION
};

struct opt {
	const char *name;
	const char *arg; /* metavariable for --help, NULL: no argument */
	enum opt_kind kind;
	size_t off; /* field in struct cfg */
	unsigned long long min, max;
	const char *help;
};

#define F(field) offsetof(struct cfg, field)

static const struct opt opts[] = {
	{ "https", "ADDR:PORT", K_LISTEN, F(https), 0, 0,
	  "HTTPS listener (default 127.0.0.1:29443)" },
	{ "wss", "ADDR:PORT", K_LISTEN, F(wss), 0, 0,
	  "WebSocket listener (default 127.0.0.1:29444)" },
	{ "cert", "FILE", K_STR, F(cert_file), 0, 0, "PEM server certificate (chain)" },
	{ "key", "FILE", K_STR, F(key_file), 0, 0, "PEM private key of the certificate" },
	{ "www", "DIR", K_STR, F(www_dir), 0, 0, "directory of the page served at /" },
	{ "allow-origin", "ORIGIN", K_ORIGIN, 0, 0, 0, "extra allowed origin, repeatable" },
	{ "allow-uid", "UID|USERNAME", K_UID, 0, 0, 0,
	  "also serve this user's loopback clients (default: own uid only), repeatable" },
	{ "config", "FILE", K_CONFIG, 0, 0, 0, "read these settings from FILE first" },
	{ "config-if-present", "FILE", K_CONFIG_IF, 0, 0, 0,
	  "like --config, but a missing FILE is skipped (a user's own settings)" },
	{ "log-level", "LEVEL", K_LEVEL, F(log_level), 0, 0,
	  "error|warn|info|debug (default info)" },
	{ "test-issuer", "DIR", K_STR, F(test_issuer_dir), 0, 0,
	  "issue from the test PKI in DIR (siths-test-ca as a child, over CMP)" },
	{ "issuer-cmp", "URL", K_STR, F(issuer_cmp_url), 0, 0,
	  "get certificates from this CMP server, http[s]://HOST:PORT/PATH" },
	{ "issuer-cmp-trusted", "FILE", K_STR, F(issuer_cmp_trusted), 0, 0,
	  "PEM trust anchors of the CMP server's signature (default: MAC only)" },
	{ "issuer-cmp-ca", "FILE", K_STR, F(issuer_cmp_ca), 0, 0,
	  "PEM trust anchors the issued certificate must chain to (required with issuer-cmp)" },
	{ "issuer-cmp-tls-trusted", "FILE", K_STR, F(issuer_cmp_tls_trusted), 0, 0,
	  "PEM trust anchors of an https CMP server's TLS certificate (required with https)" },
	{ "issuer-cmp-mac-file", "FILE", K_STR, F(issuer_cmp_mac_file), 0, 0,
	  "REFERENCE:SECRET (mode 0600) for downloads without an enrollment order (test CA)" },
	{ "issuer-cmp-protection", "mac|signature", K_PROTECTION, F(issuer_cmp_signature), 0, 0,
	  "protect CMP requests by MAC (default) or sign them with the card's authentication key "
	  "(a download then brings PIN1; needs issuer-cmp-trusted)" },
	{ "issuer-cmp-msg-timeout", "SECONDS", K_UINT, F(issuer_cmp_msg_timeout_s), 1, 3600,
	  "one CMP message's round trip (default 30)" },
	{ "issuer-cmp-timeout", "SECONDS", K_UINT, F(issuer_cmp_timeout_s), 1, 86400,
	  "CMP request to certificate, polling included (default 300)" },
	{ "max-body", "BYTES", K_SIZE, F(max_body), 16, 16u << 20, "largest request body" },
	{ "max-header", "BYTES", K_SIZE, F(max_header), 1024, 1u << 20, "largest request header" },
	{ "max-connections", "N", K_UINT, F(max_connections), 1, 10000,
	  "concurrent HTTPS connections" },
	{ "max-per-ip", "N", K_UINT, F(max_per_ip), 1, 10000,
	  "concurrent connections per address" },
	{ "conn-timeout", "SECONDS", K_UINT, F(conn_timeout_s), 1, 3600,
	  "idle/slow connection timeout" },
	{ "ws-max-message", "BYTES", K_SIZE, F(ws_max_message), 128, 16u << 20,
	  "largest WebSocket message from a client" },
	{ "ws-max-clients", "N", K_UINT, F(ws_max_clients), 1, 1000,
	  "concurrent WebSocket clients" },
	{ "idle-exit", "SECONDS", K_UINT, F(idle_exit_s), 0, 86400,
	  "exit when unused this long, 0 = never (default 300 if socket-activated, else 0)" },
	{ "help", NULL, K_HELP, 0, 0, 0, "show this help" },
	{ "version", NULL, K_VERSION, 0, 0, 0, "show the version" },
};
#define N_OPTS (sizeof opts / sizeof opts[0])

const char *cfg_strerror(cfg_err e)
{
	switch (e) {
	case CFG_OK: return "ok";
	case CFG_EXIT_OK: return "done";
	case CFG_E_USAGE: return "bad usage";
	case CFG_E_VALUE: return "bad value";
	case CFG_E_NOT_LOOPBACK: return "listener address is not loopback";
	case CFG_E_FILE: return "bad config file";
	case CFG_E_NOMEM: return "out of memory";
	}
	return "unknown error";
}

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->https.addr, "127.0.0.1");
	c->https.port = 29443;
	strcpy(c->wss.addr, "127.0.0.1");
	c->wss.port = 29444;
	c->log_level = LOG_LVL_INFO;
	c->max_body = 64 * 1024;
	c->max_header = 16 * 1024;
	c->max_connections = 64;
	c->max_per_ip = 32;
	c->conn_timeout_s = 30;
	c->ws_max_message = 64 * 1024;
	c->ws_max_clients = 32;
	c->idle_exit_s = CFG_IDLE_EXIT_UNSET;
}

static void free_origins(struct cfg *c)
{
	for (size_t i = 0; i < c->n_allow_origins; i++)
		free(c->allow_origins[i]);
	free(c->allow_origins);
	c->allow_origins = NULL;
	c->n_allow_origins = 0;
}

static void free_uids(struct cfg *c)
{
	free(c->allow_uids);
	c->allow_uids = NULL;
	c->n_allow_uids = 0;
}

/* A repeatable key's list as a later source starts it: the earlier source's list is dropped.
 * *reset remembers, per kind, that this source already started its list. */
static void list_restart(struct cfg *c, enum opt_kind kind, unsigned *reset)
{
	unsigned bit = 1u << kind;
	if ((kind != K_ORIGIN && kind != K_UID) || (*reset & bit))
		return;
	if (kind == K_ORIGIN)
		free_origins(c);
	else
		free_uids(c);
	*reset |= bit;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	free(c->cert_file);
	free(c->key_file);
	free(c->www_dir);
	free(c->test_issuer_dir);
	free(c->issuer_cmp_url);
	free(c->issuer_cmp_trusted);
	free(c->issuer_cmp_ca);
	free(c->issuer_cmp_tls_trusted);
	free(c->issuer_cmp_mac_file);
	c->issuer_cmp_url = c->issuer_cmp_trusted = c->issuer_cmp_ca = NULL;
	c->issuer_cmp_tls_trusted = c->issuer_cmp_mac_file = NULL;
	free_origins(c);
	free_uids(c);
	c->cert_file = c->key_file = c->www_dir = c->test_issuer_dir = NULL;
}

static cfg_err fail(struct cfg *c, cfg_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static cfg_err fail(struct cfg *c, cfg_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	return e;
}

/* Strict decimal: digits only, no sign, no spaces, no overflow. */
static bool parse_ull(const char *s, unsigned long long *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

cfg_err cfg_parse_listen(const char *s, struct cfg_listen *out)
{
	if (!s)
		return CFG_E_VALUE;
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return CFG_E_VALUE;
	unsigned long long port;
	if (!parse_ull(colon + 1, &port) || port > 65535)
		return CFG_E_VALUE;
	size_t hl = (size_t)(colon - s);
	const char *addr;
	if (hl == 9 && strncmp(s, "127.0.0.1", 9) == 0)
		addr = "127.0.0.1";
	else if (hl == 9 && strncasecmp(s, "localhost", 9) == 0)
		addr = "127.0.0.1";
	else if (hl == 5 && strncmp(s, "[::1]", 5) == 0)
		addr = "::1";
	else if (memchr(s, '/', hl) || memchr(s, ' ', hl))
		return CFG_E_VALUE;
	else
		return CFG_E_NOT_LOOPBACK;
	strcpy(out->addr, addr);
	out->port = (unsigned short)port;
	return CFG_OK;
}

static bool host_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '.';
}

void cfg_listen_text(const struct cfg_listen *l, unsigned short port, char *buf, size_t n)
{
	snprintf(buf, n, strchr(l->addr, ':') ? "[%s]:%u" : "%s:%u", l->addr, port);
}

bool cfg_origin_valid(const char *o)
{
	if (!o)
		return false;
	const char *p;
	if (strncasecmp(o, "https://", 8) == 0)
		p = o + 8;
	else if (strncasecmp(o, "http://", 7) == 0)
		p = o + 7;
	else
		return false;
	const char *h = p;
	if (*p == '[') {
		/* IPv6 literal: hex digits and colons only. */
		p++;
		while (isxdigit((unsigned char)*p) || *p == ':')
			p++;
		if (*p != ']' || p == h + 1)
			return false;
		p++;
	} else {
		while (host_char(*p))
			p++;
		if (p == h || h[0] == '.' || h[0] == '-' || p[-1] == '.')
			return false;
	}
	if (*p == ':') {
		unsigned long long port;
		if (!parse_ull(p + 1, &port) || port == 0 || port > 65535)
			return false;
		return true;
	}
	return *p == '\0';
}

static cfg_err add_origin(struct cfg *c, const char *v)
{
	if (!cfg_origin_valid(v))
		return fail(c, CFG_E_VALUE,
			    "allow-origin must be scheme://host[:port], got '%.80s'", v);
	char **n = realloc(c->allow_origins, (c->n_allow_origins + 1) * sizeof *n);
	if (!n)
		return fail(c, CFG_E_NOMEM, "out of memory");
	c->allow_origins = n;
	if (!(n[c->n_allow_origins] = strdup(v)))
		return fail(c, CFG_E_NOMEM, "out of memory");
	c->n_allow_origins++;
	return CFG_OK;
}

/* Looks a user name up. The buffer grows on ERANGE up to a bound: passwd entries are small. */
static cfg_err uid_of_name(const char *name, uid_t *out)
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t cap = hint > 0 && hint < 65536 ? (size_t)hint : 1024;
	cfg_err e = CFG_E_VALUE;
	char *buf = NULL;

	for (;;) {
		struct passwd pw, *res = NULL;
		char *b = realloc(buf, cap);
		if (!b) {
			e = CFG_E_NOMEM;
			break;
		}
		buf = b;
		int r = getpwnam_r(name, &pw, buf, cap, &res);
		if (r == ERANGE && cap < (1u << 20)) {
			cap *= 2;
			continue;
		}
		if (r == 0 && res) {
			*out = pw.pw_uid;
			e = CFG_OK;
		}
		break;
	}
	free(buf);
	return e;
}

cfg_err cfg_parse_uid(const char *s, uid_t *out)
{
	unsigned long long n;
	if (!s || !*s)
		return CFG_E_VALUE;
	if (isdigit((unsigned char)*s)) {
		/* (uid_t)-1 means "no uid" to the kernel's interfaces: never a real user. */
		if (!parse_ull(s, &n) || n >= (unsigned long long)(uid_t)-1)
			return CFG_E_VALUE;
		*out = (uid_t)n;
		return CFG_OK;
	}
	if (strlen(s) > 255)
		return CFG_E_VALUE;
	return uid_of_name(s, out);
}

static cfg_err add_uid(struct cfg *c, const char *v)
{
	uid_t uid;
	cfg_err e = cfg_parse_uid(v, &uid);
	if (e == CFG_E_NOMEM)
		return fail(c, e, "out of memory");
	if (e && isdigit((unsigned char)*v))
		return fail(c, e, "--allow-uid: expected a uid 0..%u or a user name, got '%.80s'",
			    (unsigned)((uid_t)-1 - 1), v);
	if (e)
		return fail(c, e, "--allow-uid: no user named '%.80s' on this system", v);
	uid_t *n = realloc(c->allow_uids, (c->n_allow_uids + 1) * sizeof *n);
	if (!n)
		return fail(c, CFG_E_NOMEM, "out of memory");
	c->allow_uids = n;
	n[c->n_allow_uids++] = uid;
	return CFG_OK;
}

/* Sets one option's value; from the command line or the file alike. */
static cfg_err apply(struct cfg *c, const struct opt *o, const char *v)
{
	char *field = (char *)c + o->off;
	unsigned long long n;
	cfg_err e;

	switch (o->kind) {
	case K_LISTEN:
		e = cfg_parse_listen(v, (struct cfg_listen *)(void *)field);
		if (e == CFG_E_NOT_LOOPBACK)
			return fail(
				c, e,
				"--%s: only 127.0.0.1, [::1] or localhost may be used, got '%.80s'",
				o->name, v);
		if (e)
			return fail(c, e, "--%s: expected ADDR:PORT, got '%.80s'", o->name, v);
		return CFG_OK;
	case K_STR: {
		if (!*v)
			return fail(c, CFG_E_VALUE, "--%s: empty value", o->name);
		char *d = strdup(v);
		if (!d)
			return fail(c, CFG_E_NOMEM, "out of memory");
		char **slot = (char **)(void *)field;
		free(*slot);
		*slot = d;
		return CFG_OK;
	}
	case K_ORIGIN: return add_origin(c, v);
	case K_UID: return add_uid(c, v);
	case K_LEVEL: {
		int lvl = log_level_parse(v);
		if (lvl < 0)
			return fail(c, CFG_E_VALUE,
				    "--log-level: expected error|warn|info|debug, got '%.40s'", v);
		*(int *)(void *)field = lvl;
		return CFG_OK;
	}
	case K_SIZE:
	case K_UINT:
		if (!parse_ull(v, &n) || n < o->min || n > o->max)
			return fail(c, CFG_E_VALUE,
				    "--%s: expected a number %llu..%llu, got '%.40s'", o->name,
				    o->min, o->max, v);
		if (o->kind == K_SIZE)
			*(size_t *)(void *)field = (size_t)n;
		else
			*(unsigned *)(void *)field = (unsigned)n;
		return CFG_OK;
	case K_PROTECTION:
		if (strcmp(v, "mac") && strcmp(v, "signature"))
			return fail(c, CFG_E_VALUE, "--%s: expected mac|signature, got '%.40s'",
				    o->name, v);
		*(bool *)(void *)field = !strcmp(v, "signature");
		return CFG_OK;
	case K_CONFIG:
	case K_CONFIG_IF:
	case K_HELP:
	case K_VERSION: break;
	}
	return fail(c, CFG_E_USAGE, "--%s cannot be set here", o->name);
}

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* One "key = value" line; blank lines and # comments are fine. */
static cfg_err load_line(struct cfg *c, char *line, unsigned *lists_reset)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return CFG_OK;
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(c, CFG_E_FILE, "expected 'key = value'");
	*eq = '\0';
	char *key = trim(s), *val = trim(eq + 1);
	const struct opt *o = find_opt(key);
	if (!o || !o->arg || o->kind == K_CONFIG || o->kind == K_CONFIG_IF)
		return fail(c, CFG_E_FILE, "unknown key '%.40s'", key);
	if (!*val)
		return fail(c, CFG_E_FILE, "key '%s' has no value", o->name);
	/* The file's list replaces any earlier one, as a later source should. */
	list_restart(c, o->kind, lists_reset);
	cfg_err e = apply(c, o, val);
	return e == CFG_E_NOMEM ? e : e ? CFG_E_FILE : CFG_OK;
}

cfg_err cfg_load_file(struct cfg *c, const char *path, const char **why)
{
	cfg_err e = CFG_OK;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	unsigned lists_reset = 0;

	FILE *f = fopen(path, "re");
	if (!f) {
		e = fail(c, CFG_E_FILE, "cannot read config file %.120s: %s", path,
			 strerror(errno));
		goto out;
	}
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)n != strlen(line)) {
			e = fail(c, CFG_E_FILE, "NUL byte");
		} else if (n > 4096) {
			e = fail(c, CFG_E_FILE, "line too long");
		} else {
			e = load_line(c, line, &lists_reset);
		}
		if (e) {
			/* Prefix the position to the reason already in c->why. */
			char tmp[sizeof c->why];
			snprintf(tmp, sizeof tmp, "%s", c->why);
			snprintf(c->why, sizeof c->why, "%.100s:%u: %.140s", path, lineno, tmp);
			goto out;
		}
	}
	if (ferror(f))
		e = fail(c, CFG_E_FILE, "error reading %.120s", path);
out:
	free(line);
	if (f)
		fclose(f);
	if (why)
		*why = e ? c->why : NULL;
	return e;
}

void cfg_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [OPTION]...\n"
		"       %s doctor|policies ...  (each with --help)\n"
		"siths-bridge %s: lets a web page use a SITHS eID card over loopback HTTPS + "
		"WSS.\n\n",
		prog ? prog : "siths-bridge", prog ? prog : "siths-bridge", SITHS_VERSION);
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[40];
		snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-28s %s\n", left, opts[i].help);
	}
	fprintf(f,
		"\nThe config file holds 'key = value' lines with the same names (no --).\n"
		"Listeners are loopback only; command-line options override the file.\n");
}

/* getopt_long's table, built from opts[] (val = index + 256, no short options). */
static void build_longopts(struct option *lo)
{
	for (size_t i = 0; i < N_OPTS; i++)
		lo[i] = (struct option){ opts[i].name,
					 opts[i].arg ? required_argument : no_argument, NULL,
					 (int)(256 + i) };
	lo[N_OPTS] = (struct option){ 0 };
}

cfg_err cfg_parse_args(struct cfg *c, int argc, char **argv, const char **why)
{
	struct option lo[N_OPTS + 1];
	cfg_err e = CFG_OK;
	unsigned lists_reset = 0;
	int r;

	build_longopts(lo);
	opterr = 0;

	/* Pass 1: only the config files, in their order (a later one overrides an earlier one), so
	 * that everything else on the command line overrides them. */
	optind = 0;
	while ((r = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		enum opt_kind k = r >= 256 ? opts[r - 256].kind : K_HELP;
		if (k == K_CONFIG_IF && access(optarg, F_OK) != 0 && errno == ENOENT)
			continue;
		if ((k == K_CONFIG || k == K_CONFIG_IF) && (e = cfg_load_file(c, optarg, NULL)))
			goto out;
	}

	optind = 0;
	while ((r = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (r == '?' || r == ':') {
			const char *arg = argv[optind - 1];
			e = fail(c, CFG_E_USAGE, "%s option '%.60s' (try --help)",
				 r == '?' ? "unknown" : "missing argument for", arg ? arg : "");
			goto out;
		}
		const struct opt *o = &opts[r - 256];
		if (o->kind == K_HELP) {
			cfg_usage(stdout, argv[0]);
			e = CFG_EXIT_OK;
			goto out;
		}
		if (o->kind == K_VERSION) {
			printf("siths-bridge %s\n", SITHS_VERSION);
			e = CFG_EXIT_OK;
			goto out;
		}
		if (o->kind == K_CONFIG || o->kind == K_CONFIG_IF)
			continue;
		list_restart(c, o->kind, &lists_reset);
		if ((e = apply(c, o, optarg)))
			goto out;
	}
	if (optind < argc)
		e = fail(c, CFG_E_USAGE, "unexpected argument '%.60s'", argv[optind]);
out:
	if (why)
		*why = e && e != CFG_EXIT_OK ? c->why : NULL;
	return e;
}
