/* sim_crypto.h — the virtual card's security environment and key commands (ISO 7816-4, -8, -9):
 * MANAGE SECURITY ENVIRONMENT, PSO COMPUTE DIGITAL SIGNATURE, INTERNAL AUTHENTICATE, GENERATE
 * ASYMMETRIC KEY PAIR and GET CHALLENGE. RSA PKCS#1 v1.5 only; a key needs its PIN verified in
 * this card session. Private to card/sim. */
#ifndef SITHS_SIM_CRYPTO_H
#define SITHS_SIM_CRYPTO_H

#include "sim_cmd.h"

sim_cmd_fn sim_crypto_mse;           /* INS 22: SET B6 / A4 (key and file reference), RESTORE */
sim_cmd_fn sim_crypto_pso;           /* INS 2A 9E 9A: signs a DigestInfo with the MSE B6 key */
sim_cmd_fn sim_crypto_internal_auth; /* INS 88: signs a challenge with the P2, MSE A4 or auth key */
sim_cmd_fn sim_crypto_generate;      /* INS 46: new pair, persisted; answers the public key 7F49 */
sim_cmd_fn sim_crypto_get_challenge; /* INS 84: Ne random bytes, at most 256 */

#endif
