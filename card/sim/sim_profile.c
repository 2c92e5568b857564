/* sim_profile.c — default card profile (the seed's card) and the JSON card-file overrides.
 * The card file is untrusted input: every field is type- and length-checked. */
#include "sim_profile.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

static void set(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s);
}

static void split_holder(struct sim_profile *p)
{
	const char *sp = strchr(p->holder, ' ');
	if (sp) {
		snprintf(p->given_name, sizeof(p->given_name), "%.*s", (int)(sp - p->holder),
			 p->holder);
		set(p->surname, sizeof(p->surname), sp + 1);
	} else {
		set(p->given_name, sizeof(p->given_name), p->holder);
		set(p->surname, sizeof(p->surname), p->holder);
	}
}

void sim_profile_default(struct sim_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->card_type = SIM_CARD_ORDINARY;
	p->trust_level = 3;
	set(p->holder, sizeof(p->holder), "Olof Svensson Andersson");
	split_holder(p);
	set(p->organisation, sizeof(p->organisation), "Västra Götalandsregionen");
	set(p->hsa_id, sizeof(p->hsa_id), "TSTNMT2321000156-10XK");
	set(p->upn, sizeof(p->upn), "osa@test.se");
	set(p->email, sizeof(p->email), "cathrine.andersson@inera.se");
	set(p->card_number, sizeof(p->card_number), "9752269885715693047");
	set(p->valid_from, sizeof(p->valid_from), "2023-11-18");
	set(p->valid_to, sizeof(p->valid_to), "2028-09-30");
	set(p->pin1, sizeof(p->pin1), "123456");
	set(p->pin2, sizeof(p->pin2), "654321");
	set(p->puk, sizeof(p->puk), "12345678");
	p->pin2_activated = true;
}

void sim_profile_wipe(struct sim_profile *p)
{
	OPENSSL_cleanse(p, sizeof(*p));
}

/* Copies a JSON string member into dst; absent is fine, wrong type or too long is an error. */
static int str_field(json_t *o, const char *key, char *dst, size_t n, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= n ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "\"%s\" must be a non-empty string shorter than %zu bytes",
			 key, n);
		return -1;
	}
	set(dst, n, json_string_value(v));
	return 0;
}

static const char *const known[] = {
	"card_type",    "trust_level", "holder", "given_name",     "surname",
	"organisation", "hsa_id",      "upn",    "email",          "card_number",
	"valid_from",   "valid_to",    "pins",   "pin2_activated", "with_signature_certificate",
	"comment",      NULL
};

static int check_keys(json_t *o, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		size_t i = 0;
		while (known[i] && strcmp(known[i], k))
			i++;
		if (!known[i]) {
			snprintf(err, errlen, "unknown field \"%s\"", k);
			return -1;
		}
	}
	return 0;
}

static int load_pins(struct sim_profile *p, json_t *o, bool *pin2_given, char *err, size_t errlen)
{
	json_t *pins = json_object_get(o, "pins");
	if (!pins)
		return 0;
	if (!json_is_object(pins)) {
		snprintf(err, errlen, "\"pins\" must be an object");
		return -1;
	}
	*pin2_given = json_object_get(pins, "pin2") != NULL;
	if (str_field(pins, "pin1", p->pin1, sizeof(p->pin1), err, errlen) ||
	    str_field(pins, "pin2", p->pin2, sizeof(p->pin2), err, errlen) ||
	    str_field(pins, "puk", p->puk, sizeof(p->puk), err, errlen))
		return -1;
	return 0;
}

/* A JSON boolean member into *dst; absent is fine. */
static int bool_field(json_t *o, const char *key, bool *dst, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -1;
	}
	*dst = json_is_true(v);
	return 0;
}

