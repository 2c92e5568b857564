/* fuzz_guard.c — the Host and Origin checks (server/net/guard.c): input "host\norigin". An
 * accepted Origin must be one of the allowlist's, up to ASCII case (scheme and host are
 * case-insensitive, RFC 6454; browsers send them in lower case). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guard.h"

#define PORT 29443

static struct guard_origins origins;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char *extra[] = { "https://minasidor.test", "https://portal.example:8443" };
	return guard_origins_init(&origins, PORT, extra, 2) ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[2048];
	size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
	memcpy(buf, data, n);
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	const char *origin = NULL;
	if (nl) {
		*nl = 0;
		origin = nl + 1;
	}
	(void)guard_check_host(buf, PORT);
	if (guard_check_origin(&origins, origin, true) == GUARD_OK) {
		bool listed = false;
		for (size_t i = 0; i < origins.n && !listed; i++)
			listed = !strcasecmp(origins.list[i], origin);
		if (!listed)
			abort();
	}
	(void)guard_check_origin(&origins, origin, false);
	return 0;
}
