/* main.c — siths-test-ca: the development CA as a CMP server over HTTP (or HTTPS with --tls-cert)
 * at /pkix/ (RFC 9483 section 6.1), so the daemon, the demo, the tests and a portal developer all
 * enroll through the protocol a production CA speaks. Loopback only; one message at a time (libmicrohttpd's single
 * internal thread). Prints "siths-test-ca: listening on ADDR:PORT" once it serves. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/cmp.h>
#include <openssl/crypto.h>

#include "cmpsrv.h"
#include "config.h"
#include "log.h"

#define CMP_PATH "/pkix/"
#define CMP_TYPE "application/pkixcmp"
#define MAX_BODY (64 * 1024)

struct upload {
	unsigned char buf[MAX_BODY];
	size_t len;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body,
			     size_t len, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, msg, strlen(msg), "text/plain");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **state)
{
	struct cmpsrv *srv = cls;
	struct upload *u = *state;
	(void)version;
	if (!u) {
		/* Everything is decided on the head: the path, the method, the type. */
		const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_TYPE);
		if (strncmp(url, CMP_PATH, strlen(CMP_PATH)) != 0)
			return text(c, 404, "not found: CMP is served at " CMP_PATH "\n");
		if (strcmp(method, "POST") != 0)
			return text(c, 405, "CMP requests are POSTed\n");
		if (!type || strcmp(type, CMP_TYPE) != 0)
			return text(c, 415, "expected Content-Type: " CMP_TYPE "\n");
		if (!(u = calloc(1, sizeof *u)))
			return MHD_NO;
		*state = u;
		return MHD_YES;
	}
	if (*size) {
		if (*size > sizeof u->buf - u->len)
			u->too_big = true;
		else
			memcpy(u->buf + u->len, data, *size), u->len += *size;
		*size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return text(c, 413, "CMP message too large\n");
	unsigned char *rsp = NULL;
	size_t rsp_len = 0;
	cmpsrv_err e = cmpsrv_handle(srv, u->buf, u->len, &rsp, &rsp_len);
	enum MHD_Result ok =
		e ? text(c, 400, "not a CMP message\n") : reply(c, 200, rsp, rsp_len, CMP_TYPE);
	OPENSSL_free(rsp);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	free(*state);
	*state = NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siths-test-ca --listen ADDR:PORT --pki DIR [OPTION]...\n"
		"A TEST SITHS CA (development certificates only) serving CMP at "
		"http://ADDR:PORT" CMP_PATH "\n\n"
		"  --listen ADDR:PORT     127.0.0.1, [::1] or localhost; port 0 = any free port\n"
		"  --pki DIR              the hierarchy made by certs/test-siths-pki.sh DIR\n"
		"  --mac REFERENCE:SECRET MAC protection with this reference and secret\n"
		"                         (default: signed with DIR/cmp-server.pem)\n"
		"  --mac-fd N             the same, one line read from descriptor N\n"
		"  --ready-fd N           write ADDR:PORT and a newline to descriptor N once\n"
		"                         serving, then close it\n"
		"  --fault NAME           the test CA misbehaves: fail, other-key, other-subject,\n"
		"                         other-chain, expired, key-usage\n"
		"  --reject TEXT          refuse every request (failInfo badRequest) with TEXT\n"
		"  --delay-polls N        answer \"waiting\" and N pollReqs before the "
		"certificate\n"
		"  --check-after SECONDS  the wait the client is told between polls (default 0)\n"
		"  --bad-protection       protect the answers so that no client can verify them\n"
		"                         (another MAC secret, or a signer outside DIR's "
		"hierarchy)\n"
		"  --tls-cert FILE        serve HTTPS with this PEM certificate (chain) ...\n"
		"  --tls-key FILE         ... and this PEM key\n");
}

/* What main needs besides the CMP server's options. */
struct run_opts {
	struct cfg_listen listen;
	const char *tls_cert, *tls_key; /* both or neither: HTTPS */
	char *mac;                      /* "REFERENCE\0SECRET", wiped at the end */
	size_t mac_len;
	int ready_fd; /* -1, or where "ADDR:PORT\n" goes once it serves (a parent's pipe) */
	bool listen_set;
};

