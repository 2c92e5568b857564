/* guard.c — Host and Origin checks (DNS-rebinding and cross-origin defence).
 * Exact string comparisons only: a value is accepted when it is one of a few known spellings,
 * never because a parser found it "close enough". Host names compare case-insensitively. */
#include "guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N_OWN 3

const char *guard_strerror(guard_err v)
{
	switch (v) {
	case GUARD_OK: return "ok";
	case GUARD_E_BAD_HOST: return "Host must be 127.0.0.1, localhost or [::1] with this port";
	case GUARD_E_NO_ORIGIN: return "Origin header required";
	case GUARD_E_NULL_ORIGIN: return "Origin null is not allowed";
	case GUARD_E_FOREIGN_ORIGIN: return "Origin is not allowed";
	}
	return "unknown verdict";
}

const char *guard_code(guard_err v)
{
	switch (v) {
	case GUARD_OK: return "ok";
	case GUARD_E_BAD_HOST: return "bad_host";
	case GUARD_E_NO_ORIGIN: return "origin_required";
	case GUARD_E_NULL_ORIGIN:
	case GUARD_E_FOREIGN_ORIGIN: return "origin_not_allowed";
	}
	return "internal_error";
}

static const char *const own_hosts[N_OWN] = { "127.0.0.1", "localhost", "[::1]" };

void guard_origins_free(struct guard_origins *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->list[i]);
	free(g->list);
	g->list = NULL;
	g->n = 0;
}

int guard_origins_init(struct guard_origins *g, unsigned short https_port, char *const *extra,
		       size_t n_extra)
{
	g->n = 0;
	if (!(g->list = calloc(N_OWN + n_extra, sizeof *g->list)))
		return -1;
	for (size_t i = 0; i < N_OWN + n_extra; i++) {
		char buf[300];
		if (i < N_OWN)
			snprintf(buf, sizeof buf, "https://%s:%u", own_hosts[i], https_port);
		else if (snprintf(buf, sizeof buf, "%s", extra[i - N_OWN]) >= (int)sizeof buf)
			continue; /* cannot match any Origin a browser sends */
		if (!(g->list[g->n] = strdup(buf))) {
			guard_origins_free(g);
			return -1;
		}
		g->n++;
	}
	return 0;
}

/* "NAME:PORT" with NAME one of ours (any case) and PORT exactly the decimal port. */
static bool host_matches(const char *host, const char *name, unsigned short port)
{
	size_t nl = strlen(name);
	if (strncasecmp(host, name, nl) != 0)
		return false;
	const char *rest = host + nl;
	/* The default port may be left out, as browsers do. */
	if (*rest == '\0')
		return port == 443;
	char want[8];
	snprintf(want, sizeof want, ":%u", port);
	return strcmp(rest, want) == 0;
}

guard_err guard_check_host(const char *host, unsigned short port)
{
	if (!host)
		return GUARD_E_BAD_HOST;
	for (size_t i = 0; i < N_OWN; i++)
		if (host_matches(host, own_hosts[i], port))
			return GUARD_OK;
	return GUARD_E_BAD_HOST;
}

guard_err guard_check_origin(const struct guard_origins *g, const char *origin,
			     bool origin_required)
{
	if (!origin)
		return origin_required ? GUARD_E_NO_ORIGIN : GUARD_OK;
	if (strcmp(origin, "null") == 0)
		return GUARD_E_NULL_ORIGIN;
	for (size_t i = 0; g && i < g->n; i++)
		if (strcasecmp(origin, g->list[i]) == 0)
			return GUARD_OK;
	return GUARD_E_FOREIGN_ORIGIN;
}
