/* sim_card.c — creation, persistence and export of the virtual card's memory. The state file is
 * JSON (jansson): every EF as hex, private keys as PEM, PIN salts/hashes and try counters. It is
 * the card's EEPROM: rewritten atomically after every change, read back untrusted. */
#include "sim_card.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "sim_p15.h"
#include "sim_pki.h"

const char *sim_strerror(enum sim_err e)
{
	switch (e) {
	case SIM_OK: return "success";
	case SIM_E_NOMEM: return "out of memory";
	case SIM_E_IO: return "I/O error";
	case SIM_E_FORMAT: return "malformed file";
	case SIM_E_CRYPTO: return "cryptographic operation failed";
	case SIM_E_ARG: return "invalid argument";
	}
	return "unknown error";
}

static const struct sim_file layout[SIM_NFILES] = {
	{ SIM_FID_MF, 0, true, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_DIR, SIM_FID_MF, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_APP, SIM_FID_MF, true, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_ODF, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_TOKENINFO, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_AODF, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_PRKDF, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_PUKDF, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_CDF, SIM_FID_APP, false, SIM_ACC_PIN2, 0, NULL },
	{ SIM_FID_AUTH_CERT, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_SIGN_CERT, SIM_FID_APP, false, SIM_ACC_PIN2, 0, NULL },
	{ SIM_FID_CA_CERT, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_ROOT_CERT, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_AUTH_PUB, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
	{ SIM_FID_SIGN_PUB, SIM_FID_APP, false, SIM_ACC_NEVER, 0, NULL },
};

static struct sim_card *card_new(void)
{
	struct sim_card *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	memcpy(c->files, layout, sizeof(layout));
	static const struct sim_pin pins[SIM_NPINS] = {
		{ .ref = SIM_PIN1_REF, .min_len = 6, .max_len = 8, .tries = 3, .max_tries = 3 },
		{ .ref = SIM_PIN2_REF, .min_len = 6, .max_len = 8, .tries = 3, .max_tries = 3 },
		{ .ref = SIM_PUK_REF, .min_len = 8, .max_len = 8, .tries = 3, .max_tries = 3 },
	};
	memcpy(c->pins, pins, sizeof(pins));
	c->keys[0] =
		(struct sim_key){ SIM_AUTH_KEY_REF, SIM_PIN1_REF, SIM_FID_AUTH_PUB, false, NULL };
	c->keys[1] =
		(struct sim_key){ SIM_SIGN_KEY_REF, SIM_PIN2_REF, SIM_FID_SIGN_PUB, true, NULL };
	sim_card_reset_session(c);
	return c;
}

void sim_card_reset_session(struct sim_card *c)
{
	free(c->s.pending);
	memset(&c->s, 0, sizeof(c->s));
	c->s.df = SIM_FID_MF;
	c->s.dst_key = c->s.at_key = -1;
}

void sim_card_free(struct sim_card *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < SIM_NFILES; i++)
		free(c->files[i].data);
	for (size_t i = 0; i < SIM_NKEYS; i++)
		EVP_PKEY_free(c->keys[i].pkey);
	EVP_PKEY_free(c->next_key);
	free(c->s.pending);
	free(c->state_path);
	OPENSSL_cleanse(c->pins, sizeof(c->pins));
	free(c);
}

struct sim_file *sim_card_file(struct sim_card *c, uint16_t fid)
{
	for (size_t i = 0; i < SIM_NFILES; i++)
		if (c->files[i].fid == fid)
			return &c->files[i];
	return NULL;
}

struct sim_pin *sim_card_pin(struct sim_card *c, uint8_t ref)
{
	for (size_t i = 0; i < SIM_NPINS; i++)
		if (c->pins[i].ref == ref)
			return &c->pins[i];
	return NULL;
}

struct sim_key *sim_card_key(struct sim_card *c, uint8_t ref)
{
	for (size_t i = 0; i < SIM_NKEYS; i++)
		if (c->keys[i].ref == ref)
			return &c->keys[i];
	return NULL;
}

size_t sim_card_pin_index(const struct sim_card *c, const struct sim_pin *pin)
{
	return (size_t)(pin - c->pins);
}

