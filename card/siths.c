/* siths.c — builds the card model from a PKCS#15 card: locate the application, read the
 * directory files, pick the authentication and signing keys, their PINs and certificates, and
 * read the certificates with OpenSSL. Every byte from the card is untrusted; a signature
 * certificate that does not parse or does not match the signing key is reported as absent. */
#include "siths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "iso.h"
#include "p15.h"

/* Everything read from one card while building its model. */
struct rd {
	const struct apdu_transport *t;
	struct card_model *m;
	struct p15_app app;
	struct p15_odf odf;
	struct p15_tokeninfo ti;
	struct p15_aodf aodf;
	struct p15_keys prk, puk;
	struct p15_cdf cdf;
	const struct p15_key *auth_key, *sign_key;
	const struct p15_path *pukdf;  /* in odf; read on demand */
	const struct p15_path *pin_df; /* the DF the last PIN status was asked in */
	bool keep_auth;                /* keep the authentication certificate's DER for a layout */
	uint8_t *auth_der;             /* that DER (malloc'd) once read */
	size_t auth_der_len;
};

/* Transport-level errors end the read at once: the card is gone or was reset. */
static bool fatal(card_err e)
{
	return e == CARD_E_REMOVED || e == CARD_E_RESET || e == CARD_E_NO_SERVICE ||
		e == CARD_E_NO_READER || e == CARD_E_NO_CARD || e == CARD_E_CANCELLED ||
		e == CARD_E_NOMEM || e == CARD_E_COMM || e == CARD_E_SHARING;
}

static card_err fail(struct rd *r, card_err e, const char *what, const char *why)
{
	if (fatal(e) && e != CARD_E_COMM)
		return e;
	r->m->status = CARD_STATUS_ERROR;
	r->m->error = e;
	snprintf(r->m->error_detail, sizeof(r->m->error_detail), "%s: %s", what,
		 why ? why : card_strerror(e));
	return e;
}

/* Copies text into the model as valid UTF-8 without control characters (the page and JSON
 * must never see invalid sequences from a card). */
static void put_text(char *dst, size_t cap, const unsigned char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < cap;) {
		unsigned char c = s[i];
		size_t len = c < 0x80        ? 1
			: (c & 0xE0) == 0xC0 ? 2
			: (c & 0xF0) == 0xE0 ? 3
			: (c & 0xF8) == 0xF0 ? 4
					     : 0;
		bool ok = len && i + len <= n && !(len == 1 && c < 0x20) && !(len == 2 && c < 0xC2);
		for (size_t j = 1; ok && j < len; j++)
			ok = (s[i + j] & 0xC0) == 0x80;
		if (!ok) {
			dst[k++] = '?';
			i++;
			continue;
		}
		memcpy(dst + k, s + i, len);
		k += len;
		i += len;
	}
	dst[k] = 0;
}

/* ---- card I/O ---- */

card_err siths_select(const struct apdu_transport *t, const struct p15_app *app,
		      const struct p15_path *p, struct iso_file *fi)
{
	if (p15_path_absolute(p))
		return iso_select_path(t, p->b, p->len, fi);
	if (app->path.len) {
		struct p15_path full = app->path;
		if (full.len + p->len > sizeof(full.b))
			return CARD_E_BAD_DATA;
		memcpy(full.b + full.len, p->b, p->len);
		full.len += p->len;
		return iso_select_path(t, full.b, full.len, fi);
	}
	card_err e = siths_select_app(t, app);
	return e ? e : iso_select_rel(t, p->b, p->len, fi);
}

card_err siths_select_app(const struct apdu_transport *t, const struct p15_app *app)
{
	if (app->path.len)
		return iso_select_path(t, app->path.b, app->path.len, NULL);
	return iso_select_aid(t, app->aid, app->aid_len);
}

static card_err select_obj(struct rd *r, const struct p15_path *p, struct iso_file *fi)
{
	return siths_select(r->t, &r->app, p, fi);
}

