/* sim_cmd.c — the three services every command handler of the virtual card may use: appending
 * response data, waiting like a real card (--delay realistic), persisting the card. */
#include "sim_cmd.h"

#include <string.h>
#include <time.h>

void sim_cmd_put(struct sim_rsp *r, const void *p, size_t n)
{
	/* Handlers never produce more than SIM_RSP_MAX bytes; the check keeps that a fact. */
	if (n > SIM_RSP_MAX - r->len)
		n = SIM_RSP_MAX - r->len;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

void sim_cmd_delay(struct sim_card *c, long ms)
{
	if (!c->realistic)
		return;
	sim_cmd_sleep_us(ms * 1000L);
	c->busy_us += ms * 1000L;
}

void sim_cmd_sleep_us(long us)
{
	struct timespec t = { us / 1000000L, (us % 1000000L) * 1000L };
	while (nanosleep(&t, &t) != 0)
		;
}

uint16_t sim_cmd_save(struct sim_card *c)
{
	return sim_card_save(c) == SIM_OK ? SIM_SW_OK : SIM_SW_MEMORY;
}