static int pin_hash(const struct sim_pin *pin, const uint8_t *v, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) &&
		EVP_DigestUpdate(m, pin->salt, sizeof(pin->salt)) && EVP_DigestUpdate(m, v, n) &&
		EVP_DigestFinal_ex(m, out, &len) && len == 32;
	EVP_MD_CTX_free(m);
	return ok;
}

bool sim_pin_matches(const struct sim_pin *pin, const uint8_t *v, size_t n)
{
	uint8_t h[32];
	bool ok = pin_hash(pin, v, n, h) && CRYPTO_memcmp(h, pin->hash, sizeof(h)) == 0;
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

enum sim_err sim_pin_set(struct sim_pin *pin, const uint8_t *v, size_t n)
{
	if (RAND_bytes(pin->salt, sizeof(pin->salt)) != 1 || !pin_hash(pin, v, n, pin->hash))
		return SIM_E_CRYPTO;
	pin->tries = pin->max_tries;
	return SIM_OK;
}

static enum sim_err set_file(struct sim_card *c, uint16_t fid, const uint8_t *p, size_t n,
			     size_t size)
{
	struct sim_file *f = sim_card_file(c, fid);
	uint8_t *d = calloc(1, size ? size : 1);
	if (!d)
		return SIM_E_NOMEM;
	if (n > size) {
		free(d);
		return SIM_E_ARG;
	}
	if (n)
		memcpy(d, p, n);
	free(f->data);
	f->data = d;
	f->size = size;
	return SIM_OK;
}

static enum sim_err set_der(struct sim_card *c, uint16_t fid, struct sim_der *d, size_t size)
{
	enum sim_err rc =
		d->failed ? SIM_E_NOMEM : set_file(c, fid, d->buf, d->len, size ? size : d->len);
	sim_der_free(d);
	return rc;
}

static enum sim_err set_cert(struct sim_card *c, uint16_t fid, X509 *x, size_t size, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return SIM_E_CRYPTO;
	*len = (size_t)n;
	enum sim_err rc = set_file(c, fid, der, (size_t)n, size ? size : (size_t)n);
	OPENSSL_free(der);
	return rc;
}

static enum sim_err set_pubkey(struct sim_card *c, struct sim_key *k)
{
	unsigned char *der = NULL;
	int n = i2d_PublicKey(k->pkey, &der); /* RSAPublicKey (PKCS#1) for an RSA key */
	if (n <= 0)
		return SIM_E_CRYPTO;
	enum sim_err rc = set_file(c, k->pub_fid, der, (size_t)n, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

enum sim_err sim_card_generate_key(struct sim_card *c, struct sim_key *k)
{
	EVP_PKEY *nk = c->next_key ? c->next_key : EVP_RSA_gen(2048);
	c->next_key = NULL;
	if (!nk)
		return SIM_E_CRYPTO;
	EVP_PKEY_free(k->pkey);
	k->pkey = nk;
	return set_pubkey(c, k);
}

enum sim_err sim_card_set_next_key(struct sim_card *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) < 2048) {
		snprintf(err, errlen,
			 "--next-key %s: not a PEM RSA private key of 2048 bits or more", path);
		EVP_PKEY_free(k);
		return SIM_E_CRYPTO;
	}
	EVP_PKEY_free(c->next_key);
	c->next_key = k;
	return SIM_OK;
}

/* ---- PIN changes ---- */

static bool gtime_parse(const char *s, time_t *out)
{
	struct tm tm;
	char z = 0;
	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 15 ||
	    sscanf(s, "%4d%2d%2d%2d%2d%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &z) != 7 ||
	    z != 'Z')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

/* lastPinChange = now, but always later than the one before: two changes within one second must
 * still read as two (a reader compares it to tell whether a change took place). */
static void stamp(struct sim_pin *pin)
{
	time_t now = time(NULL), before;
	struct tm tm;
	if (pin->changed[0] && gtime_parse(pin->changed, &before) && now <= before)
		now = before + 1;
	gmtime_r(&now, &tm);
	strftime(pin->changed, sizeof(pin->changed), "%Y%m%d%H%M%SZ", &tm);
}

static enum sim_err build_aodf(struct sim_card *c)
{
	const char *changed[SIM_NPINS];
	struct sim_der d;
	for (size_t i = 0; i < SIM_NPINS; i++)
		changed[i] = c->pins[i].changed;
	sim_der_init(&d);
	sim_p15_aodf(&d, changed);
	return set_der(c, SIM_FID_AODF, &d, 0);
}

enum sim_err sim_card_set_pin(struct sim_card *c, struct sim_pin *pin, const uint8_t *v, size_t n)
{
	struct sim_pin before = *pin;
	struct sim_file *aodf = sim_card_file(c, SIM_FID_AODF);
	uint8_t *old_aodf = aodf->data;
	size_t old_size = aodf->size;
	enum sim_err rc = sim_pin_set(pin, v, n);
	aodf->data = NULL; /* kept in old_aodf until the new card is saved */
	if (rc == SIM_OK) {
		pin->transport = false;
		stamp(pin);
		rc = build_aodf(c);
	}
	if (rc == SIM_OK)
		rc = sim_card_save(c);
	if (rc != SIM_OK) {
		free(aodf->data);
		aodf->data = old_aodf;
		aodf->size = old_size;
		*pin = before;
	} else {
		free(old_aodf);
	}
	OPENSSL_cleanse(&before, sizeof(before));
	return rc;
}

static enum sim_err build_p15(struct sim_card *c, const struct sim_p15_info *in)
{
	struct sim_der d;
	enum sim_err rc;
#define BUILD(fid, call, size)                                  \
	do {                                                    \
		sim_der_init(&d);                               \
		call;                                           \
		if ((rc = set_der(c, fid, &d, size)) != SIM_OK) \
			return rc;                              \
	} while (0)
	BUILD(SIM_FID_DIR, sim_p15_efdir(&d), 0);
	BUILD(SIM_FID_ODF, sim_p15_odf(&d), 0);
	BUILD(SIM_FID_TOKENINFO, sim_p15_tokeninfo(&d, in), 0);
	BUILD(SIM_FID_PRKDF, sim_p15_prkdf(&d), 0);
	BUILD(SIM_FID_PUKDF, sim_p15_pukdf(&d), 0);
	BUILD(SIM_FID_CDF, sim_p15_cdf(&d, in), SIM_CDF_SIZE);
#undef BUILD
	return build_aodf(c);
}

static enum sim_err create_certs(struct sim_card *c, const struct sim_profile *p, const char *pki,
				 struct sim_p15_info *in, char *err, size_t errlen)
{
	X509 *auth = NULL, *sign = NULL, *ca = NULL, *root = NULL;
	enum sim_err rc = sim_pki_load_cas(pki, p->trust_level, &ca, &root);
	if (rc != SIM_OK) {
		snprintf(err, errlen,
			 "cannot read the test PKI in %s (run certs/test-siths-pki.sh %s)", pki,
			 pki);
		goto out;
	}
	if ((rc = sim_pki_issue(pki, p, c->keys[0].pkey, false, &auth)) != SIM_OK ||
	    (p->with_signature_certificate &&
	     (rc = sim_pki_issue(pki, p, c->keys[1].pkey, true, &sign)) != SIM_OK)) {
		snprintf(err, errlen, "cannot issue the card certificates from %s: %s", pki,
			 sim_strerror(rc));
		goto out;
	}
	if ((rc = set_cert(c, SIM_FID_AUTH_CERT, auth, 0, &in->auth_cert_len)) != SIM_OK ||
	    (rc = set_cert(c, SIM_FID_CA_CERT, ca, 0, &in->ca_cert_len)) != SIM_OK ||
	    (rc = set_cert(c, SIM_FID_ROOT_CERT, root, 0, &in->root_cert_len)) != SIM_OK)
		goto out;
	if (sign)
		rc = set_cert(c, SIM_FID_SIGN_CERT, sign, SIM_SIGN_CERT_SIZE, &in->sign_cert_len);
	else
		rc = set_file(c, SIM_FID_SIGN_CERT, NULL, 0, SIM_SIGN_CERT_SIZE);
out:
	X509_free(auth);
	X509_free(sign);
	X509_free(ca);
	X509_free(root);
	return rc;
}

/* The values of the card's letter, set at personalisation (now). */
static enum sim_err set_pins(struct sim_card *c, const struct sim_profile *p)
{
	const char *v[SIM_NPINS] = { p->pin1, p->pin2, p->puk };
	for (size_t i = 0; i < SIM_NPINS; i++) {
		enum sim_err rc = sim_pin_set(&c->pins[i], (const uint8_t *)v[i], strlen(v[i]));
		if (rc != SIM_OK)
			return rc;
		stamp(&c->pins[i]);
	}
	sim_card_pin(c, SIM_PIN2_REF)->transport = !p->pin2_activated;
	return SIM_OK;
}

enum sim_err sim_card_create(const struct sim_profile *p, const char *pki_dir,
			     struct sim_card **out, char *err, size_t errlen)
{
	struct sim_p15_info in = { p->card_type, p->card_number, 0, 0, 0, 0 };
	enum sim_err rc = sim_profile_check(p, err, errlen);
	struct sim_card *c = NULL;

	*out = NULL;
	if (rc != SIM_OK)
		return rc;
	if (!(c = card_new()))
		return SIM_E_NOMEM;
	for (size_t i = 0; i < SIM_NKEYS; i++)
		if ((rc = sim_card_generate_key(c, &c->keys[i])) != SIM_OK) {
			snprintf(err, errlen, "RSA key generation failed");
			goto out;
		}
	if ((rc = create_certs(c, p, pki_dir, &in, err, errlen)) != SIM_OK)
		goto out;
	if ((rc = set_pins(c, p)) != SIM_OK || (rc = build_p15(c, &in)) != SIM_OK) {
		snprintf(err, errlen, "building the card failed: %s", sim_strerror(rc));
		goto out;
	}
	*out = c;
	c = NULL;
out:
	sim_card_free(c);
	return rc;
}

/* ---- state file ---- */

static json_t *hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = 0;
	json_t *j = json_stringn(s, 2 * n);
	free(s);
	return j;
}

static int unhex_char(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decodes a JSON hex string into a new buffer; -1 on any malformation. */
static int unhex(json_t *j, uint8_t **out, size_t *len)
{
	if (!json_is_string(j) || json_string_length(j) % 2)
		return -1;
	const char *s = json_string_value(j);
	size_t n = json_string_length(j) / 2;
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = unhex_char(s[2 * i]), lo = unhex_char(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n;
	return 0;
}

static json_t *key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	json_t *j = NULL;
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		long n = BIO_get_mem_data(b, &p);
		j = json_stringn(p, (size_t)n);
	}
	BIO_free(b);
	return j;
}

static json_t *state_json(struct sim_card *c)
{
	json_t *root = json_object(), *files = json_object(), *keys = json_object(),
	       *pins = json_object();
	char k[8];
	int ok = root && files && keys && pins;
	for (size_t i = 0; ok && i < SIM_NFILES; i++) {
		if (c->files[i].df)
			continue;
		snprintf(k, sizeof(k), "%04X", c->files[i].fid);
		ok = json_object_set_new(files, k, hex(c->files[i].data, c->files[i].size)) == 0;
	}
	for (size_t i = 0; ok && i < SIM_NKEYS; i++) {
		snprintf(k, sizeof(k), "%02X", c->keys[i].ref);
		ok = json_object_set_new(keys, k, key_pem(c->keys[i].pkey)) == 0;
	}
	for (size_t i = 0; ok && i < SIM_NPINS; i++) {
		const struct sim_pin *p = &c->pins[i];
		snprintf(k, sizeof(k), "%02X", p->ref);
		ok = json_object_set_new(pins, k,
					 json_pack("{s:o,s:o,s:i,s:b,s:s}", "salt",
						   hex(p->salt, sizeof(p->salt)), "hash",
						   hex(p->hash, sizeof(p->hash)), "tries",
						   (int)p->tries, "transport", p->transport,
						   "changed", p->changed)) == 0;
	}
	if (ok && json_object_set_new(root, "format", json_string("siths-cardsim-state-1")) == 0 &&
	    json_object_set(root, "files", files) == 0 &&
	    json_object_set(root, "keys", keys) == 0 && json_object_set(root, "pins", pins) == 0) {
		json_decref(files);
		json_decref(keys);
		json_decref(pins);
		return root;
	}
	json_decref(root);
	json_decref(files);
	json_decref(keys);
	json_decref(pins);
	return NULL;
}

enum sim_err sim_card_save(struct sim_card *c)
{
	if (!c->state_path)
		return SIM_OK;
	enum sim_err rc = SIM_E_IO;
	size_t n = strlen(c->state_path) + 32;
	char *tmp = malloc(n);
	json_t *j = state_json(c);
	char *text = j ? json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	int fd = -1;
	if (!tmp || !j || !text) {
		rc = SIM_E_NOMEM;
		goto out;
	}
	snprintf(tmp, n, "%s.tmp.%ld", c->state_path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		goto out;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, c->state_path) == 0)
		rc = SIM_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != SIM_OK && tmp)
		unlink(tmp);
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	json_decref(j);
	free(tmp);
	return rc;
}

