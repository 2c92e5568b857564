/* check.c — the doctor's results and their renderers. The texts of both languages are kept for
 * every result, so JSON for a support person carries both whatever --lang was. */
#include "check.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct check_result *check_add(struct check_list *l, const char *id_fmt, ...)
{
	if (l->cap == (size_t)-1)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct check_result *n = realloc(l->items, cap * sizeof *n);
		if (!n) {
			l->cap = (size_t)-1; /* remembered: check_list_ok says false */
			return NULL;
		}
		l->items = n;
		l->cap = cap;
	}
	struct check_result *r = &l->items[l->n++];
	memset(r, 0, sizeof *r);
	va_list ap;
	va_start(ap, id_fmt);
	vsnprintf(r->id, sizeof r->id, id_fmt, ap);
	va_end(ap);
	r->status = CHECK_OK;
	return r;
}

void check_say(struct check_result *r, enum check_status st, const char *sv_fmt, ...)
{
	if (!r)
		return;
	va_list ap;
	va_start(ap, sv_fmt);
	vsnprintf(r->text_sv, sizeof r->text_sv, sv_fmt, ap);
	va_end(ap);
	r->status = st;
}

void check_en(struct check_result *r, const char *en_fmt, ...)
{
	if (!r)
		return;
	va_list ap;
	va_start(ap, en_fmt);
	vsnprintf(r->text_en, sizeof r->text_en, en_fmt, ap);
	va_end(ap);
}

void check_fix(struct check_result *r, const char *fmt, ...)
{
	if (!r)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->fix, sizeof r->fix, fmt, ap);
	va_end(ap);
}

bool check_list_ok(const struct check_list *l)
{
	if (l->cap == (size_t)-1)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].status == CHECK_FAIL)
			return false;
	return true;
}

const struct check_result *check_find(const struct check_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].id, id))
			return &l->items[i];
	return NULL;
}

static const char *status_word(enum check_status st)
{
	return st == CHECK_OK ? "ok" : st == CHECK_INFO ? "info" : "fail";
}

void check_render_text(const struct check_list *l, enum check_lang lang, FILE *f)
{
	bool sv = lang == CHECK_SV;
	for (size_t i = 0; i < l->n; i++) {
		const struct check_result *r = &l->items[i];
		const char *tag = r->status == CHECK_OK ? "[ OK ]"
			: r->status == CHECK_INFO       ? "[INFO]"
			: sv                            ? "[FEL ]"
							: "[FAIL]";
		fprintf(f, "%s %s\n", tag, sv ? r->text_sv : r->text_en);
		if (r->status == CHECK_FAIL && r->fix[0])
			fprintf(f, "       %s %s\n", sv ? "Åtgärd:" : "Fix:", r->fix);
	}
	if (check_list_ok(l))
		fputs(sv ? "Allt som behövs fungerar.\n" : "Everything needed works.\n", f);
	else
		fputs(sv ? "Något som behövs fungerar inte: se åtgärderna ovan.\n"
			 : "Something needed does not work: see the fixes above.\n",
		      f);
}

/* A JSON string of text; bytes that are not UTF-8 (a reader's name from a driver, a text cut in
 * the middle of a character) become '?' rather than losing the whole answer. */
static json_t *json_text(const char *text)
{
	json_t *j = json_string(text);
	if (j)
		return j;
	char copy[CHECK_TEXT_LEN];
	size_t i = 0;
	for (; text[i] && i < sizeof copy - 1; i++)
		copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	copy[i] = '\0';
	return json_string(copy);
}

char *check_render_json(const struct check_list *l, enum check_lang lang)
{
	char *out = NULL;
	json_t *arr = json_array();
	json_t *root = json_pack("{s:b,s:s}", "ok", check_list_ok(l), "lang",
				 lang == CHECK_SV ? "sv" : "en");
	if (!arr || !root)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		const struct check_result *r = &l->items[i];
		json_t *o = json_pack("{s:o,s:b,s:s,s:o,s:o,s:o,s:o}", "id", json_text(r->id), "ok",
				      r->status != CHECK_FAIL, "status", status_word(r->status),
				      "text", json_text(lang == CHECK_SV ? r->text_sv : r->text_en),
				      "text_sv", json_text(r->text_sv), "text_en",
				      json_text(r->text_en), "fix", json_text(r->fix));
		if (!o || json_array_append_new(arr, o))
			goto out;
	}
	if (json_object_set(root, "checks", arr))
		goto out;
	out = json_dumps(root, JSON_COMPACT);
out:
	json_decref(arr);
	json_decref(root);
	return out;
}

void check_list_free(struct check_list *l)
{
	if (!l)
		return;
	free(l->items);
	memset(l, 0, sizeof *l);
}
