/* policies.c — Chromium's, Chrome's and Firefox's managed policies for the configured portals.
 * Our Chromium file doubles as the record of what we wrote into Firefox's shared file: its
 * origins are the ones whose hosts we put there, so a changed configuration or a removal takes
 * out exactly ours, with no state file of our own. */
#define _GNU_SOURCE /* mkostemp */
#include "policies.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "toolcfg.h"

#define KEY_LOOPBACK "LoopbackNetworkAllowedForUrls"
#define KEY_LNA "LocalNetworkAccessAllowedForUrls"

const char *policies_strerror(policies_err e)
{
	switch (e) {
	case POLICIES_OK: return "ok";
	case POLICIES_E_ORIGIN: return "not an origin scheme://host[:port]";
	case POLICIES_E_PARSE: return "the existing policies file is not a JSON object";
	case POLICIES_E_IO: return "cannot write a policies file";
	case POLICIES_E_NOMEM: return "out of memory";
	}
	return "unknown error";
}

static void join(char *dst, const char *root, const char *path)
{
	snprintf(dst, PATH_MAX, "%s%s", root ? root : "", path);
}

void policies_paths_init(struct policies_paths *p, const char *root)
{
	join(p->chromium, root, "/etc/chromium/policies/managed/siths-bridge.json");
	join(p->chrome, root, "/etc/opt/chrome/policies/managed/siths-bridge.json");
	join(p->firefox_etc, root, "/etc/firefox/policies/policies.json");
	join(p->firefox_dist, root, "/usr/lib/firefox-esr/distribution/policies.json");
}

const char *policies_firefox_file(const struct policies_paths *p)
{
	if (access(p->firefox_etc, F_OK) != 0 && access(p->firefox_dist, F_OK) == 0)
		return p->firefox_dist;
	return p->firefox_etc;
}

static policies_err fail(policies_err e, char *why, size_t n, const char *what, const char *path)
{
	if (why && n)
		snprintf(why, n, "%s %s: %s", what, path,
			 e == POLICIES_E_IO ? strerror(errno) : policies_strerror(e));
	return e;
}

/* The host of "scheme://host[:port]" (an IPv6 literal with its brackets): Firefox's SkipDomains
 * names hosts. */
static bool origin_host(const char *origin, char *out, size_t n)
{
	const char *h = strstr(origin, "://");
	if (!cfg_origin_valid(origin) || !h)
		return false;
	h += 3;
	const char *end = *h == '[' ? strchr(h, ']') : strchr(h, ':');
	size_t len = end ? (size_t)(end - h) + (*h == '[') : strlen(h);
	if (len + 1 > n)
		return false;
	memcpy(out, h, len);
	out[len] = '\0';
	return true;
}