/* Reads the object at p up to the end of its DER content (kind), not to the end of a padded EF. */
static card_err read_obj(struct rd *r, const struct p15_path *p, enum iso_der kind, uint8_t **buf,
			 size_t *len)
{
	struct iso_file fi;
	card_err e = select_obj(r, p, &fi);
	if (e)
		return e;
	return iso_read_der(r->t, &fi, p->has_range ? p->index : 0, p->has_range ? p->length : 0,
			    kind, buf, len);
}

static void path_name(const struct p15_path *p, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < p->len && k + 3 < cap; i++)
		k += (size_t)snprintf(out + k, cap - k, "%02X", p->b[i]);
	out[k] = 0;
}

typedef der_err (*parse_fn)(const uint8_t *p, size_t n, void *out);

/* Reads the object at p and parses it; errors name the file. */
static card_err read_parse(struct rd *r, const char *what, const struct p15_path *p,
			   enum iso_der kind, parse_fn parse, void *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char name[80], pn[2 * P15_PATH_MAX + 1];
	path_name(p, pn, sizeof(pn));
	snprintf(name, sizeof(name), "%s (%s)", what, pn);
	card_err e = read_obj(r, p, kind, &buf, &len);
	if (e) {
		free(buf);
		return fail(r, e, name, NULL);
	}
	der_err de = parse(buf, len, out);
	free(buf);
	return de ? fail(r, CARD_E_BAD_DATA, name, der_strerror(de)) : CARD_OK;
}

/* Adapters: the p15 parsers with a uniform signature. */
static der_err parse_odf(const uint8_t *p, size_t n, void *out)
{
	return p15_parse_odf(p, n, out);
}
static der_err parse_ti(const uint8_t *p, size_t n, void *out)
{
	return p15_parse_tokeninfo(p, n, out);
}
static der_err parse_aodf(const uint8_t *p, size_t n, void *out)
{
	return p15_parse_aodf(p, n, out);
}
static der_err parse_prkdf(const uint8_t *p, size_t n, void *out)
{
	return p15_parse_prkdf(p, n, out);
}
static der_err parse_pukdf(const uint8_t *p, size_t n, void *out)
{
	return p15_parse_pukdf(p, n, out);
}
static der_err parse_cdf(const uint8_t *p, size_t n, void *out)
{
	return p15_parse_cdf(p, n, out);
}

/* EF.DIR is optional, and may list no PKCS#15 application: then select by the standard AID. */
static card_err find_app(struct rd *r)
{
	static const struct p15_path dir = { .b = { 0x3F, 0x00, 0x2F, 0x00 }, .len = 4 };
	uint8_t *buf = NULL;
	size_t len = 0;
	card_err e = read_obj(r, &dir, ISO_DER_SEQ, &buf, &len);
	der_err de = e ? DER_E_MISSING : p15_parse_dir(buf, len, p15_aid, sizeof(p15_aid), &r->app);
	free(buf);
	if (e && e != CARD_E_FILE_NOT_FOUND)
		return fail(r, e, "EF.DIR (3F002F00)", NULL);
	if (de && de != DER_E_MISSING)
		return fail(r, CARD_E_BAD_DATA, "EF.DIR (3F002F00)", der_strerror(de));
	if (de) {
		memset(&r->app, 0, sizeof(r->app));
		memcpy(r->app.aid, p15_aid, sizeof(p15_aid));
		r->app.aid_len = sizeof(p15_aid);
	}
	return CARD_OK;
}

