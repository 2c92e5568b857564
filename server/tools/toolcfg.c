/* toolcfg.c — the subcommands' configuration, read with the daemon's own parser (base/config). */
#include "toolcfg.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *toolcfg_home(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

static int load_if_present(struct cfg *c, const char *path, bool must, const char *prog)
{
	const char *why = NULL;
	if (!must && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (cfg_load_file(c, path, &why) != CFG_OK) {
		fprintf(stderr, "%s: %s\n", prog, why ? why : "bad config file");
		return -1;
	}
	return 0;
}

int toolcfg_load(struct cfg *c, const char *file, bool user, const char *prog)
{
	if (file)
		return load_if_present(c, file, true, prog);
	if (load_if_present(c, TOOLCFG_SYSTEM_FILE, false, prog))
		return -1;
	if (!user)
		return 0;
	char path[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME");
	int n = xdg && *xdg ? snprintf(path, sizeof path, "%s/siths-bridge/siths-bridge.conf", xdg)
			    : snprintf(path, sizeof path,
				       "%s/.config/siths-bridge/siths-bridge.conf", toolcfg_home());
	if (n < 0 || (size_t)n >= sizeof path)
		return 0;
	return load_if_present(c, path, false, prog);
}
