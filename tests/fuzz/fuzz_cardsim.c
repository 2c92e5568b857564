/* fuzz_cardsim.c — the virtual card's APDU interpreter (card/sim/sim_apdu.c) on any command
 * sequence: input = chunks (fz_chunks.h), one C-APDU each, sent to a card loaded fresh from the
 * seed state (SITHS_FUZZ_DATA/card-state.json, made by fuzz-seeds) and kept in memory only.
 * Every answer must carry a status word and fit the interpreter's stated maximum. */
#include <stdio.h>
#include <stdlib.h>

#include "fz_chunks.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"

static char state[1024];
static struct sim_profile profile;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("SITHS_FUZZ_DATA");
	if (!dir) {
		fprintf(stderr,
			"fuzz_cardsim: SITHS_FUZZ_DATA (fuzz-seeds' data folder) is not set\n");
		exit(1);
	}
	snprintf(state, sizeof(state), "%s/card-state.json", dir);
	sim_profile_default(&profile);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_card *c = NULL;
	char err[256];
	static uint8_t out[SIM_RAPDU_MAX];
	if (sim_card_open(state, &profile, NULL, &c, err, sizeof(err)) != SIM_OK) {
		fprintf(stderr, "fuzz_cardsim: %s: %s\n", state, err);
		abort();
	}
	free(c->state_path); /* memory only: the seed state stays as it is */
	c->state_path = NULL;
	struct fz_chunks in = { data, size };
	const uint8_t *cmd;
	size_t n;
	while (fz_next(&in, &cmd, &n))
		if (sim_apdu_process(c, cmd, n, out) < 2)
			abort();
	sim_card_free(c);
	return 0;
}
