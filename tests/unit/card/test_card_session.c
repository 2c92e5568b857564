/* test_card_session.c — the card session (card/session.c) against the virtual card in-process,
 * the way card_with_card() runs it: model and layout read once as at insertion, then a login and
 * a download, each counted APDU by APDU. The work starts with the SELECT of the application and
 * its VERIFY right after — no PKCS#15 walk before the PIN — and the counts below are the whole
 * cost, so a regression fails here. Also: a card without a stored layout, a malformed PIN, a PIN
 * status word after the VERIFY, a blocked PIN, an error before the work.
 *
 * Counted on the virtual card (card/sim, default profile; also seen in siths-cardsim --verbose
 * behind the daemon), with the re-read of the model that ends every card_with_card():
 *                 before (layout walked per work)   after (layout kept from insertion)
 *   login         43 = 18 layout + 3 work + 22       26 = 1 SELECT + 3 work + 22
 *   download      75 = 18 layout + 24 work + 33      58 = 1 SELECT + 24 work + 33
 * and since work that changes nothing reads only the counters its PINs moved (session_effects):
 *   login          6 = 1 SELECT + 3 work + 2 (SELECT, empty VERIFY of PIN1)
 *   wrong PIN1     2 = 1 SELECT + 1 VERIFY (its 63Cx is the counter: nothing read after)
 * and since that first read after a right code tells how full the counter is (tries_max):
 *   later logins   4 = 1 SELECT + 3 work, nothing read after
 * and since a download that committed its certificate for the key it generated knows every
 * file it changed (session_effects.sign_written):
 *   download      the work (DOWNLOAD_KEY + WRITE_APDUS) + 2 (SELECT, empty VERIFY of PIN2):
 *                 24 behind the daemon with its 1,083-byte certificate (tests/bench) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fx_pki.h"
#include "fx_sim.h"
#include "session.h"
#include "siths.h"
#include "sim/sim_card.h"

#define LOGIN_WORK 4 /* SELECT, VERIFY PIN1, MSE SET, INTERNAL AUTHENTICATE */
#define LOGIN_REREAD 22
#define LOGIN_COUNTERS 2    /* after the reset: SELECT, empty VERIFY of the PIN verified */
#define DOWNLOAD_COUNTERS 2 /* the same for PIN2 */
#define DOWNLOAD_KEY \
	7 /* SELECT, status VERIFY, VERIFY PIN2, GENERATE (+ GET RESPONSE),
			     * MSE SET, PSO CDS */
/* The write of an n-byte certificate (docs/virtual-card.md): SELECT + one READ BINARY of the
 * CDF (its entries, up to the padding, fit in 256 bytes), SELECT of the EF, UPDATE BINARY per
 * 255 bytes, the read-back per 256, SELECT + UPDATE of the CDF entry; 15 for the test issuer's
 * 1088 bytes behind the daemon, so 22 for the whole work. */
#define WRITE_APDUS(n) (5 + ((n) + 254) / 255 + ((n) + 255) / 256)
/* The re-read, now with a signature certificate (read per 256 bytes) and its key to check:
 * 33 for the daemon's 1088 bytes. */
#define REREAD_WITH_CERT(n) (LOGIN_REREAD + 6 + ((n) + 255) / 256)

#define LOG_MAX 128

/* The virtual card, with every command's header kept; fault_ins: answer that INS with 63C2. */
struct rec {
	struct fx_simt sim;
	size_t n;
	uint8_t ins[LOG_MAX], p1[LOG_MAX], p2[LOG_MAX];
	size_t lc[LOG_MAX];
	uint8_t fault_ins;
};

