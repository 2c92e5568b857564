/* toolcfg.h — the configuration the subcommands (doctor, policies) read: the daemon's own files
 * in the daemon's order, so they see what a started bridge would see. */
#ifndef SITHS_TOOLCFG_H
#define SITHS_TOOLCFG_H

#include <stdbool.h>

#include "config.h"

#define TOOLCFG_SYSTEM_FILE "/etc/siths-bridge/siths-bridge.conf"

/* Fills *c (cfg_init first; cfg_free by the caller) from `file` when given (it must exist), else
 * from TOOLCFG_SYSTEM_FILE if it exists and then, with user set, from the user's own
 * $XDG_CONFIG_HOME/siths-bridge/siths-bridge.conf (default ~/.config/...) if it exists: the files
 * the user service passes. 0, or -1 with a one-line reason written to stderr under prog. */
int toolcfg_load(struct cfg *c, const char *file, bool user, const char *prog);

/* The user's home ($HOME, else the passwd entry); never NULL ("/" at worst). */
const char *toolcfg_home(void);

#endif