static int load_files(struct sim_card *c, json_t *files)
{
	char k[8];
	for (size_t i = 0; i < SIM_NFILES; i++) {
		struct sim_file *f = &c->files[i];
		if (f->df)
			continue;
		snprintf(k, sizeof(k), "%04X", f->fid);
		if (unhex(json_object_get(files, k), &f->data, &f->size) != 0)
			return -1;
		/* READ/UPDATE BINARY offsets are 15 bits and FCP sizes 2 bytes. */
		if (f->size == 0 || f->size > 0x7FFF)
			return -1;
	}
	return 0;
}

static int load_keys(struct sim_card *c, json_t *keys)
{
	char k[8];
	for (size_t i = 0; i < SIM_NKEYS; i++) {
		snprintf(k, sizeof(k), "%02X", c->keys[i].ref);
		json_t *v = json_object_get(keys, k);
		if (!json_is_string(v))
			return -1;
		BIO *b = BIO_new_mem_buf(json_string_value(v), (int)json_string_length(v));
		c->keys[i].pkey = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		if (!c->keys[i].pkey || EVP_PKEY_get_base_id(c->keys[i].pkey) != EVP_PKEY_RSA ||
		    EVP_PKEY_get_bits(c->keys[i].pkey) != 2048)
			return -1;
	}
	return 0;
}