/* mkdir -p of path's folder, 0755 (browsers run as every user). */
static int make_parents(const char *path)
{
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s", path);
	for (char *s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(d, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return 0;
}

/* The file whole to path.XXXXXX in its folder, synced, then renamed over path. */
static int write_atomic(const char *path, const json_t *doc)
{
	char tmp[PATH_MAX + 8];
	char *text = json_dumps(doc, JSON_INDENT(2));
	int fd = -1, rc = -1;
	if (!text || make_parents(path))
		goto out;
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto out;
	size_t len = strlen(text);
	if (fchmod(fd, 0644) != 0 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(text);
	return rc;
}

static int remove_file(const char *path)
{
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* The origins we wrote last time: our Chromium file's list, or an empty array. */
static json_t *origins_written(const struct policies_paths *p)
{
	json_t *doc = json_load_file(p->chromium, JSON_REJECT_DUPLICATES, NULL);
	json_t *list = json_object_get(doc, KEY_LOOPBACK);
	json_t *out = json_is_array(list) ? json_deep_copy(list) : json_array();
	json_decref(doc);
	return out;
}

static json_t *host_array(const json_t *origins)
{
	json_t *hosts = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(origins, i, o)
	{
		char h[256];
		if (hosts && json_is_string(o) && origin_host(json_string_value(o), h, sizeof h))
			json_array_append_new(hosts, json_string(h));
	}
	return hosts;
}

static bool array_has(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* Our part of policies.LocalNetworkAccess.SkipDomains: old hosts out, new hosts in; emptied
 * objects go, so a removal leaves the file as it was before us. */
static void firefox_edit(json_t *doc, const json_t *old_hosts, const json_t *new_hosts)
{
	json_t *pol = json_object_get(doc, "policies");
	bool made_pol = !json_is_object(pol);
	if (made_pol) {
		pol = json_object();
		json_object_set_new(doc, "policies", pol);
	}
	json_t *lna = json_object_get(pol, "LocalNetworkAccess");
	if (!json_is_object(lna)) {
		lna = json_object();
		json_object_set_new(pol, "LocalNetworkAccess", lna);
	}
	json_t *skip = json_object_get(lna, "SkipDomains");
	if (!json_is_array(skip)) {
		skip = json_array();
		json_object_set_new(lna, "SkipDomains", skip);
	}
	for (size_t i = json_array_size(skip); i-- > 0;) {
		json_t *v = json_array_get(skip, i);
		if (json_is_string(v) && array_has(old_hosts, json_string_value(v)))
			json_array_remove(skip, i);
	}
	size_t i;
	json_t *h;
	json_array_foreach(new_hosts, i, h)
	{
		if (!array_has(skip, json_string_value(h)))
			json_array_append(skip, h);
	}
	if (json_array_size(skip) == 0)
		json_object_del(lna, "SkipDomains");
	if (json_object_size(lna) == 0)
		json_object_del(pol, "LocalNetworkAccess");
	if (made_pol && json_object_size(pol) == 0)
		json_object_del(doc, "policies");
}

static policies_err firefox_update(const struct policies_paths *p, const json_t *old_hosts,
				   const json_t *new_hosts, char *why, size_t why_n)
{
	const char *path = policies_firefox_file(p);
	policies_err e = POLICIES_OK;
	bool existed = access(path, F_OK) == 0;
	json_t *doc = existed ? json_load_file(path, JSON_REJECT_DUPLICATES, NULL) : json_object();
	json_t *before = NULL;
	json_t *pol0 = json_object_get(doc, "policies");
	json_t *lna0 = json_object_get(pol0, "LocalNetworkAccess");
	json_t *skip0 = json_object_get(lna0, "SkipDomains");
	if ((existed && !json_is_object(doc)) || (pol0 && !json_is_object(pol0)) ||
	    (lna0 && !json_is_object(lna0)) || (skip0 && !json_is_array(skip0))) {
		e = fail(POLICIES_E_PARSE, why, why_n, "Firefox policies", path);
		goto out;
	}
	if (!doc || !(before = json_deep_copy(doc))) {
		e = POLICIES_E_NOMEM;
		goto out;
	}
	firefox_edit(doc, old_hosts, new_hosts);
	json_t *pol = json_object_get(doc, "policies");
	bool empty = json_object_size(doc) == 0 ||
		(json_object_size(doc) == 1 && json_is_object(pol) && json_object_size(pol) == 0);
	if (existed ? json_equal(doc, before) : empty)
		goto out; /* nothing of ours to change: the file stays untouched */
	if (empty && existed ? remove_file(path) : write_atomic(path, doc))
		e = fail(POLICIES_E_IO, why, why_n, "writing", path);
out:
	json_decref(before);
	json_decref(doc);
	return e;
}

static json_t *chromium_doc(const json_t *origins)
{
	return json_pack("{s:O,s:O}", KEY_LOOPBACK, origins, KEY_LNA, origins);
}

static json_t *origin_array(char *const *origins, size_t n, policies_err *e)
{
	json_t *a = json_array();
	*e = a ? POLICIES_OK : POLICIES_E_NOMEM;
	for (size_t i = 0; a && i < n && !*e; i++) {
		if (!cfg_origin_valid(origins[i]))
			*e = POLICIES_E_ORIGIN;
		else if (!array_has(a, origins[i]) &&
			 json_array_append_new(a, json_string(origins[i])))
			*e = POLICIES_E_NOMEM;
	}
	return a;
}

/* Our two Chromium-family files: the list, or gone when it is empty. */
static policies_err chromium_update(const struct policies_paths *p, const json_t *origins,
				    char *why, size_t why_n)
{
	const char *files[] = { p->chromium, p->chrome };
	json_t *doc = chromium_doc(origins);
	policies_err e = doc ? POLICIES_OK : POLICIES_E_NOMEM;
	for (size_t i = 0; i < 2 && !e; i++) {
		json_t *cur = json_load_file(files[i], JSON_REJECT_DUPLICATES, NULL);
		bool same = cur && json_equal(cur, doc);
		json_decref(cur);
		if (json_array_size(origins) ? !same && write_atomic(files[i], doc)
					     : remove_file(files[i]))
			e = fail(POLICIES_E_IO, why, why_n, "writing", files[i]);
	}
	json_decref(doc);
	return e;
}

policies_err policies_write(const struct policies_paths *p, char *const *origins, size_t n,
			    char *why, size_t why_n)
{
	policies_err e;
	json_t *list = origin_array(origins, n, &e);
	json_t *old = origins_written(p);
	json_t *old_hosts = host_array(old);
	json_t *new_hosts = host_array(list);
	if (e) {
		fail(e, why, why_n, "allow-origin", "");
		goto out;
	}
	if (!old || !old_hosts || !new_hosts) {
		e = POLICIES_E_NOMEM;
		goto out;
	}
	/* Firefox first: its old entries are known only while our Chromium file still has them. */
	e = firefox_update(p, old_hosts, new_hosts, why, why_n);
	if (!e)
		e = chromium_update(p, list, why, why_n);
out:
	json_decref(list);
	json_decref(old);
	json_decref(old_hosts);
	json_decref(new_hosts);
	return e;
}

policies_err policies_remove(const struct policies_paths *p, char *why, size_t why_n)
{
	return policies_write(p, NULL, 0, why, why_n);
}

policies_err policies_print(const struct policies_paths *p, char *const *origins, size_t n, FILE *f)
{
	policies_err e;
	json_t *list = origin_array(origins, n, &e);
	json_t *hosts = host_array(list);
	json_t *chromium = list ? chromium_doc(list) : NULL;
	json_t *ff = json_pack("{s:{s:{s:O}}}", "policies", "LocalNetworkAccess", "SkipDomains",
			       hosts ? hosts : json_null());
	char *c = chromium ? json_dumps(chromium, JSON_INDENT(2)) : NULL;
	char *x = ff ? json_dumps(ff, JSON_INDENT(2)) : NULL;
	if (!e && (!c || !x))
		e = POLICIES_E_NOMEM;
	if (!e) {
		fprintf(f, "# %s\n# %s\n%s\n", p->chromium, p->chrome, c);
		fprintf(f, "# %s (merged: only LocalNetworkAccess.SkipDomains)\n%s\n",
			policies_firefox_file(p), x);
	}
	free(c);
	free(x);
	json_decref(list);
	json_decref(hosts);
	json_decref(chromium);
	json_decref(ff);
	return e;
}

static bool file_lists(const char *path, const char *key, const char *origin)
{
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	bool ok = array_has(json_object_get(doc, key), origin);
	json_decref(doc);
	return ok;
}

void policies_present(const struct policies_paths *p, const char *origin,
		      struct policies_presence *out)
{
	char host[256];
	out->chromium = file_lists(p->chromium, KEY_LOOPBACK, origin) &&
		file_lists(p->chromium, KEY_LNA, origin);
	out->chrome = file_lists(p->chrome, KEY_LOOPBACK, origin) &&
		file_lists(p->chrome, KEY_LNA, origin);
	out->firefox = false;
	if (origin_host(origin, host, sizeof host)) {
		json_t *doc =
			json_load_file(policies_firefox_file(p), JSON_REJECT_DUPLICATES, NULL);
		json_t *lna =
			json_object_get(json_object_get(doc, "policies"), "LocalNetworkAccess");
		out->firefox = array_has(json_object_get(lna, "SkipDomains"), host);
		json_decref(doc);
	}
}

static void usage(FILE *f)
{
	fputs("usage: siths-bridge policies --write|--print|--remove [--config FILE] [--root DIR]\n"
	      "Writes (or shows, or removes) the browsers' managed policies that let the portals\n"
	      "named by allow-origin in " TOOLCFG_SYSTEM_FILE " reach the bridge.\n",
	      f);
}

int policies_main(int argc, char **argv)
{
	static const struct option lo[] = { { "write", no_argument, NULL, 'w' },
					    { "print", no_argument, NULL, 'p' },
					    { "remove", no_argument, NULL, 'r' },
					    { "config", required_argument, NULL, 'c' },
					    { "root", required_argument, NULL, 'R' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	const char *config = NULL, *root = getenv("SITHS_POLICIES_ROOT");
	int action = 0, r, rc = 2;
	struct cfg c;
	cfg_init(&c);
	opterr = 0;
	optind = 1;
	while ((r = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (r == 'h') {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (r == 'c')
			config = optarg;
		else if (r == 'R')
			root = optarg;
		else if ((r == 'w' || r == 'p' || r == 'r') && !action)
			action = r;
		else
			goto bad;
	}
	if (!action || optind < argc)
		goto bad;
	if (action != 'r' && toolcfg_load(&c, config, false, "siths-bridge policies"))
		goto out;
	struct policies_paths p;
	char why[PATH_MAX + 128] = "";
	policies_paths_init(&p, root);
	policies_err e = action == 'p'
		? policies_print(&p, c.allow_origins, c.n_allow_origins, stdout)
		: action == 'w'
		? policies_write(&p, c.allow_origins, c.n_allow_origins, why, sizeof why)
		: policies_remove(&p, why, sizeof why);
	if (e)
		fprintf(stderr, "siths-bridge policies: %s\n", why[0] ? why : policies_strerror(e));
	rc = e ? 1 : 0;
	goto out;
bad:
	usage(stderr);
out:
	cfg_free(&c);
	return rc;
}
