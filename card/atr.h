/* atr.h — what a card's Answer To Reset (ISO/IEC 7816-3) says about the commands it takes:
 * here, whether it accepts extended Lc and Le fields (ISO/IEC 7816-4, 8.1.1.2.7: the third
 * byte of the "card capabilities" data object in the historical bytes, compact-TLV). The ATR is
 * untrusted: any malformed or truncated one reads as "short APDUs only". No allocation. */
#ifndef SITHS_ATR_H
#define SITHS_ATR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True only when the ATR (n bytes) is well formed up to its historical bytes and those carry
 * card capabilities with the extended-length bit set. */
bool atr_extended_length(const uint8_t *atr, size_t n);

#endif