static card_err rec_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len)
{
	struct rec *r = ctx;
	assert_true(n >= 4 && r->n < LOG_MAX);
	r->ins[r->n] = cmd[1];
	r->p1[r->n] = cmd[2];
	r->p2[r->n] = cmd[3];
	r->lc[r->n] = n > 5 ? cmd[4] : 0;
	r->n++;
	card_err e = fx_sim_transmit(&r->sim, cmd, n, resp, len);
	if (!e && r->fault_ins && cmd[1] == r->fault_ins) {
		resp[0] = 0x63, resp[1] = 0xC2;
		*len = 2;
	}
	return e;
}

static void rec_init(struct rec *r, struct sim_card *c, struct apdu_transport *t)
{
	memset(r, 0, sizeof(*r));
	r->sim = (struct fx_simt){ c, -1, 0 };
	*t = (struct apdu_transport){ .transmit = rec_transmit, .ctx = r };
}

/* What the core does when a card appears: model and layout in one read. */
static void insert(struct sim_card *c, struct card_model *m, struct siths_layout *l)
{
	struct rec r;
	struct apdu_transport t;
	rec_init(&r, c, &t);
	memset(m, 0, sizeof(*m));
	assert_int_equal(siths_read_layout(&t, m, l), CARD_OK);
	assert_true(l->usable);
	assert_non_null(l->auth_cert);
}

/* The re-read that ends card_with_card(), after the reset, into *m: its APDU count. */
static size_t reread(struct sim_card *c, struct card_model *m)
{
	struct rec r;
	struct apdu_transport t;
	struct siths_layout l;
	sim_card_reset_session(c);
	rec_init(&r, c, &t);
	assert_int_equal(siths_read_layout(&t, m, &l), CARD_OK);
	assert_true(l.usable);
	siths_layout_free(&l);
	return r.n;
}

/* The read that ends card_with_card() after work that changed nothing: its APDU count. The PIN
 * entries it leaves in *m must be those a whole read finds. */
static size_t counters(struct sim_card *c, const struct siths_layout *l,
		       const struct session_effects *fx, struct card_model *m)
{
	struct rec r;
	struct apdu_transport t;
	assert_true(!fx->changed || fx->sign_written);
	sim_card_reset_session(c);
	rec_init(&r, c, &t);
	assert_int_equal(session_read_counters(&t, l, fx, m), CARD_OK);
	size_t n = r.n;
	struct card_model whole = *m;
	reread(c, &whole);
	const struct card_pin *a[3] = { &m->pin1, &m->pin2, &m->puk },
			      *b[3] = { &whole.pin1, &whole.pin2, &whole.puk };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i]->tries_left, b[i]->tries_left);
		assert_int_equal(a[i]->blocked, b[i]->blocked);
		assert_int_equal(a[i]->activated, b[i]->activated);
		assert_false(a[i]->verified);
	}
	assert_memory_equal(&m->sign, &whole.sign, sizeof(m->sign));
	assert_int_equal(m->sign_key_checked, whole.sign_key_checked);
	assert_int_equal(m->sign_cert_mismatch, whole.sign_cert_mismatch);
	return n;
}

/* The application's SELECT first, the VERIFY of the work right after it. */
static void assert_select_then_verify(const struct rec *r, const struct siths_layout *l,
				      uint8_t ref)
{
	assert_true(r->n >= 2);
	assert_int_equal(r->ins[0], 0xA4);
	assert_int_equal(r->p1[0],
			 l->app.path.len ? 0x08 : 0x04); /* by path from the MF, or by name */
	assert_int_equal(r->ins[1], 0x20);
	assert_int_equal(r->p2[1], ref);
}

/* ---- the work of a login and of a download, as server/domain/proof.c and server/domain/certjob.c do it ---- */

struct login {
	char pin[16];
	int tries;
	bool proof_ok;
};

/* True when sig is auth_cert's PKCS#1 v1.5 signature of the DigestInfo di. */
static bool signed_by(const uint8_t *der, size_t len, const uint8_t *di, size_t n,
		      const uint8_t *sig, size_t sig_len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY_CTX *ctx = x ? EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL) : NULL;
	bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		EVP_PKEY_verify(ctx, sig, sig_len, di, n) == 1;
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	return ok;
}

