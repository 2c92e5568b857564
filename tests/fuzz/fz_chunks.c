/* fz_chunks.c — the chunk format of fz_chunks.h, read by the targets and written by the seed
 * generator (fuzz-seeds), so both sides agree by construction. */
#include "fz_chunks.h"

#include <string.h>

bool fz_next(struct fz_chunks *in, const uint8_t **c, size_t *len)
{
	if (in->n < 2)
		return false;
	size_t want = (size_t)in->p[0] << 8 | in->p[1];
	size_t have = in->n - 2 < want ? in->n - 2 : want;
	*c = in->p + 2;
	*len = have;
	in->p += 2 + have;
	in->n -= 2 + have;
	return true;
}

size_t fz_put(uint8_t *out, size_t used, size_t cap, const uint8_t *c, size_t len)
{
	if (len > 0xffff || cap - used < len + 2 || used > cap)
		return 0;
	out[used] = (uint8_t)(len >> 8);
	out[used + 1] = (uint8_t)len;
	memcpy(out + used + 2, c, len);
	return used + 2 + len;
}