static card_err read_dfs(struct rd *r)
{
	static const struct p15_path odf = { .b = { 0x50, 0x31 }, .len = 2 };
	static const struct p15_path ti = { .b = { 0x50, 0x32 }, .len = 2 };
	card_err e = read_parse(r, "EF.ODF", &odf, ISO_DER_SEQ, parse_odf, &r->odf);
	if (!e)
		e = read_parse(r, "EF.TokenInfo", &ti, ISO_DER_ONE, parse_ti, &r->ti);
	for (size_t i = 0; i < r->odf.n && !e; i++) {
		const struct p15_path *p = &r->odf.e[i].path;
		switch (r->odf.e[i].kind) {
		case P15_DF_AODF:
			e = read_parse(r, "EF.AODF", p, ISO_DER_SEQ, parse_aodf, &r->aodf);
			break;
		case P15_DF_PRKDF:
			e = read_parse(r, "EF.PrKDF", p, ISO_DER_SEQ, parse_prkdf, &r->prk);
			break;
		case P15_DF_PUKDF:
			r->pukdf = p;
			break; /* read only if a signature certificate needs it */
		case P15_DF_CDF:
			e = read_parse(r, "EF.CDF", p, ISO_DER_SEQ, parse_cdf, &r->cdf);
			break;
		default:
			break; /* trusted/useful certificates, data objects: not part of the model */
		}
	}
	return e;
}

/* ---- TokenInfo → card number and type ---- */

static void token_fields(struct rd *r)
{
	struct card_model *m = r->m;
	const struct p15_tokeninfo *ti = &r->ti;
	bool printable = ti->serial_len > 0;
	for (size_t i = 0; i < ti->serial_len; i++)
		printable = printable && ti->serial[i] >= 0x21 && ti->serial[i] < 0x7F;
	if (printable) {
		memcpy(m->card_number, ti->serial, ti->serial_len); /* serial_len < sizeof */
		m->card_number[ti->serial_len] = 0;
	} else {
		size_t k = 0;
		for (size_t i = 0; i < ti->serial_len && k + 3 < sizeof(m->card_number); i++)
			k += (size_t)snprintf(m->card_number + k, sizeof(m->card_number) - k,
					      "%02X", ti->serial[i]);
	}
	put_text(m->token_label, sizeof(m->token_label), (const unsigned char *)ti->label,
		 strlen(ti->label));
	put_text(m->manufacturer, sizeof(m->manufacturer), (const unsigned char *)ti->manufacturer,
		 strlen(ti->manufacturer));
	m->type = strstr(ti->label, "Reserv") ? CARD_TYPE_RESERVE : CARD_TYPE_ORDINARY;
}

/* ---- keys and PINs ---- */

static void pick_keys(struct rd *r)
{
	for (size_t i = 0; i < r->prk.n; i++) {
		const struct p15_key *k = &r->prk.o[i];
		if (k->usage & P15_USE_NONREP) {
			if (!r->sign_key)
				r->sign_key = k;
		} else if ((k->usage & (P15_USE_SIGN | P15_USE_SIGN_RECOVER | P15_USE_DECRYPT)) &&
			   !r->auth_key) {
			r->auth_key = k;
		}
	}
	r->m->sign_key_present = r->sign_key != NULL;
}

