/* health.c — the /health body, assembled from the daemon's own facts and the registered parts. */
#include "health.h"

#include "rest.h"

#ifndef SITHS_VERSION
#define SITHS_VERSION "0"
#endif

int health_add(struct health *h, const char *name, health_part_fn fn, void *user)
{
	if (h->n_parts >= HEALTH_MAX_PARTS)
		return -1;
	h->parts[h->n_parts].name = name;
	h->parts[h->n_parts].fn = fn;
	h->parts[h->n_parts].user = user;
	h->n_parts++;
	return 0;
}

static json_t *listener_json(const struct cfg_listen *l, unsigned short port)
{
	char buf[96];
	cfg_listen_text(l, port, buf, sizeof buf);
	return json_string(buf);
}

unsigned health_answer(const struct health *h, json_t **out)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	bool degraded = false;

	json_t *o = json_pack("{s:s,s:I,s:{s:o,s:o}}", "version", SITHS_VERSION, "uptime_s",
			      (json_int_t)(now.tv_sec - h->started.tv_sec), "listeners", "https",
			      listener_json(&h->cfg->https, h->https_port), "wss",
			      listener_json(&h->cfg->wss, h->wss_port));
	if (!o)
		return rest_fail(out, 500, "internal_error", "out of memory");
	json_object_set_new(json_object_get(o, "listeners"), "wss_clients",
			    json_integer(h->wss_clients ? h->wss_clients(h->wss_clients_user) : 0));
	for (size_t i = 0; i < h->n_parts; i++) {
		bool d = false;
		json_t *part = h->parts[i].fn(h->parts[i].user, &d);
		degraded |= d;
		json_object_set_new(o, h->parts[i].name, part ? part : json_null());
	}
	json_object_set_new(o, "status", json_string(degraded ? "degraded" : "ok"));
	*out = o;
	return 200;
}
