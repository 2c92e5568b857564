/* fx_sim.c — the in-process virtual card of fx_sim.h, shared by the unit tests of the SITHS
 * model reader and of the card operations. The program's target defines SITHS_SOURCE_DIR and
 * SITHS_TEST_BINARY_DIR. */
#include "fx_sim.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sim/sim_apdu.h"

static char pki_dir[256];

card_err fx_sim_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len)
{
	struct fx_simt *s = ctx;
	if (s->pull_after >= 0 && s->count >= s->pull_after)
		return CARD_E_REMOVED;
	s->count++;
	*len = sim_apdu_process(s->card, cmd, n, resp);
	return CARD_OK;
}

int fx_sim_pki(const char *name)
{
	char cmd[1024];
	snprintf(pki_dir, sizeof(pki_dir), "%s/%s", SITHS_TEST_BINARY_DIR, name);
	snprintf(cmd, sizeof(cmd), "'%s/certs/test-siths-pki.sh' '%s' >/dev/null", SITHS_SOURCE_DIR, pki_dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct sim_card *fx_sim_card(void (*tweak)(struct sim_profile *))
{
	struct sim_profile p;
	struct sim_card *c = NULL;
	char err[256];
	if (!pki_dir[0])
		fail_msg("fx_sim_pki() was not called");
	sim_profile_default(&p);
	if (tweak)
		tweak(&p);
	enum sim_err rc = sim_card_create(&p, pki_dir, &c, err, sizeof(err));
	sim_profile_wipe(&p);
	if (rc != SIM_OK)
		fail_msg("card: %s", err);
	return c;
}
