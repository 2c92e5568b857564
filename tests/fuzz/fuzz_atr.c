/* fuzz_atr.c — the ATR's card capabilities (card/atr.c): any bytes as an ATR (a card's, through
 * pcscd). It must never read past the n bytes it was given. */
#include <stdint.h>
#include <stdlib.h>

#include "atr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the end */
	uint8_t *a = size ? malloc(size) : NULL;
	if (size && !a)
		return 0;
	for (size_t i = 0; i < size; i++)
		a[i] = data[i];
	(void)atr_extended_length(a, size);
	free(a);
	return 0;
}
