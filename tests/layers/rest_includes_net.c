/* rest_includes_net.c — a rest file that includes a net/ header: must not compile. */
#include "ws.h"