static int load_fixed(json_t *j, uint8_t *dst, size_t n)
{
	uint8_t *b = NULL;
	size_t len = 0;
	if (unhex(j, &b, &len) != 0)
		return -1;
	int ok = len == n;
	if (ok)
		memcpy(dst, b, n);
	free(b);
	return ok ? 0 : -1;
}

/* "transport" and "changed" are optional: a state file written before they existed holds PINs
 * the holder has set, at a time nobody knows. */
static int load_pin_state(struct sim_pin *p, json_t *o)
{
	json_t *tr = json_object_get(o, "transport"), *ch = json_object_get(o, "changed");
	time_t t;
	if ((tr && !json_is_boolean(tr)) ||
	    (ch &&
	     (!json_is_string(ch) ||
	      (json_string_length(ch) && !gtime_parse(json_string_value(ch), &t)))))
		return -1;
	p->transport = json_is_true(tr);
	snprintf(p->changed, sizeof(p->changed), "%s", ch ? json_string_value(ch) : "");
	return 0;
}

static int load_pins(struct sim_card *c, json_t *pins)
{
	char k[8];
	for (size_t i = 0; i < SIM_NPINS; i++) {
		struct sim_pin *p = &c->pins[i];
		snprintf(k, sizeof(k), "%02X", p->ref);
		json_t *o = json_object_get(pins, k), *t = json_object_get(o, "tries");
		if (!json_is_object(o) || !json_is_integer(t) || json_integer_value(t) < 0 ||
		    json_integer_value(t) > (json_int_t)p->max_tries ||
		    load_fixed(json_object_get(o, "salt"), p->salt, sizeof(p->salt)) ||
		    load_fixed(json_object_get(o, "hash"), p->hash, sizeof(p->hash)) ||
		    load_pin_state(p, o))
			return -1;
		p->tries = (unsigned)json_integer_value(t);
	}
	return 0;
}

