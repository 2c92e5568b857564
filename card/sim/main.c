/* main.c — siths-cardsim: command line of the virtual SITHS card. Loads or creates the card
 * state, then plugs it into a vpcd reader until the reader goes away, a fault drops it, or a
 * signal stops it. See docs/virtual-card.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <openssl/rand.h>

#include "sim_apdu.h"
#include "sim_card.h"
#include "sim_p15.h"
#include "sim_profile.h"
#include "sim_vpcd.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGUSR1: a mark in the log. It is taken only while the card waits for the next command
 * (sim_vpcd.c), so every command answered before the signal is logged above the mark: a fence
 * for whoever reads the log (docs/virtual-card.md). */
static void on_mark(int sig)
{
	static const char line[] = "siths-cardsim: mark\n";
	(void)sig;
	ssize_t r = write(STDERR_FILENO, line, sizeof(line) - 1);
	(void)r;
}

static void usage(FILE *f)
{
	fputs("usage: siths-cardsim --port N --pki DIR --state FILE [options]\n"
	      "       siths-cardsim --export-certs DIR --state FILE [--pki DIR] [--card "
	      "FILE.json]\n"
	      "  --port N              vpcd reader port (pcscd reader.conf CHANNELID), e.g. 35963\n"
	      "  --host ADDR           vpcd host (default 127.0.0.1)\n"
	      "  --pki DIR             test SITHS hierarchy from certs/test-siths-pki.sh DIR\n"
	      "  --state FILE          the card's persistent memory; created from the profile if "
	      "missing\n"
	      "  --card FILE.json      card profile overrides (used when the state is created)\n"
	      "  --delay realistic     real-card timings (key generation ~4 s, signing ~0.3 s)\n"
	      "  --delay t1            realistic, and each APDU's transfer through a T=1 reader\n"
	      "                        (1 ms a command, 11 etu a byte at 115,200 bit/s)\n"
	      "  --trace FILE          one JSON line per answered APDU (header, lengths, status\n"
	      "                        word, times; never command data)\n"
	      "  --wait SECONDS        keep retrying the vpcd connection this long (default 10)\n"
	      "  --drop-after N        pull the card after N APDUs were answered\n"
	      "  --drop-at KIND[:K]    pull the card at the K-th (default 1st) APDU of KIND, "
	      "before\n"
	      "                        answering; KIND: select read-binary update-binary verify\n"
	      "                        change-ref reset-retry mse pso-cds internal-auth "
	      "generate-key\n"
	      "                        get-response get-challenge other, or any (the K-th APDU\n"
	      "                        of whatever kind)\n"
	      "  --drop-after-commit KIND[:K]  carry that APDU out (state saved), then pull the "
	      "card\n"
	      "                        before answering it\n"
	      "  --garbage-at KIND[:K]  answer that APDU with random bytes instead (broken card)\n"
	      "  --corrupt FID:MODE    test only: damage EF FID (hex) at start, MODE "
	      "truncate|garbage\n"
	      "  --export-certs DIR    write the card's certificates (DER+PEM) and public keys, "
	      "exit\n"
	      "  --next-key FILE       the next GENERATE yields the RSA key in FILE (PEM), once,\n"
	      "                        instead of a new one (a certificate for it made first)\n"
	      "  --extended-length     announce extended Lc/Le in the ATR and take such APDUs\n"
	      "                        (without it the card answers them 6700, as a short-only "
	      "card)\n"
	      "  --verbose             log command headers and status words (never command data)\n"
	      "  --help                this text\n",
	      f);
}