static const uint8_t DI[51] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
				0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
				0x20, 1,    2,    3,    4,    5,    6,    7,    8 };

static card_err login_work(card_session *s, const struct card_model *m, void *user)
{
	struct login *w = user;
	uint8_t sig[512];
	size_t sig_len = 0, len = 0;
	const uint8_t *der = NULL;
	(void)m;
	card_err e = card_verify_pin(s, CARD_PIN1, w->pin, &w->tries);
	if (!e)
		e = card_sign(s, CARD_KEY_AUTH, DI, sizeof(DI), sig, sizeof(sig), &sig_len);
	if (!e) {
		card_auth_cert(s, &der, &len);
		w->proof_ok = signed_by(der, len, DI, sizeof(DI), sig, sig_len);
	}
	return e;
}

/* A certificate for the key the card just generated (read back from its public-key file,
 * EF 4502, as the PuKDF lists it), so that the re-read finds it matching. */
static X509 *cert_for_new_key(struct sim_card *c)
{
	struct sim_file *f = sim_card_file(c, 0x4502);
	const unsigned char *p = f->data;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)f->size);
	p = f->data;
	if (!pub)
		pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)f->size);
	assert_non_null(pub);
	EVP_PKEY *ca_key = fx_key(0);
	X509 *ca = fx_ca_cert(FX_PERSON_CA_CN, ca_key, NULL, NULL);
	struct fx_cert o = { .cn = "Olof Svensson Andersson",
			     .hsa_id = FX_HSA_ID,
			     .policy = FX_POLICY_L3,
			     .key_usage = "critical,nonRepudiation",
			     .key = pub,
			     .issuer = ca,
			     .issuer_key = ca_key };
	X509 *x = fx_make_cert(&o);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(pub);
	return x;
}

struct download {
	struct sim_card *card;
	char pin[16];
	const struct rec *rec; /* to mark where the write starts */
	size_t before_write, cert_len, written;
	struct card_pubkey key; /* the key generated */
	bool commit_sent;
	bool stale_cert; /* a second key generated after the certificate was made for the first */
};

static void progress(size_t done, size_t total, void *user)
{
	struct download *w = user;
	assert_true(done > w->written && done <= total);
	w->written = done;
}

static card_err download_work(card_session *s, const struct card_model *m, void *user)
{
	struct download *w = user;
	struct card_pubkey *pk = &w->key;
	uint8_t sig[512], *der = NULL;
	size_t sig_len = 0;
	int tries = -1;
	(void)m;
	card_err e = card_pin_status(s, CARD_PIN2, &tries);
	if (!e)
		e = card_verify_pin(s, CARD_PIN2, w->pin, &tries);
	if (!e)
		e = card_generate_sign_key(s, pk);
	if (!e)
		e = card_sign(s, CARD_KEY_SIGN, DI, sizeof(DI), sig, sizeof(sig), &sig_len);
	if (e)
		return e;
	X509 *x = cert_for_new_key(w->card);
	if (w->stale_cert)
		assert_int_equal(card_generate_sign_key(s, pk), CARD_OK);
	int n = i2d_X509(x, &der);
	assert_true(n > 0);
	w->cert_len = (size_t)n;
	w->before_write = w->rec ? w->rec->n : 0;
	e = card_write_sign_cert(s, der, (size_t)n, progress, w, &w->commit_sent);
	OPENSSL_free(der);
	X509_free(x);
	return e;
}

/* ---- tests: each on a fresh card, inserted (model and layout read), its APDUs recorded ---- */

struct inserted {
	struct sim_card *c;
	struct card_model m;
	struct siths_layout l;
	struct rec r;
	struct apdu_transport t;
	struct session_effects fx;
};

