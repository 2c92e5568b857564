/* fuzz_seeds.c — fuzz-seeds OUT PKI: the seed corpora from real traffic. It makes the virtual
 * card in-process (an ordinary card, and a reserve card with a signature certificate) from the
 * test PKI, lets the daemon's own reader (siths_read_layout) read it, and writes what went over
 * the wire: the card's answers (OUT/card_read/), the commands (OUT/cardsim/), each PKCS#15 file
 * (OUT/p15/, tagged as fuzz_p15.c reads it, and OUT/der/), the certificate pairs of
 * fuzz_certcheck.c (OUT/certcheck/), and the card state fuzz_cardsim.c loads
 * (OUT/data/card-state.json). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fz_chunks.h"
#include "p15.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"
#include "siths.h"

#define LOG_CAP (1u << 20)

struct rec {
	struct sim_card *card;
	uint8_t *cmds, *answers;
	size_t n_cmds, n_answers;
};

static const char *out_dir;

static card_err record(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len)
{
	struct rec *r = ctx;
	*len = sim_apdu_process(r->card, cmd, n, resp);
	size_t a = fz_put(r->cmds, r->n_cmds, LOG_CAP, cmd, n);
	size_t b = fz_put(r->answers, r->n_answers, LOG_CAP, resp, *len);
	if (!a || !b) {
		fprintf(stderr, "fuzz-seeds: transcript too long\n");
		exit(1);
	}
	r->n_cmds = a;
	r->n_answers = b;
	return CARD_OK;
}

static void put_file(const char *sub, const char *name, const uint8_t *tag, const uint8_t *p,
		     size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", out_dir, sub);
	if (mkdir(path, 0755) && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || (tag && fwrite(tag, 1, 1, f) != 1) || (n && fwrite(p, 1, n, f) != n) || fclose(f))
		goto fail;
	return;
fail:
	fprintf(stderr, "fuzz-seeds: %s/%s/%s: %s\n", out_dir, sub, name, strerror(errno));
	exit(1);
}

/* fuzz_p15.c's tag of the file with this FID, by the card's ODF; -1 for none. */
static int p15_tag(const struct p15_odf *odf, uint16_t fid)
{
	static const int by_kind[] = {
		[P15_DF_PRKDF] = 4, [P15_DF_PUKDF] = 5, [P15_DF_CDF] = 6, [P15_DF_AODF] = 3
	};
	if (fid == 0x2F00)
		return 0;
	if (fid == 0x5031)
		return 1;
	if (fid == 0x5032)
		return 2;
	for (size_t i = 0; i < odf->n; i++) {
		const struct p15_path *p = &odf->e[i].path;
		unsigned k = odf->e[i].kind;
		if (p->len >= 2 && (p->b[p->len - 2] << 8 | p->b[p->len - 1]) == fid &&
		    k < sizeof(by_kind) / sizeof(by_kind[0]) && (by_kind[k] || k == P15_DF_PRKDF))
			return by_kind[k];
	}
	return -1;
}

/* The certificates of a card: the signature one has nonRepudiation, the authentication one not. */
struct certs {
	uint8_t *auth, *sign;
	size_t auth_len, sign_len;
};

static void keep_cert(struct certs *cs, X509 *x, const uint8_t *der, size_t n)
{
	bool sign = X509_get_key_usage(x) & KU_NON_REPUDIATION;
	uint8_t **dst = sign ? &cs->sign : &cs->auth;
	size_t *len = sign ? &cs->sign_len : &cs->auth_len;
	if (*dst)
		return;
	*dst = malloc(n);
	if (!*dst)
		exit(1);
	memcpy(*dst, der, n);
	*len = n;
}