struct opts {
	const char *pki, *state, *card, *export_dir, *corrupt, *trace, *next_key;
	bool realistic, extended_length;
	struct sim_vpcd_opts v;
};

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* fast | realistic | t1 (realistic, plus the reader's transfer time): 0, or 1 if unknown. */
static int parse_delay(const char *val, struct opts *o)
{
	o->realistic = !strcmp(val, "realistic") || !strcmp(val, "t1");
	o->v.t1 = !strcmp(val, "t1");
	return !o->realistic && strcmp(val, "fast") != 0;
}

/* Returns 0 to run, 1 to exit successfully (help), -1 on a usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	long port = -1, wait_s = 10;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!strcmp(a, "--help"))
			return 1;
		bool *flag = !strcmp(a, "--verbose")      ? &o->v.verbose
			: !strcmp(a, "--extended-length") ? &o->extended_length
							  : NULL;
		if (flag) {
			*flag = true;
			continue;
		}
		if (!val) {
			fprintf(stderr, "siths-cardsim: %s needs a value (or is unknown)\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--port"))
			bad = parse_long(val, 1, 65535, &port);
		else if (!strcmp(a, "--host"))
			o->v.host = val;
		else if (!strcmp(a, "--pki"))
			o->pki = val;
		else if (!strcmp(a, "--state"))
			o->state = val;
		else if (!strcmp(a, "--card"))
			o->card = val;
		else if (!strcmp(a, "--delay"))
			bad = parse_delay(val, o);
		else if (!strcmp(a, "--trace"))
			o->trace = val;
		else if (!strcmp(a, "--wait"))
			bad = parse_long(val, 0, 3600, &wait_s);
		else if (!strcmp(a, "--drop-after"))
			bad = parse_long(val, 1, 1000000000L, &o->v.drop_after);
		else if (!strcmp(a, "--drop-at"))
			bad = sim_trigger_parse(val, &o->v.drop_at);
		else if (!strcmp(a, "--drop-after-commit"))
			bad = sim_trigger_parse(val, &o->v.drop_after_commit);
		else if (!strcmp(a, "--garbage-at"))
			bad = sim_trigger_parse(val, &o->v.garbage_at);
		else if (!strcmp(a, "--corrupt"))
			o->corrupt = val;
		else if (!strcmp(a, "--next-key"))
			o->next_key = val;
		else if (!strcmp(a, "--export-certs"))
			o->export_dir = val;
		else {
			fprintf(stderr, "siths-cardsim: unknown option %s\n", a);
			return -1;
		}
		if (bad) {
			fprintf(stderr, "siths-cardsim: invalid value for %s: %s\n", a, val);
			return -1;
		}
	}
	o->v.port = (int)port;
	o->v.wait_ms = wait_s * 1000;
	if (!o->state || (!o->export_dir && (port < 0 || !o->pki))) {
		fprintf(stderr,
			"siths-cardsim: --state and (--port and --pki, or --export-certs) are "
			"required\n");
		return -1;
	}
	return 0;
}

/* --corrupt FID:truncate|garbage: damage one EF so readers meet truncated or random DER. */
static int corrupt(struct sim_card *c, const char *spec)
{
	unsigned fid;
	char mode[16];
	if (sscanf(spec, "%4x:%15s", &fid, mode) != 2)
		return -1;
	struct sim_file *f = sim_card_file(c, (uint16_t)fid);
	if (!f || f->df || f->size < 2)
		return -1;
	if (!strcmp(mode, "truncate"))
		f->size /= 2;
	else if (!strcmp(mode, "garbage"))
		return RAND_bytes(f->data, (int)f->size) == 1 ? 0 : -1;
	else
		return -1;
	return 0;
}

static struct sim_card *open_card(const struct opts *o)
{
	struct sim_profile p;
	struct sim_card *c = NULL;
	char err[512] = "";
	enum sim_err rc = SIM_OK;

	sim_profile_default(&p);
	if (o->card)
		rc = sim_profile_load(&p, o->card, err, sizeof(err));
	if (rc == SIM_OK && !o->pki && access(o->state, F_OK) != 0) {
		snprintf(err, sizeof(err), "%s does not exist and no --pki was given to create it",
			 o->state);
		rc = SIM_E_ARG;
	}
	if (rc == SIM_OK)
		rc = sim_card_open(o->state, &p, o->pki ? o->pki : "", &c, err, sizeof(err));
	sim_profile_wipe(&p);
	if (rc != SIM_OK)
		fprintf(stderr, "siths-cardsim: %s\n", err[0] ? err : sim_strerror(rc));
	return c;
}

int main(int argc, char **argv)
{
	struct opts o = { .v = { .host = "127.0.0.1",
				 .drop_at = { -1, 0 },
				 .drop_after_commit = { -1, 0 },
				 .garbage_at = { -1, 0 } } };
	int r = parse_args(argc, argv, &o);
	if (r) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	struct sim_card *c = open_card(&o);
	if (!c)
		return 1;
	if (o.export_dir) {
		char err[512] = "";
		enum sim_err rc = sim_card_export(c, o.export_dir, err, sizeof(err));
		if (rc != SIM_OK)
			fprintf(stderr, "siths-cardsim: %s\n", err);
		sim_card_free(c);
		return rc == SIM_OK ? 0 : 1;
	}
	if (o.corrupt && corrupt(c, o.corrupt) != 0) {
		fprintf(stderr, "siths-cardsim: invalid --corrupt %s\n", o.corrupt);
		sim_card_free(c);
		return 2;
	}
	c->realistic = o.realistic;
	c->extended_length = o.extended_length;
	char kerr[512];
	if (o.next_key && sim_card_set_next_key(c, o.next_key, kerr, sizeof kerr) != SIM_OK) {
		fprintf(stderr, "siths-cardsim: %s\n", kerr);
		sim_card_free(c);
		return 2;
	}
	if (o.trace && !(o.v.trace = fopen(o.trace, "we"))) {
		fprintf(stderr, "siths-cardsim: cannot write %s: %s\n", o.trace, strerror(errno));
		sim_card_free(c);
		return 1;
	}
	if (o.v.trace)
		setvbuf(o.v.trace, NULL, _IOLBF, 0); /* a reader follows it line by line */

	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: reads return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct sigaction mark = { .sa_handler = on_mark };
	sigemptyset(&mark.sa_mask);
	sigaction(SIGUSR1, &mark, NULL);
	signal(SIGPIPE, SIG_IGN);

	enum sim_err rc = sim_vpcd_run(c, &o.v, &stop_flag);
	if (o.v.trace)
		fclose(o.v.trace);
	if (!o.corrupt && sim_card_save(c) != SIM_OK) {
		fprintf(stderr, "siths-cardsim: cannot write %s\n", o.state);
		rc = SIM_E_IO;
	}
	sim_card_free(c);
	return rc == SIM_OK ? 0 : 1;
}