static int setup(void **state)
{
	struct inserted *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->c = fx_sim_card(NULL);
	insert(k->c, &k->m, &k->l);
	rec_init(&k->r, k->c, &k->t);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct inserted *k = *state;
	siths_layout_free(&k->l);
	sim_card_free(k->c);
	free(k);
	return 0;
}

static card_err run(struct inserted *k, card_work_fn fn, void *user)
{
	return card_session_run(&k->t, &k->m, &k->l, fn, user, &k->fx);
}

static void login_apdus(void **state)
{
	struct inserted *k = *state;
	struct login w = { .pin = "123456", .tries = -1 };
	assert_int_equal(run(k, login_work, &w), CARD_OK);
	assert_true(w.proof_ok);
	assert_string_equal(w.pin, ""); /* wiped by the VERIFY */
	assert_select_then_verify(&k->r, &k->l, k->m.pin1.ref);
	assert_int_equal(k->r.lc[1], 6);
	assert_int_equal(k->r.ins[2], 0x22);
	assert_int_equal(k->r.ins[3], 0x88);
	assert_int_equal(k->r.n, LOGIN_WORK);
	assert_false(k->fx.changed);
	assert_int_equal(k->fx.pin[CARD_PIN1], SESSION_PIN_ASK);
	assert_int_equal(k->fx.pin[CARD_PIN2], SESSION_PIN_UNTOUCHED);
	assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m), LOGIN_COUNTERS);
	assert_int_equal(k->m.pin1.tries_left, 3);
}

/* A wrong PIN1: its 63Cx is the counter, so nothing is read after the work; then the right one
 * after a wrong one fills the counter again, and only the card can say so. */
static void wrong_pin_needs_no_read(void **state)
{
	struct inserted *k = *state;
	struct login w = { .pin = "111111", .tries = -1 };
	assert_int_equal(run(k, login_work, &w), CARD_E_PIN_WRONG);
	assert_int_equal(k->r.n, 2);
	assert_int_equal(k->fx.pin[CARD_PIN1], SESSION_PIN_KNOWN);
	assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m), 0);
	assert_int_equal(k->m.pin1.tries_left, 2);
	struct login right = { .pin = "123456", .tries = -1 };
	assert_int_equal(run(k, login_work, &right), CARD_OK);
	assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m), LOGIN_COUNTERS);
	assert_int_equal(k->m.pin1.tries_left, 3);
}

/* The first right PIN1 teaches the card's full counter; from then on a right code needs no read,
 * also after a wrong one, and the counter the model shows is the one the card holds. */
static void later_logins_read_nothing(void **state)
{
	struct inserted *k = *state;
	struct login first = { .pin = "123456", .tries = -1 };
	assert_int_equal(run(k, login_work, &first), CARD_OK);
	assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m), LOGIN_COUNTERS);
	assert_true(k->fx.restored[CARD_PIN1]);
	session_learn_max(&k->fx, &k->m);
	assert_int_equal(k->m.pin1.tries_max, 3);
	assert_int_equal(k->m.pin2.tries_max, 0);
	struct login wrong = { .pin = "111111", .tries = -1 };
	assert_int_equal(run(k, login_work, &wrong), CARD_E_PIN_WRONG);
	assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m), 0);
	assert_int_equal(k->m.pin1.tries_left, 2);
	for (int i = 0; i < 2; i++) {
		k->r.n = 0;
		struct login w = { .pin = "123456", .tries = -1 };
		assert_int_equal(run(k, login_work, &w), CARD_OK);
		assert_int_equal(k->r.n, LOGIN_WORK);
		assert_int_equal(k->fx.pin[CARD_PIN1], SESSION_PIN_KNOWN);
		assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m),
				 0); /* equal to a whole read */
		assert_int_equal(k->m.pin1.tries_left, 3);
	}
}

