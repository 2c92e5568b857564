/* test_policies.c — the browsers' managed policies in a temporary root: the Chromium and Chrome
 * files, Firefox's shared file merged (other policies kept, our domains replaced when the
 * portals change, removed exactly), which Firefox file is in effect, idempotence, a malformed
 * existing file left untouched, an invalid origin refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "policies.h"

static char root[] = "/tmp/test_policies.XXXXXX";
static struct policies_paths P;

static void put(const char *path, const char *text)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *load(const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

static int setup(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", root, root);
	assert_int_equal(system(cmd), 0);
	policies_paths_init(&P, root);
	return 0;
}

static void chromium_files(void **state)
{
	(void)state;
	char *o[] = { "https://portal.example.org", "https://vard.example:8443" };
	char why[256];
	assert_int_equal(policies_write(&P, o, 2, why, sizeof why), POLICIES_OK);
	const char *files[] = { P.chromium, P.chrome };
	for (int i = 0; i < 2; i++) {
		json_t *j = load(files[i]);
		json_t *want = json_pack("{s:[s,s],s:[s,s]}", "LoopbackNetworkAllowedForUrls", o[0],
					 o[1], "LocalNetworkAccessAllowedForUrls", o[0], o[1]);
		assert_true(json_equal(j, want));
		json_decref(j);
		json_decref(want);
		struct stat st;
		assert_int_equal(stat(files[i], &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);
	}
	struct policies_presence pr;
	policies_present(&P, o[1], &pr);
	assert_true(pr.chromium && pr.chrome && pr.firefox);
	policies_present(&P, "https://elsewhere.example", &pr);
	assert_false(pr.chromium || pr.chrome || pr.firefox);
}

static void firefox_merge_and_replace(void **state)
{
	(void)state;
	put(P.firefox_etc,
	    "{\"policies\":{\"DisableTelemetry\":true,\"LocalNetworkAccess\":"
	    "{\"Enabled\":true,\"SkipDomains\":[\"intranet.example\"]}}}");
	char *a[] = { "https://portal.example.org" }, *b[] = { "https://other.example" };
	char why[256];
	assert_int_equal(policies_write(&P, a, 1, why, sizeof why), POLICIES_OK);
	json_t *j = load(P.firefox_etc);
	json_t *want = json_pack("{s:{s:b,s:{s:b,s:[s,s]}}}", "policies", "DisableTelemetry", 1,
				 "LocalNetworkAccess", "Enabled", 1, "SkipDomains",
				 "intranet.example", "portal.example.org");
	assert_true(json_equal(j, want));
	json_decref(j);
	json_decref(want);
	/* The portals changed: the old one's domain goes, the admin's stays. */
	assert_int_equal(policies_write(&P, b, 1, why, sizeof why), POLICIES_OK);
	j = load(P.firefox_etc);
	json_t *skip = json_object_get(
		json_object_get(json_object_get(j, "policies"), "LocalNetworkAccess"),
		"SkipDomains");
	assert_int_equal(json_array_size(skip), 2);
	assert_string_equal(json_string_value(json_array_get(skip, 0)), "intranet.example");
	assert_string_equal(json_string_value(json_array_get(skip, 1)), "other.example");
	json_decref(j);
	/* Removed: the file as it was before us; our own files gone. */
	assert_int_equal(policies_remove(&P, why, sizeof why), POLICIES_OK);
	j = load(P.firefox_etc);
	want = json_pack("{s:{s:b,s:{s:b,s:[s]}}}", "policies", "DisableTelemetry", 1,
			 "LocalNetworkAccess", "Enabled", 1, "SkipDomains", "intranet.example");
	assert_true(json_equal(j, want));
	json_decref(j);
	json_decref(want);
	assert_int_not_equal(access(P.chromium, F_OK), 0);
	assert_int_not_equal(access(P.chrome, F_OK), 0);
}

static void firefox_file_in_effect(void **state)
{
	(void)state;
	char *a[] = { "https://portal.example.org" };
	char why[256];
	/* Only a distribution file: that one is merged, no etc file is made (it would hide it). */
	put(P.firefox_dist, "{\"policies\":{\"DisableAppUpdate\":true}}");
	assert_string_equal(policies_firefox_file(&P), P.firefox_dist);
	assert_int_equal(policies_write(&P, a, 1, why, sizeof why), POLICIES_OK);
	assert_int_not_equal(access(P.firefox_etc, F_OK), 0);
	json_t *j = load(P.firefox_dist);
	assert_true(
		json_is_true(json_object_get(json_object_get(j, "policies"), "DisableAppUpdate")));
	json_decref(j);
	/* Neither: the etc file is made, and a removal takes it away again. */
	unlink(P.firefox_dist);
	assert_string_equal(policies_firefox_file(&P), P.firefox_etc);
	assert_int_equal(policies_write(&P, a, 1, why, sizeof why), POLICIES_OK);
	assert_int_equal(access(P.firefox_etc, F_OK), 0);
	assert_int_equal(policies_remove(&P, why, sizeof why), POLICIES_OK);
	assert_int_not_equal(access(P.firefox_etc, F_OK), 0);
}

static void idempotent(void **state)
{
	(void)state;
	char *a[] = { "https://portal.example.org", "https://portal.example.org" };
	char why[256];
	assert_int_equal(policies_write(&P, a, 2, why, sizeof why), POLICIES_OK);
	struct stat s1, s2;
	assert_int_equal(stat(P.firefox_etc, &s1), 0);
	json_t *j1 = load(P.firefox_etc), *c1 = load(P.chromium);
	assert_int_equal(json_array_size(json_object_get(c1, "LoopbackNetworkAllowedForUrls")), 1);
	assert_int_equal(policies_write(&P, a, 2, why, sizeof why), POLICIES_OK);
	assert_int_equal(stat(P.firefox_etc, &s2), 0);
	assert_int_equal(s1.st_ino, s2.st_ino); /* not rewritten: nothing changed */
	json_t *j2 = load(P.firefox_etc);
	assert_true(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
	json_decref(c1);
}

static void bad_input_loses_nothing(void **state)
{
	(void)state;
	const char *broken = "{\"policies\": [1, 2";
	put(P.firefox_etc, broken);
	char *a[] = { "https://portal.example.org" },
	     *bad[] = { "https://portal.example.org/path" };
	char why[512] = "";
	assert_int_equal(policies_write(&P, a, 1, why, sizeof why), POLICIES_E_PARSE);
	assert_non_null(strstr(why, P.firefox_etc));
	FILE *f = fopen(P.firefox_etc, "r");
	char buf[64] = "";
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, broken);
	assert_int_not_equal(access(P.chromium, F_OK), 0);
	/* A "policies" that is not an object is not ours to replace either. */
	put(P.firefox_etc, "{\"policies\":[]}");
	assert_int_equal(policies_write(&P, a, 1, why, sizeof why), POLICIES_E_PARSE);
	unlink(P.firefox_etc);
	assert_int_equal(policies_write(&P, bad, 1, why, sizeof why), POLICIES_E_ORIGIN);
	assert_int_not_equal(access(P.firefox_etc, F_OK), 0);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(chromium_files, setup),
		cmocka_unit_test_setup(firefox_merge_and_replace, setup),
		cmocka_unit_test_setup(firefox_file_in_effect, setup),
		cmocka_unit_test_setup(idempotent, setup),
		cmocka_unit_test_setup(bad_input_loses_nothing, setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
