/* p15.c — PKCS#15 directory-file parsers over the bounded DER reader. The grammar is that of
 * ISO/IEC 7816-15 / PKCS#15 v1.1; optional and unknown trailing elements are tolerated as real
 * cards add them, but every element this reader uses is checked for tag, length and value. */
#include "p15.h"

#include <string.h>

const uint8_t p15_aid[12] = {
	0xA0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35
};

#define TRY(x)                     \
	do {                       \
		der_err e_ = (x);  \
		if (e_ != DER_OK)  \
			return e_; \
	} while (0)

bool p15_path_absolute(const struct p15_path *p)
{
	return p->len >= 2 && p->b[0] == 0x3F && p->b[1] == 0x00;
}

bool p15_id_eq(const struct p15_id *a, const struct p15_id *b)
{
	return a->len && a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static der_err octets(const struct der_tlv *t, uint8_t *out, size_t cap, size_t *len)
{
	if (t->constructed || t->len > cap)
		return DER_E_VALUE;
	memcpy(out, t->v, t->len);
	*len = t->len;
	return DER_OK;
}

static der_err file_path(const struct der_tlv *t, struct p15_path *p)
{
	TRY(octets(t, p->b, sizeof(p->b), &p->len));
	/* A path names at least one FID; an odd length cannot be a list of FIDs. */
	return p->len == 0 || p->len % 2 ? DER_E_VALUE : DER_OK;
}

/* Path ::= SEQUENCE { efidOrPath OCTET STRING, index INTEGER OPT, length [0] INTEGER OPT, … } */
static der_err parse_path(const struct der *parent, const struct der_tlv *t, struct p15_path *p)
{
	struct der d;
	struct der_tlv v;
	memset(p, 0, sizeof(*p));
	if (t->tag != 0x30)
		return DER_E_TAG;
	TRY(der_enter(parent, t, &d));
	TRY(der_expect(&d, 0x04, &v));
	TRY(file_path(&v, p));
	if (der_optional(&d, 0x02, &v)) {
		TRY(der_uint(&v, &p->index));
		p->has_range = true;
	}
	if (der_optional(&d, 0x80, &v)) {
		TRY(der_uint(&v, &p->length));
		p->has_range = true;
		if (p->length == 0)
			return DER_E_VALUE;
	} else if (p->has_range) {
		return DER_E_MISSING; /* an index without a length cannot be read */
	}
	return DER_OK;
}

static der_err next_required(struct der *d, struct der_tlv *t)
{
	der_err e = der_next(d, t);
	return e == DER_E_END ? DER_E_MISSING : e;
}

static der_err parse_id(const struct der_tlv *t, struct p15_id *id)
{
	return octets(t, id->b, sizeof(id->b), &id->len);
}

/* ---- EF.DIR ---- */

static der_err parse_app(const struct der *parent, const struct der_tlv *t, struct p15_app *a)
{
	struct der d;
	struct der_tlv v;
	memset(a, 0, sizeof(*a));
	TRY(der_enter(parent, t, &d));
	der_err e;
	while ((e = der_next(&d, &v)) == DER_OK) {
		if (v.tag == 0x4F)
			TRY(octets(&v, a->aid, sizeof(a->aid), &a->aid_len));
		else if (v.tag == 0x50)
			TRY(der_string(&v, a->label, sizeof(a->label)));
		else if (v.tag == 0x51)
			TRY(file_path(&v, &a->path));
	}
	if (e != DER_E_END)
		return e;
	return a->aid_len || a->path.len ? DER_OK : DER_E_MISSING;
}

der_err p15_parse_dir(const uint8_t *p, size_t n, const uint8_t *aid, size_t aid_len,
		      struct p15_app *out)
{
	struct der d;
	struct der_tlv t;
	der_err e;
	TRY(der_check_tree(p, n));
	der_init(&d, p, n);
	while ((e = der_next(&d, &t)) == DER_OK) {
		if (t.tag != 0x61)
			continue; /* records of other kinds may share the file */
		struct p15_app a;
		TRY(parse_app(&d, &t, &a));
		if (!aid || (a.aid_len == aid_len && !memcmp(a.aid, aid, aid_len))) {
			*out = a;
			return DER_OK;
		}
	}
	return e == DER_E_END ? DER_E_MISSING : e;
}

/* ---- ODF ---- */

der_err p15_parse_odf(const uint8_t *p, size_t n, struct p15_odf *out)
{
	struct der d;
	struct der_tlv t;
	der_err e;
	memset(out, 0, sizeof(*out));
	TRY(der_check_tree(p, n));
	der_init(&d, p, n);
	while ((e = der_next(&d, &t)) == DER_OK) {
		if ((t.tag & 0xE0) != 0xA0 || (t.tag & 0x1F) > P15_DF_AODF)
			return DER_E_TAG;
		struct der c;
		struct der_tlv v;
		TRY(der_enter(&d, &t, &c));
		TRY(next_required(&c, &v));
		if (v.tag != 0x30)
			continue; /* objects given directly ([0]) or by URL: not used here */
		if (out->n == P15_MAX_OBJ)
			continue;
		out->e[out->n].kind = (enum p15_df_kind)(t.tag & 0x1F);
		TRY(parse_path(&c, &v, &out->e[out->n].path));
		out->n++;
	}
	if (e != DER_E_END)
		return e;
	return out->n ? DER_OK : DER_E_MISSING;
}

/* ---- TokenInfo ---- */

der_err p15_parse_tokeninfo(const uint8_t *p, size_t n, struct p15_tokeninfo *out)
{
	struct der top, d;
	struct der_tlv t, v;
	bool have_flags = false;
	memset(out, 0, sizeof(*out));
	TRY(der_check_tree(p, n));
	der_init(&top, p, n);
	TRY(der_expect(&top, 0x30, &t));
	TRY(der_enter(&top, &t, &d));
	TRY(der_expect(&d, 0x02, &v));
	TRY(der_uint(&v, &out->version));
	der_err e;
	while ((e = der_next(&d, &v)) == DER_OK) {
		switch (v.tag) {
		case 0x04:
			TRY(octets(&v, out->serial, sizeof(out->serial), &out->serial_len));
			break;
		case 0x0C:
			if (!out->manufacturer[0])
				TRY(der_string(&v, out->manufacturer, sizeof(out->manufacturer)));
			break;
		case 0x80: TRY(der_string(&v, out->label, sizeof(out->label))); break;
		case 0x03:
			TRY(der_bits(&v, &out->flags));
			have_flags = true;
			break;
		default: break; /* later versions add fields: tolerated */
		}
	}
	if (e != DER_E_END)
		return e;
	return have_flags ? DER_OK : DER_E_MISSING;
}

/* ---- PKCS15Object ---- */

/* PKCS15Object ::= SEQUENCE { CommonObjectAttributes, classAttributes, [0] subClass OPT,
 * [1] typeAttributes }. Leaves `klass` and the content of [1] open for the caller. */
struct obj {
	struct p15_common common;
	struct der body;           /* inside the object */
	struct der_tlv klass;      /* class attributes (SEQUENCE) */
	struct der type;           /* inside [1] */
	struct der_tlv type_first; /* the first element inside [1] */
};

static der_err parse_common(const struct der *parent, const struct der_tlv *t, struct p15_common *c)
{
	struct der d;
	struct der_tlv v;
	memset(c, 0, sizeof(*c));
	TRY(der_enter(parent, t, &d));
	if (der_optional(&d, 0x0C, &v))
		TRY(der_string(&v, c->label, sizeof(c->label)));
	if (der_optional(&d, 0x03, &v))
		TRY(der_bits(&v, &c->flags));
	if (der_optional(&d, 0x04, &v))
		TRY(parse_id(&v, &c->auth_id));
	return DER_OK;
}

static der_err parse_obj(const struct der *parent, const struct der_tlv *t, struct obj *o)
{
	struct der_tlv v, ty;
	TRY(der_enter(parent, t, &o->body));
	TRY(der_expect(&o->body, 0x30, &v));
	TRY(parse_common(&o->body, &v, &o->common));
	TRY(der_expect(&o->body, 0x30, &o->klass));
	der_optional(&o->body, 0xA0, &v); /* subclass attributes: not used */
	TRY(der_expect(&o->body, 0xA1, &ty));
	TRY(der_enter(&o->body, &ty, &o->type));
	TRY(der_expect(&o->type, 0x30, &o->type_first));
	return DER_OK;
}

/* Calls fn for each object in a directory file whose outer tag is in `tags`. */
typedef der_err (*obj_fn)(const struct der *d, const struct der_tlv *t, void *out);

static der_err each_object(const uint8_t *p, size_t n, const uint32_t *tags, size_t n_tags,
			   obj_fn fn, void *out)
{
	struct der d;
	struct der_tlv t;
	der_err e;
	TRY(der_check_tree(p, n));
	der_init(&d, p, n);
	while ((e = der_next(&d, &t)) == DER_OK) {
		if (!t.constructed)
			return DER_E_TAG;
		for (size_t i = 0; i < n_tags; i++)
			if (t.tag == tags[i]) {
				TRY(fn(&d, &t, out));
				break;
			}
	}
	return e == DER_E_END ? DER_OK : e;
}

/* ---- AODF ---- */

/* A GeneralizedTime as it stands (YYYYMMDDHHMMSS[.fff](Z|±hhmm)): only its characters are checked. */
static der_err gtime(const struct der_tlv *t, char *out, size_t cap)
{
	if (t->constructed || t->len < 10 || t->len >= cap)
		return DER_E_VALUE;
	for (size_t i = 0; i < t->len; i++)
		if (!strchr("0123456789.,+-Z", t->v[i]) || !t->v[i])
			return DER_E_VALUE;
	memcpy(out, t->v, t->len);
	out[t->len] = 0;
	return DER_OK;
}

static der_err pin_attrs(struct obj *o, struct p15_pin *pin)
{
	struct der d;
	struct der_tlv v;
	TRY(der_enter(&o->type, &o->type_first, &d));
	TRY(der_expect(&d, 0x03, &v));
	TRY(der_bits(&v, &pin->flags));
	TRY(der_expect(&d, 0x0A, &v));
	TRY(der_uint(&v, &pin->type));
	TRY(der_expect(&d, 0x02, &v));
	TRY(der_uint(&v, &pin->min_len));
	TRY(der_expect(&d, 0x02, &v));
	TRY(der_uint(&v, &pin->stored_len));
	if (der_optional(&d, 0x02, &v))
		TRY(der_uint(&v, &pin->max_len));
	if (der_optional(&d, 0x80, &v)) {
		TRY(der_uint(&v, &pin->ref));
		pin->has_ref = true;
	}
	if (der_optional(&d, 0x04, &v)) {
		if (v.len != 1)
			return DER_E_VALUE;
		pin->pad_char = v.v[0];
		pin->has_pad = true;
	}
	if (der_optional(&d, 0x18, &v))
		TRY(gtime(&v, pin->last_change, sizeof(pin->last_change)));
	if (der_optional(&d, 0x30, &v)) {
		TRY(parse_path(&d, &v, &pin->path));
		pin->has_path = true;
	}
	if (pin->min_len > 64 || pin->max_len > 64 || (pin->max_len && pin->max_len < pin->min_len))
		return DER_E_VALUE;
	return DER_OK;
}

static der_err one_pin(const struct der *d, const struct der_tlv *t, void *out)
{
	struct p15_aodf *a = out;
	struct obj o;
	struct p15_pin pin;
	struct der k;
	struct der_tlv v;
	memset(&pin, 0, sizeof(pin));
	TRY(parse_obj(d, t, &o));
	pin.c = o.common;
	TRY(der_enter(&o.body, &o.klass, &k));
	TRY(der_expect(&k, 0x04, &v));
	TRY(parse_id(&v, &pin.auth_id));
	TRY(pin_attrs(&o, &pin));
	if (a->n < P15_MAX_OBJ)
		a->o[a->n++] = pin;
	return DER_OK;
}

der_err p15_parse_aodf(const uint8_t *p, size_t n, struct p15_aodf *out)
{
	static const uint32_t tags[] = { 0x30 }; /* pin; biometric/authKey/external skipped */
	return each_object(p, n, tags, 1, one_pin, out);
}

/* ---- PrKDF / PuKDF ---- */

/* CommonKeyAttributes ::= SEQUENCE { iD, usage, native BOOL OPT, accessFlags OPT,
 * keyReference OPT, … } */
static der_err key_common(struct obj *o, struct p15_key *k)
{
	struct der d;
	struct der_tlv v;
	TRY(der_enter(&o->body, &o->klass, &d));
	TRY(der_expect(&d, 0x04, &v));
	TRY(parse_id(&v, &k->id));
	if (!k->id.len)
		return DER_E_VALUE;
	TRY(der_expect(&d, 0x03, &v));
	TRY(der_bits(&v, &k->usage));
	der_optional(&d, 0x01, &v);
	if (der_optional(&d, 0x03, &v))
		TRY(der_bits(&v, &k->access));
	if (der_optional(&d, 0x02, &v)) {
		TRY(der_uint(&v, &k->ref));
		k->has_ref = true;
	}
	return DER_OK;
}

static der_err one_key(const struct der *d, const struct der_tlv *t, struct p15_keys *ks,
		       bool public)
{
	struct obj o;
	struct p15_key k;
	struct der a;
	struct der_tlv v;
	memset(&k, 0, sizeof(k));
	k.type = t->tag == 0x30 ? P15_KEY_RSA : P15_KEY_EC;
	TRY(parse_obj(d, t, &o));
	k.c = o.common;
	TRY(key_common(&o, &k));
	TRY(der_enter(&o.type, &o.type_first, &a));
	TRY(next_required(&a, &v));
	if (v.tag == 0x30) {
		TRY(parse_path(&a, &v, &k.path));
		k.has_path = true;
	} else if (public && v.tag == 0xA0) {
		/* direct value: [0] { RSAPublicKey or SubjectPublicKeyInfo } */
		struct der c;
		struct der_tlv inner;
		TRY(der_enter(&a, &v, &c));
		TRY(der_expect(&c, 0x30, &inner));
		if (inner.len + inner.hdr > sizeof(k.direct))
			return DER_E_VALUE;
		memcpy(k.direct, inner.v - inner.hdr, inner.len + inner.hdr);
		k.direct_len = inner.len + inner.hdr;
	} else {
		return DER_E_TAG;
	}
	if (k.type == P15_KEY_RSA && der_optional(&a, 0x02, &v))
		TRY(der_uint(&v, &k.modulus_bits));
	if (ks->n < P15_MAX_OBJ)
		ks->o[ks->n++] = k;
	return DER_OK;
}

static der_err one_prkey(const struct der *d, const struct der_tlv *t, void *out)
{
	return one_key(d, t, out, false);
}

static der_err one_pubkey(const struct der *d, const struct der_tlv *t, void *out)
{
	return one_key(d, t, out, true);
}

der_err p15_parse_prkdf(const uint8_t *p, size_t n, struct p15_keys *out)
{
	static const uint32_t tags[] = { 0x30, 0xA0 }; /* RSA, EC */
	return each_object(p, n, tags, 2, one_prkey, out);
}

der_err p15_parse_pukdf(const uint8_t *p, size_t n, struct p15_keys *out)
{
	static const uint32_t tags[] = { 0x30, 0xA0 };
	return each_object(p, n, tags, 2, one_pubkey, out);
}

/* ---- CDF ---- */

static der_err one_cert(const struct der *d, const struct der_tlv *t, void *out)
{
	struct p15_cdf *cdf = out;
	struct obj o;
	struct p15_cert c;
	struct der k, a;
	struct der_tlv v;
	memset(&c, 0, sizeof(c));
	TRY(parse_obj(d, t, &o));
	c.c = o.common;
	/* CommonCertificateAttributes ::= SEQUENCE { iD, authority BOOL DEFAULT FALSE, … } */
	TRY(der_enter(&o.body, &o.klass, &k));
	TRY(der_expect(&k, 0x04, &v));
	TRY(parse_id(&v, &c.id));
	if (der_optional(&k, 0x01, &v))
		TRY(der_bool(&v, &c.authority));
	/* X509CertificateAttributes ::= SEQUENCE { value ObjectValue, … }: only by path here. */
	TRY(der_enter(&o.type, &o.type_first, &a));
	TRY(der_expect(&a, 0x30, &v));
	TRY(parse_path(&a, &v, &c.path));
	if (cdf->n < P15_MAX_OBJ)
		cdf->o[cdf->n++] = c;
	return DER_OK;
}

der_err p15_parse_cdf(const uint8_t *p, size_t n, struct p15_cdf *out)
{
	static const uint32_t tags[] = { 0x30 }; /* x509Certificate; others skipped */
	return each_object(p, n, tags, 1, one_cert, out);
}