static bool path_eq(const struct p15_path *a, const struct p15_path *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static const struct p15_pin *pin_by_id(const struct rd *r, const struct p15_id *id)
{
	for (size_t i = 0; id && i < r->aodf.n; i++)
		if (p15_id_eq(&r->aodf.o[i].auth_id, id))
			return &r->aodf.o[i];
	return NULL;
}

/* The n-th (0-based) user PIN of the AODF: the fallback when keys do not name their PIN. */
static const struct p15_pin *nth_user_pin(const struct rd *r, int n)
{
	for (size_t i = 0; i < r->aodf.n; i++)
		if (!(r->aodf.o[i].flags & (P15_PIN_UNBLOCKING | P15_PIN_SO)) && n-- == 0)
			return &r->aodf.o[i];
	return NULL;
}

static const struct p15_pin *find_puk(const struct rd *r, const struct p15_pin *pin1)
{
	const struct p15_pin *p = pin1 ? pin_by_id(r, &pin1->c.auth_id) : NULL;
	if (p)
		return p;
	for (size_t i = 0; i < r->aodf.n; i++)
		if (r->aodf.o[i].flags & P15_PIN_UNBLOCKING)
			return &r->aodf.o[i];
	return NULL;
}

/* PIN1 = the authentication key's PIN, PIN2 = the signing key's (else the AODF's first two user
 * PINs), the PUK = the one that unblocks PIN1. */
static void pick_pins(const struct rd *r, const struct p15_pin **p1, const struct p15_pin **p2,
		      const struct p15_pin **puk)
{
	*p1 = r->auth_key ? pin_by_id(r, &r->auth_key->c.auth_id) : NULL;
	*p2 = r->sign_key ? pin_by_id(r, &r->sign_key->c.auth_id) : NULL;
	if (!*p1)
		*p1 = nth_user_pin(r, 0);
	if (!*p2)
		*p2 = nth_user_pin(r, *p1 == nth_user_pin(r, 0) ? 1 : 0);
	*puk = find_puk(r, *p1);
}

static unsigned pin_max_len(const struct p15_pin *p)
{
	return p->max_len ? p->max_len : p->stored_len;
}

/* Copies the AODF data and asks the card for the counter. Only transport errors are returned:
 * a card that does not support the empty VERIFY just leaves tries_left unknown. */
static card_err pin_state(struct rd *r, const struct p15_pin *p, struct card_pin *out)
{
	memset(out, 0, sizeof(*out));
	out->tries_left = -1;
	if (!p)
		return CARD_OK;
	out->present = true;
	out->activated = true;
	put_text(out->label, sizeof(out->label), (const unsigned char *)p->c.label,
		 strlen(p->c.label));
	memcpy(out->last_change, p->last_change, sizeof(out->last_change));
	out->ref = (unsigned char)p->ref;
	out->min_len = p->min_len;
	out->max_len = pin_max_len(p);
	if (!p->has_ref || p->ref > 0xFF)
		return CARD_OK;
	/* The PINs usually share one DF: select it once (VERIFY does not change the current DF). */
	bool same = p->has_path && r->pin_df && path_eq(r->pin_df, &p->path);
	card_err e = p->has_path && !same ? select_obj(r, &p->path, NULL) : CARD_OK;
	if (fatal(e))
		return e;
	r->pin_df = p->has_path && !e ? &p->path : NULL;
	struct iso_pin_status st;
	e = iso_pin_status(r->t, (uint8_t)p->ref, &st);
	if (fatal(e))
		return e;
	if (!e) {
		out->tries_left = st.tries_left;
		out->blocked = st.blocked;
		out->verified = st.verified;
		out->activated = st.activated;
	}
	return CARD_OK;
}

static card_err read_pins(struct rd *r)
{
	const struct p15_pin *p1, *p2, *puk;
	pick_pins(r, &p1, &p2, &puk);
	card_err e = pin_state(r, p1, &r->m->pin1);
	if (!e)
		e = pin_state(r, p2, &r->m->pin2);
	if (!e)
		e = pin_state(r, puk, &r->m->puk);
	return e;
}

/* ---- certificates ---- */

int siths_trust_level(const char *oid)
{
	static const char prefix[] = "2.999.752.1.";
	size_t n = sizeof(prefix) - 1;
	if (strncmp(oid, prefix, n) || oid[n] < '1' || oid[n] > '4' || oid[n + 1])
		return 0;
	return oid[n] - '0';
}

static void name_field(X509_NAME *name, int nid, char *out, size_t cap)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *u = NULL;
	int n = i < 0
		? -1
		: ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n >= 0)
		put_text(out, cap, u, (size_t)n);
	OPENSSL_free(u);
}

static void date(const ASN1_TIME *t, char *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	out[0] = 0;
	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, CARD_DATE_LEN, "%Y-%m-%d", &tm);
}