/* REFERENCE:SECRET into o and ro (a copy, wiped at the end); false when malformed. */
static bool set_mac(const char *text, struct cmpsrv_opts *o, struct run_opts *ro)
{
	if (ro->mac)
		OPENSSL_cleanse(ro->mac, ro->mac_len);
	free(ro->mac);
	ro->mac_len = strlen(text);
	char *colon = (ro->mac = strdup(text)) ? strchr(ro->mac, ':') : NULL;
	if (!colon || colon == ro->mac)
		return false;
	*colon = '\0';
	o->mac_ref = ro->mac;
	o->mac_secret = colon + 1;
	return true;
}

/* An open file descriptor number, or -1. */
static int parse_fd(const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);
	return *arg && !*end && v >= 0 && v <= INT_MAX && fcntl((int)v, F_GETFD) != -1 ? (int)v
										       : -1;
}

/* The order as one line REFERENCE:SECRET read to the end of fd (a parent's pipe: a secret that
 * is never on a command line), which is closed. */
static bool read_mac_fd(const char *arg, struct cmpsrv_opts *o, struct run_opts *ro)
{
	char buf[1024];
	size_t n = 0;
	ssize_t r;
	int fd = parse_fd(arg);
	if (fd < 0)
		return false;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	bool ok = n > 0 && !memchr(buf, '\n', n) && set_mac(buf, o, ro);
	OPENSSL_cleanse(buf, sizeof buf);
	return ok;
}

/* Parses the options into *o and *ro; 0, 1 (--help) or 2 (usage error). */
/* One option (getopt's code, its argument) into o and ro: NULL, or what is wrong with it. */
static const char *apply(int opt, char *arg, struct cmpsrv_opts *o, struct run_opts *ro)
{
	int fault;
	char *end;
	unsigned long v;
	switch (opt) {
	case 'l':
		ro->listen_set = cfg_parse_listen(arg, &ro->listen) == CFG_OK;
		return ro->listen_set ? NULL : "--listen: loopback ADDR:PORT";
	case 'p': o->pki_dir = arg; return NULL;
	case 'm':
		if (!set_mac(arg, o, ro))
			return "--mac REFERENCE:SECRET";
		OPENSSL_cleanse(arg, strlen(arg)); /* not in ps */
		return NULL;
	case 'M':
		return read_mac_fd(arg, o, ro)
			? NULL
			: "--mac-fd: no line REFERENCE:SECRET on that descriptor";
	case 'R':
		ro->ready_fd = parse_fd(arg);
		return ro->ready_fd >= 0 ? NULL : "--ready-fd: not an open descriptor";
	case 'f':
		if ((fault = issuer_testca_fault_parse(arg)) < 0)
			return "unknown --fault";
		o->fault = (enum issuer_testca_fault)fault;
		return NULL;
	case 'r':
		o->reject_text = arg;
		o->reject_bits = 1u << OSSL_CMP_PKIFAILUREINFO_badRequest;
		return NULL;
	case 'd':
	case 'c':
		v = strtoul(arg, &end, 10);
		if (!*arg || *end || v > 3600)
			return "bad number";
		*(opt == 'd' ? &o->delay_polls : &o->check_after) = (unsigned)v;
		return NULL;
	case 'B': o->bad_protection = true; return NULL;
	case 'C': ro->tls_cert = arg; return NULL;
	case 'K': ro->tls_key = arg; return NULL;
	}
	return "unknown option";
}

