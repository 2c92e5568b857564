/* domain_includes_rest.c — a domain file that includes a rest/ header: must not compile. */
#include "events.h"