static void alt_names(X509 *x, struct card_cert_info *ci)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_EMAIL && !ci->email[0]) {
			put_text(ci->email, sizeof(ci->email),
				 ASN1_STRING_get0_data(g->d.rfc822Name),
				 (size_t)ASN1_STRING_length(g->d.rfc822Name));
		} else if (g->type == GEN_OTHERNAME &&
			   OBJ_obj2nid(g->d.otherName->type_id) == NID_ms_upn &&
			   g->d.otherName->value->type == V_ASN1_UTF8STRING && !ci->upn[0]) {
			const ASN1_UTF8STRING *s = g->d.otherName->value->value.utf8string;
			put_text(ci->upn, sizeof(ci->upn), ASN1_STRING_get0_data(s),
				 (size_t)ASN1_STRING_length(s));
		}
	}
	GENERAL_NAMES_free(gens);
}

static int policy_level(X509 *x)
{
	CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	int level = 0;
	for (int i = 0; pol && i < sk_POLICYINFO_num(pol) && !level; i++) {
		char oid[80];
		if (OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(pol, i)->policyid, 1) > 0)
			level = siths_trust_level(oid);
	}
	CERTIFICATEPOLICIES_free(pol);
	return level;
}

/* Skips leading zero bytes of a big-endian number. */
static const uint8_t *no_zeros(const uint8_t *p, size_t *n)
{
	while (*n && !*p)
		p++, (*n)--;
	return p;
}

void siths_key_id(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
		  unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	n = no_zeros(n, &n_len);
	e = no_zeros(e, &e_len);
	const uint8_t len[2] = { (uint8_t)(n_len >> 8), (uint8_t)n_len };
	/* Only out of memory fails: the identity is then all zero, which certifies no key. */
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, len, sizeof(len)) != 1 || EVP_DigestUpdate(c, n, n_len) != 1 ||
	    EVP_DigestUpdate(c, e, e_len) != 1 || EVP_DigestFinal_ex(c, out, NULL) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(c);
}

/* The certified key's identity (model.h); left zero for a key that is not RSA. */
static void cert_key_id(X509 *x, unsigned char out[32])
{
	const EVP_PKEY *pk = X509_get0_pubkey(x);
	BIGNUM *n = NULL, *e = NULL;
	uint8_t nb[1024], eb[16];
	if (pk && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	    BN_num_bytes(n) <= (int)sizeof(nb) && BN_num_bytes(e) <= (int)sizeof(eb))
		siths_key_id(nb, (size_t)BN_bn2bin(n, nb), eb, (size_t)BN_bn2bin(e, eb), out);
	BN_free(n);
	BN_free(e);
}

static void cert_info(X509 *x, struct card_cert_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->present = true;
	X509_NAME *subj = X509_get_subject_name(x);
	name_field(subj, NID_commonName, ci->subject_cn, sizeof(ci->subject_cn));
	name_field(subj, NID_serialNumber, ci->hsa_id, sizeof(ci->hsa_id));
	name_field(subj, NID_organizationName, ci->organisation, sizeof(ci->organisation));
	name_field(X509_get_issuer_name(x), NID_commonName, ci->issuer_cn, sizeof(ci->issuer_cn));
	alt_names(x, ci);
	date(X509_get0_notBefore(x), ci->valid_from);
	date(X509_get0_notAfter(x), ci->valid_to);
	ci->trust_level = policy_level(x);
	cert_key_id(x, ci->key_id);
}

/* A certificate file: DER, possibly followed by zero padding when no length was given. */
static X509 *parse_cert(const uint8_t *buf, size_t len)
{
	const unsigned char *p = buf;
	if (len > ISO_MAX_EF)
		return NULL;
	return d2i_X509(NULL, &p, (long)len);
}

card_err siths_cert_info(const uint8_t *der, size_t n, struct card_cert_info *ci)
{
	X509 *x = parse_cert(der, n);
	if (!x)
		return CARD_E_BAD_DATA;
	cert_info(x, ci);
	X509_free(x);
	return CARD_OK;
}