static enum sim_err load(const char *path, struct sim_card **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	struct sim_card *c = NULL;
	enum sim_err rc = SIM_E_FORMAT;
	if (!j) {
		snprintf(err, errlen, "%s: %s", path, je.text);
		return SIM_E_FORMAT;
	}
	if (!(c = card_new())) {
		rc = SIM_E_NOMEM;
		goto out;
	}
	if (!json_is_string(json_object_get(j, "format")) ||
	    strcmp(json_string_value(json_object_get(j, "format")), "siths-cardsim-state-1") ||
	    load_files(c, json_object_get(j, "files")) ||
	    load_keys(c, json_object_get(j, "keys")) || load_pins(c, json_object_get(j, "pins"))) {
		snprintf(err, errlen, "%s: not a valid siths-cardsim state file", path);
		goto out;
	}
	*out = c;
	c = NULL;
	rc = SIM_OK;
out:
	sim_card_free(c);
	json_decref(j);
	return rc;
}

enum sim_err sim_card_open(const char *state_path, const struct sim_profile *p, const char *pki_dir,
			   struct sim_card **out, char *err, size_t errlen)
{
	struct sim_card *c = NULL;
	enum sim_err rc;
	bool created = access(state_path, F_OK) != 0;
	*out = NULL;
	if (!created)
		rc = load(state_path, &c, err, errlen);
	else
		rc = sim_card_create(p, pki_dir, &c, err, errlen);
	if (rc != SIM_OK)
		return rc;
	if (!(c->state_path = strdup(state_path))) {
		sim_card_free(c);
		return SIM_E_NOMEM;
	}
	/* Only a new card is written here: loading must not race a running card's own saves. */
	if (created && (rc = sim_card_save(c)) != SIM_OK) {
		snprintf(err, errlen, "cannot write %s: %s", state_path, strerror(errno));
		sim_card_free(c);
		return rc;
	}
	*out = c;
	return SIM_OK;
}

