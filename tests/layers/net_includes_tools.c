/* net_includes_tools.c — a net file (the daemon's top layer) that includes a header of the
 * subcommands' layer above it: must not compile. */
#include "doctor_checks.h"