static void download_apdus(void **state)
{
	struct inserted *k = *state;
	assert_false(k->m.sign.present);
	struct download w = { .card = k->c, .pin = "654321", .rec = &k->r };
	assert_int_equal(run(k, download_work, &w), CARD_OK);
	assert_select_then_verify(&k->r, &k->l, k->m.pin2.ref);
	assert_int_equal(k->r.lc[1], 0); /* the counter first (no PIN sent) */
	assert_int_equal(k->r.ins[2], 0x20);
	assert_int_equal(k->r.lc[2], 6);              /* then the PIN */
	assert_int_equal(k->r.ins[k->r.n - 1], 0xD6); /* the CDF entry: the commit point, last */
	assert_int_equal(w.before_write, DOWNLOAD_KEY);
	assert_int_equal(k->r.n, DOWNLOAD_KEY + WRITE_APDUS(w.cert_len));
	assert_int_equal(w.written, w.cert_len);
	/* A key and files written, all of them accounted for by the work: no file is read again,
	 * only PIN2's counter (its first right code on this card), and the model equals a whole
	 * read's (counters() compares them). */
	assert_true(k->fx.changed && k->fx.sign_written);
	assert_int_equal(counters(k->c, &k->l, &k->fx, &k->m), DOWNLOAD_COUNTERS);
	assert_true(k->m.sign.present && k->m.sign_key_checked);
	assert_true(w.commit_sent);
	/* The model names the key its certificate certifies: the one generated, not another. */
	assert_true(card_cert_certifies(&k->m.sign, &w.key));
	assert_false(card_cert_certifies(&k->m.auth, &w.key));
	struct card_pubkey other = w.key;
	other.n[other.n_len - 1] ^= 1;
	assert_false(card_cert_certifies(&k->m.sign, &other));
}

/* A card that announces extended length (atr.h): every file read in one READ BINARY, the public
 * key without GET RESPONSE, the certificate written in one UPDATE BINARY and read back in one;
 * the model the same as over short APDUs. */
static void extended_length_card(void **state)
{
	struct inserted *k = *state;
	struct card_model m, short_model;
	struct siths_layout l;
	struct rec r;
	struct apdu_transport t;
	k->c->extended_length = true;
	size_t short_read = reread(k->c, &short_model);
	sim_card_reset_session(k->c);
	rec_init(&r, k->c, &t);
	t.extended = true;
	memset(&m, 0, sizeof(m));
	assert_int_equal(siths_read_layout(&t, &m, &l), CARD_OK);
	siths_layout_free(&l);
	assert_true(r.n < short_read);
	/* the pages after the first of the files over 256 bytes (the authentication certificate,
	 * 1,2xx bytes: 4 more) are not asked for */
	assert_int_equal(r.n, short_read - 4);
	assert_memory_equal(&m.auth, &short_model.auth, sizeof(m.auth));
	assert_memory_equal(&m.pin1, &short_model.pin1, sizeof(m.pin1));
	k->t.extended = true;
	k->r.n = 0;
	struct download w = { .card = k->c, .pin = "654321", .rec = &k->r };
	assert_int_equal(run(k, download_work, &w), CARD_OK);
	assert_true(w.cert_len > 256);
	assert_int_equal(w.before_write, DOWNLOAD_KEY - 1);
	assert_int_equal(k->r.n, DOWNLOAD_KEY - 1 + WRITE_APDUS(1));
	assert_true(k->fx.sign_written);
}

/* A certificate for another key than the one generated last (here: the one before it) does not
 * stand for the card: the whole model is read again, and it shows the mismatch. */
static void stale_cert_reads_whole(void **state)
{
	struct inserted *k = *state;
	struct download w = { .card = k->c, .pin = "654321", .stale_cert = true };
	assert_int_equal(run(k, download_work, &w), CARD_OK);
	assert_true(k->fx.changed);
	assert_false(k->fx.sign_written);
	assert_int_equal(reread(k->c, &k->m), REREAD_WITH_CERT(w.cert_len));
	assert_false(k->m.sign.present);
	assert_true(k->m.sign_cert_mismatch);
}

