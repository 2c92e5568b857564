/* doctor.c — the doctor command: its options, the checks in the order a support person reads
 * them (card side, service, ports, certificate and trust, policies, the bridge itself), and
 * the output. */
#include "doctor.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "doctor_checks.h"
#include "toolcfg.h"

static void usage(FILE *f)
{
	fputs("usage: siths-bridge doctor [--lang sv|en] [--json] [--config FILE] [--root DIR]\n"
	      "Checks what this user's bridge needs (pcscd, readers and cards, the service, the\n"
	      "ports, the certificate and its trust, the browser policies, /health) and names the\n"
	      "fix of each failure. Exit status 0 only when everything needed works.\n",
	      f);
}

struct doctor_opts {
	enum check_lang lang;
	bool json;
	const char *config, *root;
};

/* 0 to go on, else the exit status (-1: --help, exit 0). */
static int parse(int argc, char **argv, struct doctor_opts *o)
{
	static const struct option lo[] = { { "lang", required_argument, NULL, 'l' },
					    { "json", no_argument, NULL, 'j' },
					    { "config", required_argument, NULL, 'c' },
					    { "root", required_argument, NULL, 'R' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	int r;
	opterr = 0;
	optind = 1;
	while ((r = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (r == 'h')
			return -1;
		if (r == 'j')
			o->json = true;
		else if (r == 'c')
			o->config = optarg;
		else if (r == 'R')
			o->root = optarg;
		else if (r == 'l' && (!strcmp(optarg, "sv") || !strcmp(optarg, "en")))
			o->lang = !strcmp(optarg, "en") ? CHECK_EN : CHECK_SV;
		else
			return 2;
	}
	return optind < argc ? 2 : 0;
}

int doctor_main(int argc, char **argv)
{
	struct doctor_opts o = { .lang = CHECK_SV, .root = getenv("SITHS_POLICIES_ROOT") };
	struct check_list l = { 0 };
	struct doctor_env e;
	struct cfg c;
	int rc = parse(argc, argv, &o);
	if (rc) {
		usage(rc < 0 ? stdout : stderr);
		return rc < 0 ? 0 : rc;
	}
	/* A port's holder may close on us mid-write (another user's bridge does, before TLS). */
	signal(SIGPIPE, SIG_IGN);
	cfg_init(&c);
	if (toolcfg_load(&c, o.config, true, "siths-bridge doctor")) {
		cfg_free(&c);
		return 2;
	}
	/* The user service passes its own --cert and --key (the user's state folder), which win over
	 * the files' keys; only a configuration named here may point elsewhere. */
	if (!o.config) {
		free(c.cert_file);
		free(c.key_file);
		c.cert_file = c.key_file = NULL;
	}
	doctor_env_init(&e, &c, toolcfg_home());
	e.policy_root = o.root;
	doctor_check_pcsc(&e, &l);
	doctor_check_service(&e, &l);
	doctor_check_ports(&e, &l);
	doctor_check_cert(&e, &l);
	doctor_check_trust(&e, &l);
	doctor_check_policies(&e, &l);
	doctor_check_health(&e, &l);
	rc = check_list_ok(&l) ? 0 : 1;
	if (o.json) {
		char *j = check_render_json(&l, o.lang);
		if (j)
			puts(j);
		else
			rc = 1;
		free(j);
	} else {
		check_render_text(&l, o.lang, stdout);
	}
	check_list_free(&l);
	cfg_free(&c);
	return rc;
}