static int load_obj(struct sim_profile *p, json_t *o, char *err, size_t errlen)
{
	char type[16] = "";
	bool holder_given, names_given, pin2_given = false;
	json_t *v;

	if (check_keys(o, err, errlen) ||
	    str_field(o, "card_type", type, sizeof(type), err, errlen) ||
	    str_field(o, "holder", p->holder, sizeof(p->holder), err, errlen) ||
	    str_field(o, "organisation", p->organisation, sizeof(p->organisation), err, errlen) ||
	    str_field(o, "hsa_id", p->hsa_id, sizeof(p->hsa_id), err, errlen) ||
	    str_field(o, "upn", p->upn, sizeof(p->upn), err, errlen) ||
	    str_field(o, "email", p->email, sizeof(p->email), err, errlen) ||
	    str_field(o, "card_number", p->card_number, sizeof(p->card_number), err, errlen) ||
	    str_field(o, "valid_from", p->valid_from, sizeof(p->valid_from), err, errlen) ||
	    str_field(o, "valid_to", p->valid_to, sizeof(p->valid_to), err, errlen))
		return -1;
	holder_given = json_object_get(o, "holder") != NULL;
	names_given = json_object_get(o, "given_name") || json_object_get(o, "surname");
	if (holder_given)
		split_holder(p);
	if (names_given &&
	    (str_field(o, "given_name", p->given_name, sizeof(p->given_name), err, errlen) ||
	     str_field(o, "surname", p->surname, sizeof(p->surname), err, errlen)))
		return -1;
	if (type[0]) {
		if (!strcmp(type, "ordinary"))
			p->card_type = SIM_CARD_ORDINARY;
		else if (!strcmp(type, "reserve"))
			p->card_type = SIM_CARD_RESERVE;
		else {
			snprintf(err, errlen, "\"card_type\" must be \"ordinary\" or \"reserve\"");
			return -1;
		}
	}
	if ((v = json_object_get(o, "trust_level"))) {
		if (!json_is_integer(v)) {
			snprintf(err, errlen, "\"trust_level\" must be 2 or 3");
			return -1;
		}
		p->trust_level = (int)json_integer_value(v);
	}
	if (bool_field(o, "with_signature_certificate", &p->with_signature_certificate, err,
		       errlen) ||
	    bool_field(o, "pin2_activated", &p->pin2_activated, err, errlen) ||
	    load_pins(p, o, &pin2_given, err, errlen))
		return -1;
	/* A reserve card whose letter holds two codes uses the login code as signature code. */
	if (p->card_type == SIM_CARD_RESERVE && !pin2_given)
		set(p->pin2, sizeof(p->pin2), p->pin1);
	return 0;
}

enum sim_err sim_profile_load(struct sim_profile *p, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	enum sim_err rc = SIM_E_FORMAT;

	if (!o) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return SIM_E_FORMAT;
	}
	if (!json_is_object(o))
		snprintf(err, errlen, "%s: the card file must be a JSON object", path);
	else if (load_obj(p, o, err, errlen) == 0)
		rc = SIM_OK;
	json_decref(o);
	return rc;
}

static bool digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool date_ok(const char *s)
{
	int y, m, d;
	char tail;
	return strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
		sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 1950 && y <= 2049 &&
		m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

enum sim_err sim_profile_check(const struct sim_profile *p, char *err, size_t errlen)
{
	const char *bad = NULL;
	if (p->trust_level != 2 && p->trust_level != 3)
		bad = "trust_level must be 2 or 3";
	else if (!digits(p->card_number, 19, 19))
		bad = "card_number must be 19 digits";
	else if (!date_ok(p->valid_from) || !date_ok(p->valid_to))
		bad = "valid_from/valid_to must be YYYY-MM-DD";
	else if (strcmp(p->valid_from, p->valid_to) >= 0)
		bad = "valid_from must be before valid_to";
	else if (!digits(p->pin1, 6, 8) || !digits(p->pin2, 6, 8))
		bad = "pin1 and pin2 must be 6 to 8 digits";
	else if (!digits(p->puk, 8, 8))
		bad = "puk must be 8 digits";
	else if (!p->pin2_activated &&
		 (p->card_type != SIM_CARD_RESERVE || p->with_signature_certificate))
		bad = "pin2_activated false is a reserve card's state before its first signature "
		      "certificate: "
		      "needs card_type reserve and no with_signature_certificate";
	else if (!p->holder[0] || !p->given_name[0] || !p->surname[0] || !p->organisation[0] ||
		 !p->hsa_id[0] || !p->upn[0] || !p->email[0])
		bad = "holder, organisation, hsa_id, upn and email must not be empty";
	if (bad) {
		snprintf(err, errlen, "%s", bad);
		return SIM_E_ARG;
	}
	return SIM_OK;
}