static const struct p15_cert *cert_for(const struct rd *r, const struct p15_key *k)
{
	for (size_t i = 0; k && i < r->cdf.n; i++)
		if (!r->cdf.o[i].authority && p15_id_eq(&r->cdf.o[i].id, &k->id))
			return &r->cdf.o[i];
	return NULL;
}

/* Reads and parses the certificate c; with der given, its DER (as read, parsed or not) is kept
 * there (malloc'd; the caller frees). */
static card_err read_cert(struct rd *r, const struct p15_cert *c, X509 **out, uint8_t **der,
			  size_t *der_len)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	*out = NULL;
	card_err e = read_obj(r, &c->path, ISO_DER_ONE, &buf, &len);
	if (!e)
		*out = parse_cert(buf, len);
	if (!e && der) {
		*der = buf;
		*der_len = len;
		buf = NULL;
	}
	free(buf);
	return e ? e : *out ? CARD_OK : CARD_E_BAD_DATA;
}

static card_err auth_cert(struct rd *r)
{
	const struct p15_cert *c = cert_for(r, r->auth_key);
	/* Only the authentication key's own certificate serves the card operations (the layout). */
	bool keep = c && r->keep_auth;
	for (size_t i = 0; !c && i < r->cdf.n; i++)
		if (!r->cdf.o[i].authority &&
		    (!r->sign_key || !p15_id_eq(&r->cdf.o[i].id, &r->sign_key->id)))
			c = &r->cdf.o[i];
	if (!c)
		return fail(r, CARD_E_FILE_NOT_FOUND, "authentication certificate",
			    "not listed in the CDF");
	X509 *x = NULL;
	card_err e = read_cert(r, c, &x, keep ? &r->auth_der : NULL, &r->auth_der_len);
	if (e)
		return fail(r, e, "authentication certificate",
			    e == CARD_E_BAD_DATA ? "not a valid X.509 certificate" : NULL);
	struct card_model *m = r->m;
	cert_info(x, &m->auth);
	X509_free(x);
	memcpy(m->holder, m->auth.subject_cn, sizeof(m->holder));
	memcpy(m->organisation, m->auth.organisation, sizeof(m->organisation));
	memcpy(m->valid_from, m->auth.valid_from, sizeof(m->valid_from));
	memcpy(m->valid_to, m->auth.valid_to, sizeof(m->valid_to));
	return CARD_OK;
}

/* The signing key's public key from the PuKDF (by path or given directly): PKCS#1
 * RSAPublicKey or SubjectPublicKeyInfo. NULL in *out when the card does not list it. */
static card_err sign_pubkey(struct rd *r, EVP_PKEY **out)
{
	const struct p15_key *k = NULL;
	*out = NULL;
	if (r->pukdf && !r->puk.n) {
		card_err e = read_parse(r, "EF.PuKDF", r->pukdf, ISO_DER_SEQ, parse_pukdf, &r->puk);
		if (e)
			return e;
	}
	for (size_t i = 0; i < r->puk.n && !k; i++)
		if (p15_id_eq(&r->puk.o[i].id, &r->sign_key->id))
			k = &r->puk.o[i];
	if (!k)
		return CARD_OK;
	uint8_t *buf = NULL;
	size_t len = k->direct_len;
	card_err e = CARD_OK;
	if (len) {
		buf = malloc(len);
		if (!buf)
			return CARD_E_NOMEM;
		memcpy(buf, k->direct, len);
	} else if (k->has_path) {
		e = read_obj(r, &k->path, ISO_DER_ONE, &buf, &len);
	}
	if (!e && buf) {
		const unsigned char *p = buf;
		*out = d2i_PUBKEY(NULL, &p, (long)len);
		p = buf;
		if (!*out && k->type == P15_KEY_RSA)
			*out = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	}
	free(buf);
	return e;
}

