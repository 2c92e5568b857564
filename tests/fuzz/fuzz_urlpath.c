/* fuzz_urlpath.c — the request path decoder (server/net/urlpath.c) on any bytes: whatever it
 * accepts must be a clean absolute path (no "//", no "." or ".." segment, no control byte). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "urlpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char raw[4096], out[4096];
	size_t n = size < sizeof(raw) - 1 ? size : sizeof(raw) - 1;
	memcpy(raw, data, n);
	raw[n] = 0;
	if (urlpath_decode(raw, out, sizeof(out)) != URLPATH_OK)
		return 0;
	if (out[0] != '/' || strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../"))
		abort();
	size_t len = strlen(out);
	if ((len >= 2 && !strcmp(out + len - 2, "/.")) ||
	    (len >= 3 && !strcmp(out + len - 3, "/..")))
		abort();
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	return 0;
}
