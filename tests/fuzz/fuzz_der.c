/* fuzz_der.c — the DER/BER reader (card/der.c): the tree check, then a walk of every TLV with
 * each primitive decoder. A TLV must never reach past its parent. */
#include <stdint.h>
#include <stdlib.h>

#include "der.h"

/* Every TLV of d and, depth first, of the constructed ones (der_enter bounds the depth). */
static void walk(const struct der *d)
{
	struct der it = *d;
	struct der_tlv t;
	while (der_next(&it, &t) == DER_OK) {
		if (t.v < d->p || t.len > d->n || t.v + t.len > d->p + d->n)
			abort();
		uint32_t u;
		bool b;
		char s[256];
		(void)der_uint(&t, &u);
		(void)der_bool(&t, &b);
		(void)der_bits(&t, &u);
		(void)der_string(&t, s, sizeof(s));
		struct der child;
		if (der_enter(&it, &t, &child) == DER_OK)
			walk(&child);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct der d;
	(void)der_check_tree(data, size);
	der_init(&d, data, size);
	walk(&d);
	return 0;
}