/* Parses the options into *o and *ro; 0, 1 (--help) or 2 (usage error). */
static int parse(int argc, char **argv, struct cmpsrv_opts *o, struct run_opts *ro)
{
	static const struct option lo[] = { { "listen", required_argument, NULL, 'l' },
					    { "pki", required_argument, NULL, 'p' },
					    { "mac", required_argument, NULL, 'm' },
					    { "mac-fd", required_argument, NULL, 'M' },
					    { "ready-fd", required_argument, NULL, 'R' },
					    { "fault", required_argument, NULL, 'f' },
					    { "reject", required_argument, NULL, 'r' },
					    { "delay-polls", required_argument, NULL, 'd' },
					    { "check-after", required_argument, NULL, 'c' },
					    { "bad-protection", no_argument, NULL, 'B' },
					    { "tls-cert", required_argument, NULL, 'C' },
					    { "tls-key", required_argument, NULL, 'K' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	const char *why;
	int r;
	while ((r = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (r == 'h')
			return usage(stdout), 1;
		if (r == '?')
			return usage(stderr), 2;
		if ((why = apply(r, optarg, o, ro)))
			return fprintf(stderr, "siths-test-ca: %s\n", why), 2;
	}
	if (!ro->listen_set || !o->pki_dir || optind < argc || (o->mac_secret && !*o->mac_secret) ||
	    !ro->tls_cert != !ro->tls_key) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* The numeric loopback address of l (cfg_parse_listen made it "127.0.0.1" or "::1"). */
static void sockaddr_of(const struct cfg_listen *l, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof *sa);
	if (strchr(l->addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l->port);
		inet_pton(AF_INET6, l->addr, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(l->port);
		inet_pton(AF_INET, l->addr, &s4->sin_addr);
	}
}

/* The whole of a PEM file, NUL-terminated (libmicrohttpd takes PEM in memory); NULL on error.
 * The caller frees (a key: wiped first). */
static char *read_pem(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? calloc(1, MAX_BODY + 1) : NULL;
	*len = buf ? fread(buf, 1, MAX_BODY, f) : 0;
	if (f)
		fclose(f);
	if (buf && (*len == 0 || *len == MAX_BODY)) {
		OPENSSL_cleanse(buf, MAX_BODY);
		free(buf);
		buf = NULL;
	}
	if (!buf)
		fprintf(stderr, "siths-test-ca: cannot read %s\n", path);
	return buf;
}

/* libmicrohttpd on the loopback address, HTTPS when cert and key are given. */
static struct MHD_Daemon *start_http(const struct cfg_listen *listen, const char *cert,
				     const char *key, struct cmpsrv *srv)
{
	struct sockaddr_storage sa;
	sockaddr_of(listen, &sa);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
		(sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (cert ? MHD_USE_TLS : 0);
	/* Without TLS the certificate options end the list early. */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, NULL,
				cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
				MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
}

static unsigned short bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : 0;
}

int main(int argc, char **argv)
{
	struct cmpsrv_opts o = { 0 };
	struct run_opts ro = { .ready_fd = -1 };
	struct cmpsrv *srv = NULL;
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int rc = parse(argc, argv, &o, &ro);
	if (rc) {
		rc = rc == 1 ? 0 : rc; /* --help is not an error */
		goto out;
	}
	rc = 1;
	if (ro.tls_cert &&
	    (!(cert = read_pem(ro.tls_cert, &cert_len)) || !(key = read_pem(ro.tls_key, &key_len))))
		goto out;
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	cmpsrv_err e = cmpsrv_new(&o, &srv);
	if (e) {
		fprintf(stderr, "siths-test-ca: %s: %s\n", o.pki_dir, cmpsrv_strerror(e));
		goto out;
	}
	if (!(d = start_http(&ro.listen, cert, key, srv))) {
		fprintf(stderr, "siths-test-ca: cannot listen on %s:%u\n", ro.listen.addr,
			ro.listen.port);
		goto out;
	}
	char where[80];
	cfg_listen_text(&ro.listen, bound_port(d), where, sizeof where);
	log_warn("cmp", "TEST CA (development certificates only), %s protection%s, fault %s",
		 o.mac_ref ? "MAC" : "signature",
		 o.bad_protection ? " spoilt on purpose (--bad-protection)" : "",
		 o.fault ? "on" : "none");
	fprintf(stderr, "siths-test-ca: listening on %s (%s)\n", where, cert ? "https" : "http");
	if (ro.ready_fd >= 0) {
		dprintf(ro.ready_fd, "%s\n", where);
		close(ro.ready_fd);
	}
	int sig;
	sigwait(&sigs, &sig);
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	cmpsrv_free(srv);
	if (ro.mac)
		OPENSSL_cleanse(ro.mac, ro.mac_len);
	free(ro.mac);
	if (key)
		OPENSSL_cleanse(key, key_len);
	free(key);
	free(cert);
	return rc;
}
