/* fuzz_config.c — the config file parser (server/base/config.c) on any bytes, read from a
 * memfd the way the daemon reads /etc/siths-bridge/siths-bridge.conf. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("siths-bridge.conf", MFD_CLOEXEC);
	char path[64];
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct cfg c;
		const char *why = NULL;
		cfg_init(&c);
		(void)cfg_load_file(&c, path, &why);
		cfg_free(&c);
	}
	close(fd);
	return 0;
}
