/* fuzz_p15.c — the PKCS#15 file parsers (card/p15.c): the first input byte picks the file
 * (EF.DIR, ODF, TokenInfo, AODF, PrKDF, PuKDF, CDF), the rest is its content as a card would
 * return it. The seeds are the virtual card's own files (fuzz-seeds). */
#include <stdint.h>
#include <stdlib.h>

#include "p15.h"

enum { F_DIR, F_ODF, F_TOKENINFO, F_AODF, F_PRKDF, F_PUKDF, F_CDF, F__COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	/* The results are large: static, so one run's leftovers cannot hide in the next (each
	 * parser fills or clears its output itself). */
	static struct p15_app app;
	static struct p15_odf odf;
	static struct p15_tokeninfo ti;
	static struct p15_aodf aodf;
	static struct p15_keys keys;
	static struct p15_cdf cdf;
	switch (data[0] % F__COUNT) {
	case F_DIR: (void)p15_parse_dir(p, n, p15_aid, sizeof(p15_aid), &app); break;
	case F_ODF: (void)p15_parse_odf(p, n, &odf); break;
	case F_TOKENINFO: (void)p15_parse_tokeninfo(p, n, &ti); break;
	case F_AODF: (void)p15_parse_aodf(p, n, &aodf); break;
	case F_PRKDF: (void)p15_parse_prkdf(p, n, &keys); break;
	case F_PUKDF: (void)p15_parse_pukdf(p, n, &keys); break;
	case F_CDF: (void)p15_parse_cdf(p, n, &cdf); break;
	}
	return 0;
}
