/* fx_apdu.c — the scripted fake APDU transport and hex helper of fx_apdu.h, shared by the unit
 * tests of the APDU layer and of the PKCS#15 parsers. */
#include "fx_apdu.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

size_t fx_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == ' ')
			continue;
		unsigned v;
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)v;
		s++;
	}
	return n;
}

card_err fx_script_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct fx_script *s = ctx;
	s->calls++;
	if (s->pos >= s->n) {
		if (!s->repeat_last)
			fail_msg("unexpected APDU #%zu", s->pos);
		s->pos = s->n - 1;
	}
	const struct fx_step *st = &s->steps[s->pos++];
	if (st->cmd) {
		uint8_t want[300];
		size_t wn = fx_unhex(st->cmd, want, sizeof(want));
		if (wn != n || memcmp(want, cmd, n)) {
			char got[700] = "";
			for (size_t i = 0; i < n && i < 300; i++)
				snprintf(got + 2 * i, 3, "%02X", cmd[i]);
			fail_msg("APDU #%zu: got %s, want %s", s->pos - 1, got, st->cmd);
		}
	}
	if (!st->resp)
		return st->err;
	*resp_len = fx_unhex(st->resp, resp, APDU_MAX_RESP);
	return CARD_OK;
}