/* fuzz_certcheck.c's input: the authentication certificate, then the candidate. */
static void certcheck_seed(const struct certs *cs, const char *card)
{
	static uint8_t buf[65536];
	size_t n = fz_put(buf, 0, sizeof(buf), cs->auth, cs->auth_len);
	const uint8_t *cand = cs->sign ? cs->sign : cs->auth;
	n = n ? fz_put(buf, n, sizeof(buf), cand, cs->sign ? cs->sign_len : cs->auth_len) : 0;
	if (!cs->auth || !n) {
		fprintf(stderr, "fuzz-seeds: no authentication certificate on %s\n", card);
		exit(1);
	}
	put_file("certcheck", card, NULL, buf, n);
}

static void files(struct sim_card *c, const char *card)
{
	struct certs cs = { 0 };
	struct p15_odf odf = { .n = 0 };
	struct sim_file *o = sim_card_file(c, 0x5031);
	if (!o || p15_parse_odf(o->data, o->size, &odf) != DER_OK) {
		fprintf(stderr, "fuzz-seeds: the virtual card's ODF does not parse\n");
		exit(1);
	}
	for (size_t i = 0; i < SIM_NFILES; i++) {
		const struct sim_file *f = &c->files[i];
		char name[64];
		if (f->df || !f->data || !f->size)
			continue;
		snprintf(name, sizeof(name), "%s-%04x", card, f->fid);
		int tag = p15_tag(&odf, f->fid);
		if (tag >= 0) {
			uint8_t t = (uint8_t)tag;
			put_file("p15", name, &t, f->data, f->size);
		}
		put_file("der", name, NULL, f->data, f->size);
		const unsigned char *p = f->data;
		X509 *x = d2i_X509(NULL, &p, (long)f->size);
		if (x) /* the certificate alone, without the EF's padding */
			keep_cert(&cs, x, f->data, (size_t)(p - f->data));
		X509_free(x);
	}
	certcheck_seed(&cs, card);
	free(cs.auth);
	free(cs.sign);
}

/* The card state fuzz_cardsim.c starts every input from. */
static void state_file(struct sim_card *c)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/data", out_dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		exit(1);
	snprintf(path, sizeof(path), "%s/data/card-state.json", out_dir);
	c->state_path = strdup(path);
	if (!c->state_path || sim_card_save(c) != SIM_OK) {
		fprintf(stderr, "fuzz-seeds: %s cannot be written\n", path);
		exit(1);
	}
}

static struct sim_card *make(const char *pki, bool reserve_with_sign)
{
	struct sim_profile p;
	struct sim_card *c = NULL;
	char err[256];
	sim_profile_default(&p);
	if (reserve_with_sign) {
		p.card_type = SIM_CARD_RESERVE;
		p.trust_level = 2;
		p.with_signature_certificate = true;
	}
	enum sim_err e = sim_card_create(&p, pki, &c, err, sizeof(err));
	sim_profile_wipe(&p);
	if (e != SIM_OK) {
		fprintf(stderr, "fuzz-seeds: virtual card: %s\n", err);
		exit(1);
	}
	return c;
}

static void traffic(struct sim_card *c, const char *card)
{
	struct rec r = { .card = c, .cmds = malloc(LOG_CAP), .answers = malloc(LOG_CAP) };
	struct apdu_transport t = { .transmit = record, .ctx = &r };
	static struct card_model m;
	struct siths_layout l;
	if (!r.cmds || !r.answers || siths_read_layout(&t, &m, &l) != CARD_OK) {
		fprintf(stderr, "fuzz-seeds: the virtual card %s does not read\n", card);
		exit(1);
	}
	siths_layout_free(&l);
	put_file("card_read", card, NULL, r.answers, r.n_answers);
	put_file("cardsim", card, NULL, r.cmds, r.n_cmds);
	free(r.cmds);
	free(r.answers);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz-seeds OUT PKI\n");
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) && errno != EEXIST) {
		perror(out_dir);
		return 1;
	}
	struct sim_card *ordinary = make(argv[2], false), *reserve = make(argv[2], true);
	traffic(ordinary, "ordinary");
	traffic(reserve, "reserve");
	files(ordinary, "ordinary");
	files(reserve, "reserve");
	state_file(ordinary);
	sim_card_free(ordinary);
	sim_card_free(reserve);
	return 0;
}
