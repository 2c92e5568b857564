/* fuzz_cardsim.c — the virtual card's APDU interpreter (card/sim/sim_apdu.c) on any command
 * sequence: input = chunks (fz_chunks.h), one C-APDU each, sent to a copy of the seed card
 * (SITHS_FUZZ_DATA/card-state.json, made by fuzz-seeds, loaded once) kept in memory only, so
 * every input starts from the same card. Every answer must carry a status word. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fz_chunks.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"

static struct sim_card *seed;

/* A deep copy of the seed card's memory with a fresh session, in memory only (no state file).
 * Keys are shared by reference: a GENERATE replaces the copy's key, never the seed's. */
static struct sim_card *copy_seed(void)
{
	struct sim_card *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	memcpy(c->files, seed->files, sizeof(c->files));
	memcpy(c->pins, seed->pins, sizeof(c->pins));
	memcpy(c->keys, seed->keys, sizeof(c->keys));
	c->realistic = false;
	for (size_t i = 0; i < SIM_NFILES; i++) {
		const struct sim_file *f = &seed->files[i];
		c->files[i].data = f->data ? malloc(f->size ? f->size : 1) : NULL;
		if (f->data && !c->files[i].data)
			abort();
		if (f->data && f->size)
			memcpy(c->files[i].data, f->data, f->size);
	}
	for (size_t i = 0; i < SIM_NKEYS; i++)
		if (c->keys[i].pkey)
			EVP_PKEY_up_ref(c->keys[i].pkey);
	sim_card_reset_session(c);
	return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("SITHS_FUZZ_DATA");
	char state[1024], err[256];
	struct sim_profile profile;
	if (!dir) {
		fprintf(stderr,
			"fuzz_cardsim: SITHS_FUZZ_DATA (fuzz-seeds' data folder) is not set\n");
		exit(1);
	}
	snprintf(state, sizeof(state), "%s/card-state.json", dir);
	sim_profile_default(&profile);
	/* No PKI: a missing state file is an error here, not a card to create. */
	if (access(state, R_OK) || sim_card_open(state, &profile, NULL, &seed, err, sizeof(err))) {
		fprintf(stderr, "fuzz_cardsim: %s: %s\n", state,
			access(state, R_OK) ? "missing" : err);
		exit(1);
	}
	sim_profile_wipe(&profile);
	free(seed->state_path);
	seed->state_path = NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SIM_RAPDU_MAX];
	struct sim_card *c = copy_seed();
	struct fz_chunks in = { data, size };
	const uint8_t *cmd;
	size_t n;
	while (fz_next(&in, &cmd, &n))
		if (sim_apdu_process(c, cmd, n, out) < 2)
			abort();
	sim_card_free(c);
	return 0;
}
