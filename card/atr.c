/* atr.c — the Answer To Reset's historical bytes, found by walking the interface bytes (T0's
 * and each TDi's presence bits), read as compact-TLV when their category indicator says so. */
#include "atr.h"

/* Where the K historical bytes start, or 0 when the ATR does not hold them all. */
static size_t historical(const uint8_t *a, size_t n, size_t *k)
{
	if (n < 2 || (a[0] != 0x3B && a[0] != 0x3F))
		return 0;
	size_t pos = 2;
	uint8_t y = a[1] >> 4;
	*k = a[1] & 0x0F;
	while (y) {
		/* TAi, TBi, TCi, then TDi, each present by its bit in y */
		size_t present = (size_t)((y & 1) + (y >> 1 & 1) + (y >> 2 & 1) + (y >> 3 & 1));
		if (pos + present > n)
			return 0;
		uint8_t td = (y & 0x8) ? a[pos + present - 1] : 0;
		pos += present;
		y = td >> 4;
	}
	return pos + *k <= n ? pos : 0;
}

bool atr_extended_length(const uint8_t *atr, size_t n)
{
	size_t k = 0, at = historical(atr, n, &k);
	if (!at || !k)
		return false;
	const uint8_t *h = atr + at;
	/* Category 80: compact-TLV to the end; 00: compact-TLV, then three status bytes. */
	size_t end = h[0] == 0x80 ? k : h[0] == 0x00 && k >= 4 ? k - 3 : 0;
	for (size_t i = 1; i < end;) {
		size_t tag = h[i] >> 4, len = h[i] & 0x0F;
		if (i + 1 + len > end)
			return false;
		if (tag == 0x7 && len >= 3)
			return (h[i + 3] & 0x40) != 0;
		i += 1 + len;
	}
	return false;
}