/* ---- export ---- */

static enum sim_err write_cert(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	const unsigned char *q = p;
	X509 *x = d2i_X509(NULL, &q, (long)n);
	enum sim_err rc = SIM_E_IO;
	FILE *f;
	if (!x)
		return SIM_E_FORMAT;
	n = (size_t)(q - p);
	snprintf(path, sizeof(path), "%s/%s.der", dir, name);
	if ((f = fopen(path, "wb"))) {
		rc = fwrite(p, 1, n, f) == n ? SIM_OK : SIM_E_IO;
		if (fclose(f) != 0)
			rc = SIM_E_IO;
	}
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	if (rc == SIM_OK && (f = fopen(path, "w"))) {
		rc = PEM_write_X509(f, x) ? SIM_OK : SIM_E_IO;
		if (fclose(f) != 0)
			rc = SIM_E_IO;
	}
	X509_free(x);
	return rc;
}

static enum sim_err write_pub(const char *dir, const char *name, EVP_PKEY *k)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return SIM_E_IO;
	int ok = PEM_write_PUBKEY(f, k);
	return fclose(f) == 0 && ok ? SIM_OK : SIM_E_IO;
}

/* True if the CDF content (up to its 00 terminator) holds a path to the signature cert EF. */
static bool cdf_lists_sign_cert(const struct sim_file *cdf)
{
	static const uint8_t p[6] = { 0x3F,
				      0x00,
				      SIM_FID_APP >> 8,
				      SIM_FID_APP & 0xFF,
				      SIM_FID_SIGN_CERT >> 8,
				      SIM_FID_SIGN_CERT & 0xFF };
	for (size_t i = 0; i + sizeof(p) <= cdf->size; i++)
		if (!memcmp(cdf->data + i, p, sizeof(p)))
			return true;
	return false;
}

enum sim_err sim_card_export(struct sim_card *c, const char *dir, char *err, size_t errlen)
{
	static const struct {
		uint16_t fid;
		const char *name;
	} certs[] = {
		{ SIM_FID_AUTH_CERT, "auth-cert" },
		{ SIM_FID_CA_CERT, "person-ca" },
		{ SIM_FID_ROOT_CERT, "root-ca" },
	};
	enum sim_err rc = SIM_OK;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return SIM_E_IO;
	}
	for (size_t i = 0; rc == SIM_OK && i < sizeof(certs) / sizeof(certs[0]); i++) {
		struct sim_file *f = sim_card_file(c, certs[i].fid);
		rc = write_cert(dir, certs[i].name, f->data, f->size);
	}
	struct sim_file *sf = sim_card_file(c, SIM_FID_SIGN_CERT);
	if (rc == SIM_OK && cdf_lists_sign_cert(sim_card_file(c, SIM_FID_CDF)))
		rc = write_cert(dir, "sign-cert", sf->data, sf->size);
	if (rc == SIM_OK)
		rc = write_pub(dir, "auth-pub", c->keys[0].pkey);
	if (rc == SIM_OK)
		rc = write_pub(dir, "sign-pub", c->keys[1].pkey);
	if (rc != SIM_OK)
		snprintf(err, errlen, "export to %s failed: %s", dir, sim_strerror(rc));
	return rc;
}
