/* sim_pki.h — issues the virtual card's certificates from the test SITHS hierarchy made by
 * certs/test-siths-pki.sh DIR (person-N-ca.pem/.key issue, root-ca.pem is the anchor).
 * Returned X509 objects are owned by the caller (X509_free). */
#ifndef SITHS_SIM_PKI_H
#define SITHS_SIM_PKI_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sim.h"
#include "sim_profile.h"

/* Test certificate policy per trust level: 2.999.752.1.<level> (2.999 = ITU-T example arc). */
#define SIM_POLICY_PREFIX "2.999.752.1."

/* Loads the person CA for `level` and the root CA from dir. */
enum sim_err sim_pki_load_cas(const char *dir, int level, X509 **person, X509 **root);

/* Issues the authentication (signature=false: digitalSignature+keyEncipherment, clientAuth) or
 * signature certificate (nonRepudiation only) for `key` and profile p, signed by the person CA
 * of the profile's trust level in dir. */
enum sim_err sim_pki_issue(const char *dir, const struct sim_profile *p, EVP_PKEY *key,
			   bool signature, X509 **out);

#endif