/* Present only when the certificate parses and (when the card lists the signing key's public
 * key) certifies that key: a half-written file or a certificate left over from before a key
 * generation must read as absent. */
static card_err sign_cert(struct rd *r)
{
	struct card_model *m = r->m;
	const struct p15_cert *c = cert_for(r, r->sign_key);
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	if (!c)
		return CARD_OK;
	card_err e = read_cert(r, c, &x, NULL, NULL);
	if (e) {
		m->sign_cert_mismatch = true;
		return fatal(e) ? e : CARD_OK;
	}
	if ((e = sign_pubkey(r, &pk)) != CARD_OK)
		goto out;
	if (pk) {
		m->sign_key_checked = true;
		if (EVP_PKEY_eq(X509_get0_pubkey(x), pk) != 1) {
			m->sign_cert_mismatch = true;
			goto out;
		}
	}
	cert_info(x, &m->sign);
out:
	EVP_PKEY_free(pk);
	X509_free(x);
	return fatal(e) ? e : CARD_OK;
}

void siths_card_id(const struct card_model *m, char *out)
{
	char src[CARD_NAME_LEN + sizeof(m->atr) + 32];
	unsigned char md[SHA256_DIGEST_LENGTH];
	if (m->card_number[0])
		snprintf(src, sizeof(src), "siths-card:%s", m->card_number);
	else
		snprintf(src, sizeof(src), "siths-reader:%s:%s", m->reader, m->atr);
	SHA256((const unsigned char *)src, strlen(src), md);
	out[0] = 'c';
	for (int i = 0; i < 8; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
}

/* ---- the layout of the card operations ---- */

static const struct p15_path *first_df(const struct rd *r, enum p15_df_kind kind)
{
	for (size_t i = 0; i < r->odf.n; i++)
		if (r->odf.e[i].kind == kind)
			return &r->odf.e[i].path;
	return NULL;
}

/* The signature certificate EF when the CDF does not list one yet: FID 4302 next to the CDF
 * (absolute CDF path) or in the application DF (relative). */
static card_err default_sign_path(const struct p15_path *cdf, struct p15_path *out)
{
	memset(out, 0, sizeof(*out));
	if (cdf->len < 2)
		return CARD_E_NOT_SUPPORTED;
	*out = *cdf;
	out->has_range = false;
	out->b[out->len - 2] = SITHS_SIGN_CERT_FID >> 8;
	out->b[out->len - 1] = SITHS_SIGN_CERT_FID & 0xFF;
	return CARD_OK;
}

static void pin_rules(const struct p15_pin *p, struct siths_pin *out)
{
	memset(out, 0, sizeof(*out));
	if (!p || p->ref > 0xFF)
		return;
	out->present = true;
	out->ref = (uint8_t)p->ref; /* pinReference DEFAULT 0 */
	out->min_len = p->min_len;
	out->max_len = pin_max_len(p);
	out->type = p->type;
	out->flags = p->flags;
	out->stored_len = p->stored_len;
	out->pad_char = p->has_pad ? p->pad_char : 0x00;
}

/* Everything of the layout but the authentication certificate, from the directory files read. */
static card_err layout_of(const struct rd *r, struct siths_layout *l)
{
	const struct p15_pin *p1, *p2, *puk;
	pick_pins(r, &p1, &p2, &puk);
	pin_rules(p1, &l->pin1);
	pin_rules(p2, &l->pin2);
	pin_rules(puk, &l->puk);
	const struct p15_path *cdf = first_df(r, P15_DF_CDF);
	if (!cdf || !r->auth_key || !r->sign_key || !r->auth_key->has_ref ||
	    !r->sign_key->has_ref || r->auth_key->ref > 0xFF || r->sign_key->ref > 0xFF)
		return CARD_E_NOT_SUPPORTED;
	l->app = r->app;
	l->cdf = *cdf;
	l->sign_id = r->sign_key->id;
	l->auth_key_ref = r->auth_key->ref;
	l->sign_key_ref = r->sign_key->ref;
	const struct p15_cert *sc = cert_for(r, r->sign_key);
	if (!sc)
		return default_sign_path(cdf, &l->sign_cert);
	l->sign_cert = sc->path;
	l->sign_cert.has_range = false;
	return CARD_OK;
}

/* ---- reading ---- */

static card_err read_model(struct rd *r)
{
	card_err e = find_app(r);
	if (!e)
		e = read_dfs(r);
	token_fields(r);
	pick_keys(r);
	if (!e)
		e = auth_cert(r);
	/* PIN counters are still worth showing when a certificate is broken. */
	if (!fatal(e) && r->aodf.n) {
		card_err pe = read_pins(r);
		if (pe)
			e = pe;
	}
	if (!e && r->sign_key)
		e = sign_cert(r);
	siths_card_id(r->m, r->m->id);
	return e;
}

card_err siths_read_layout(const struct apdu_transport *t, struct card_model *m,
			   struct siths_layout *l)
{
	struct card_model keep = *m;
	memset(m, 0, sizeof(*m));
	memcpy(m->reader, keep.reader, sizeof(m->reader));
	memcpy(m->reader_id, keep.reader_id, sizeof(m->reader_id));
	memcpy(m->atr, keep.atr, sizeof(m->atr));
	m->pin1.tries_left = m->pin2.tries_left = m->puk.tries_left = -1;
	if (l)
		memset(l, 0, sizeof(*l));

	struct rd *r = calloc(1, sizeof(*r));
	if (!r)
		return CARD_E_NOMEM;
	r->t = t;
	r->m = m;
	r->keep_auth = l != NULL;
	card_err e = read_model(r);
	/* The certificate was read only if the directory files were: the layout is complete. */
	if (l && r->auth_der && layout_of(r, l) == CARD_OK) {
		l->auth_cert = r->auth_der;
		l->auth_cert_len = r->auth_der_len;
		l->usable = true;
		r->auth_der = NULL;
	}
	free(r->auth_der);
	free(r);
	return e;
}

card_err siths_read(const struct apdu_transport *t, struct card_model *m)
{
	return siths_read_layout(t, m, NULL);
}

card_err siths_layout_read(const struct apdu_transport *t, struct siths_layout *l)
{
	memset(l, 0, sizeof(*l));
	struct card_model *m = calloc(1, sizeof(*m));
	struct rd *r = calloc(1, sizeof(*r));
	card_err e = CARD_E_NOMEM;
	if (!m || !r)
		goto out;
	r->t = t;
	r->m = m;
	if ((e = find_app(r)) || (e = read_dfs(r)))
		goto out;
	pick_keys(r);
	if ((e = layout_of(r, l)) != CARD_OK)
		goto out;
	const struct p15_cert *ac = cert_for(r, r->auth_key);
	e = ac ? read_obj(r, &ac->path, ISO_DER_ONE, &l->auth_cert, &l->auth_cert_len)
	       : CARD_E_FILE_NOT_FOUND;
	l->usable = e == CARD_OK;
out:
	free(r);
	free(m);
	if (e)
		siths_layout_free(l);
	return e;
}

card_err siths_layout_copy(struct siths_layout *dst, const struct siths_layout *src)
{
	*dst = *src;
	dst->auth_cert = NULL;
	if (!src->auth_cert_len)
		return CARD_OK;
	dst->auth_cert = malloc(src->auth_cert_len);
	if (!dst->auth_cert) {
		dst->auth_cert_len = 0;
		dst->usable = false;
		return CARD_E_NOMEM;
	}
	memcpy(dst->auth_cert, src->auth_cert, src->auth_cert_len);
	return CARD_OK;
}

void siths_layout_free(struct siths_layout *l)
{
	if (!l)
		return;
	free(l->auth_cert);
	l->auth_cert = NULL;
	l->auth_cert_len = 0;
	l->usable = false;
}
