/* check.h — the doctor's check framework: a list of results, each {id, status, Swedish text,
 * English text, fix}, and its two renderers (human text in one language, JSON with both). A check
 * is a function that adds one or more results; it never prints. The list owns its results
 * (check_list_free); the JSON text is the caller's to free(). */
#ifndef SITHS_CHECK_H
#define SITHS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum check_status {
	CHECK_OK,   /* works */
	CHECK_INFO, /* worth knowing, not needed (no systemd, no Firefox profile) */
	CHECK_FAIL, /* something needed does not work: the fix says what to run */
};

#define CHECK_TEXT_LEN 640
#define CHECK_FIX_LEN 320

struct check_result {
	char id[40]; /* stable, for scripts: "pcscd", "port.https", "trust.nssdb", ... */
	enum check_status status;
	char text_sv[CHECK_TEXT_LEN];
	char text_en[CHECK_TEXT_LEN];
	char fix[CHECK_FIX_LEN]; /* a command to run; "" when nothing is to be done */
};

struct check_list {
	struct check_result *items;
	size_t n, cap;
};

enum check_lang { CHECK_SV, CHECK_EN };

/* A new result with this id (printf format), status OK and empty texts; NULL when out of memory
 * (the checks then add nothing more, and check_list_ok says false). */
struct check_result *check_add(struct check_list *l, const char *id_fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets the result's status and its Swedish text (printf format, cut at the buffer's size);
 * check_en its English text. A NULL r (out of memory) is ignored. */
void check_say(struct check_result *r, enum check_status st, const char *sv_fmt, ...)
	__attribute__((format(printf, 3, 4)));
void check_en(struct check_result *r, const char *en_fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets the fix (printf format). */
void check_fix(struct check_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when no result failed and none was lost to a lack of memory. */
bool check_list_ok(const struct check_list *l);

/* First result with this id, or NULL. */
const struct check_result *check_find(const struct check_list *l, const char *id);

/* One line per result ("[ OK ]", "[INFO]", "[FEL ]"/"[FAIL]"), the fix under a failure, and a
 * closing verdict, in lang. */
void check_render_text(const struct check_list *l, enum check_lang lang, FILE *f);

/* {"ok":bool,"lang":"sv"|"en","checks":[{"id","ok","status","text","text_sv","text_en",
 * "fix"}]}: one line, NUL-terminated, malloc'd; NULL when out of memory. */
char *check_render_json(const struct check_list *l, enum check_lang lang);

void check_list_free(struct check_list *l);

#endif