/* No stored layout (a card whose insertion read did not get that far): read in the session,
 * then the same SELECT + VERIFY. */
static void layout_read_when_not_kept(void **state)
{
	struct inserted *k = *state;
	struct login w = { .pin = "123456", .tries = -1 };
	assert_int_equal(card_session_run(&k->t, &k->m, NULL, login_work, &w, NULL), CARD_OK);
	assert_true(w.proof_ok);
	assert_true(k->r.n > LOGIN_WORK);
	size_t first = k->r.n - LOGIN_WORK;
	assert_int_equal(k->r.ins[first], 0xA4);
	assert_int_equal(k->r.ins[first + 1], 0x20);
}

static card_err bad_pin_work(card_session *s, const struct card_model *m, void *user)
{
	int tries = 99;
	(void)m;
	card_err e = card_verify_pin(s, CARD_PIN1, user, &tries);
	assert_int_equal(tries, -1);
	return e;
}

static void malformed_pin_not_sent(void **state)
{
	struct inserted *k = *state;
	assert_false(card_pin_format_ok(&k->m.pin1, "12a456"));
	assert_true(card_pin_format_ok(&k->m.pin1, "123456"));
	char pin[] = "12a456";
	assert_int_equal(run(k, bad_pin_work, pin), CARD_E_PIN_FORMAT);
	assert_int_equal(k->r.n, 1); /* the SELECT only */
	assert_memory_equal(pin, "\0\0\0\0\0\0", 6);
}

/* The card accepts PIN1, then answers the proof with 63C2: a card error, never "wrong PIN". */
static void pin_status_after_verify_is_a_card_error(void **state)
{
	struct inserted *k = *state;
	k->r.fault_ins = 0x88;
	struct login w = { .pin = "123456", .tries = -1 };
	assert_int_equal(run(k, login_work, &w), CARD_E_CARD_ERROR);
	assert_int_equal(k->r.n, LOGIN_WORK);
}

static card_err status_work(card_session *s, const struct card_model *m, void *user)
{
	(void)m;
	return card_pin_status(s, CARD_PIN2, user);
}

static void blocked_pin_status(void **state)
{
	struct inserted *k = *state;
	int tries = 99;
	assert_int_equal(run(k, status_work, &tries), CARD_OK);
	assert_int_equal(tries, 3);
	for (int i = 0; i < 3; i++) {
		struct download w = { .card = k->c, .pin = "111111" };
		assert_int_equal(run(k, download_work, &w),
				 i < 2 ? CARD_E_PIN_WRONG : CARD_E_PIN_BLOCKED);
	}
	size_t sent = k->r.n;
	assert_int_equal(run(k, status_work, &tries), CARD_E_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(k->r.n, sent + 2); /* SELECT + the empty VERIFY */
}

static card_err never_called(card_session *s, const struct card_model *m, void *user)
{
	(void)s;
	(void)m;
	(void)user;
	fail_msg("the work ran after its SELECT failed");
	return CARD_E_INTERNAL;
}

/* Pulled at the SELECT: the error comes back and the work never runs. */
static void error_before_the_work(void **state)
{
	struct inserted *k = *state;
	k->r.sim.pull_after = 0;
	assert_int_equal(run(k, never_called, NULL), CARD_E_REMOVED);
}

int main(void)
{
	if (fx_sim_pki("test-pki-session"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(login_apdus, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_pin_needs_no_read, setup, teardown),
		cmocka_unit_test_setup_teardown(later_logins_read_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_cert_reads_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(extended_length_card, setup, teardown),
		cmocka_unit_test_setup_teardown(download_apdus, setup, teardown),
		cmocka_unit_test_setup_teardown(layout_read_when_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_pin_not_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_status_after_verify_is_a_card_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(blocked_pin_status, setup, teardown),
		cmocka_unit_test_setup_teardown(error_before_the_work, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, fx_pki_teardown);
}
