/* fuzz_card_read.c — the whole card read of an insertion (card/siths.c over apdu.c, iso.c,
 * p15.c, der.c and OpenSSL's X.509 parser) against a card whose every answer comes from the
 * input: one chunk (fz_chunks.h) per APDU answer, data + status word; when they run out the
 * card is pulled. Seeds: the virtual card's real answers to a read (fuzz-seeds). */
#include <stdint.h>
#include <string.h>

#include "fz_chunks.h"
#include "siths.h"

static card_err replay(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len)
{
	(void)cmd;
	(void)n;
	const uint8_t *c;
	size_t clen;
	if (!fz_next(ctx, &c, &clen))
		return CARD_E_REMOVED;
	if (clen > APDU_MAX_RESP)
		clen = APDU_MAX_RESP;
	memcpy(resp, c, clen);
	*len = clen;
	return CARD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_chunks in = { data, size };
	struct apdu_transport t = { .transmit = replay, .ctx = &in };
	static struct card_model m;
	struct siths_layout l;
	memset(&m, 0, sizeof(m));
	(void)siths_read_layout(&t, &m, &l);
	siths_layout_free(&l);
	return 0;
}
