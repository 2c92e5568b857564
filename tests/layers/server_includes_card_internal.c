/* server_includes_card_internal.c — a server file (even in net/, which sees every layer below)
 * that includes a private header of the card core: must not compile. */
#include "siths.h"
