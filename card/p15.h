/* p15.h — PKCS#15 (ISO/IEC 7816-15) directory files parsed from untrusted DER: EF.DIR, ODF,
 * TokenInfo, AODF, PrKDF, PuKDF, CDF. Parsers fill caller-owned fixed-size structs (strings
 * copied and bounded) and return a precise der_err; nothing points into the input afterwards.
 * Objects of kinds this reader does not use (biometric PINs, DSA keys, attribute certificates, …)
 * are skipped. The AODF/PrKDF/PuKDF/CDF parsers append to *out (zero it before the first file),
 * so several files of one kind merge; beyond P15_MAX_OBJ objects the rest are ignored. */
#ifndef SITHS_P15_H
#define SITHS_P15_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "der.h"

#define P15_PATH_MAX 16
#define P15_ID_MAX 32
#define P15_LABEL_MAX 128
#define P15_MAX_OBJ 16

/* The PKCS#15 application identifier A0 00 00 00 63 50 4B 43 53 2D 31 35. */
extern const uint8_t p15_aid[12];

struct p15_path {
	uint8_t b[P15_PATH_MAX]; /* FIDs, 2 bytes each; starts with 3F00 when absolute */
	size_t len;              /* > 0 and even */
	bool has_range;          /* index/length given: the object is that slice of the EF */
	uint32_t index, length;
};

/* True when the path starts at the MF (3F00). */
bool p15_path_absolute(const struct p15_path *p);

struct p15_app {
	uint8_t aid[16];
	size_t aid_len;       /* 0: no AID given */
	struct p15_path path; /* len 0: no path given, select by AID */
	char label[P15_LABEL_MAX];
};

/* EF.DIR: finds the application template (61) whose AID is `aid` (aid_len bytes); when aid is
 * NULL, the first template. DER_E_MISSING if there is none. */
der_err p15_parse_dir(const uint8_t *p, size_t n, const uint8_t *aid, size_t aid_len,
		      struct p15_app *out);

enum p15_df_kind {
	P15_DF_PRKDF = 0,
	P15_DF_PUKDF = 1,
	P15_DF_TRUSTED_PUKDF = 2,
	P15_DF_SKDF = 3,
	P15_DF_CDF = 4,
	P15_DF_TRUSTED_CDF = 5,
	P15_DF_USEFUL_CDF = 6,
	P15_DF_DODF = 7,
	P15_DF_AODF = 8,
};

struct p15_odf {
	struct {
		enum p15_df_kind kind;
		struct p15_path path;
	} e[P15_MAX_OBJ];
	size_t n;
};
der_err p15_parse_odf(const uint8_t *p, size_t n, struct p15_odf *out);

struct p15_tokeninfo {
	uint32_t version;
	uint8_t serial[64];
	size_t serial_len;
	char manufacturer[P15_LABEL_MAX];
	char label[P15_LABEL_MAX];
	uint32_t flags;
};
der_err p15_parse_tokeninfo(const uint8_t *p, size_t n, struct p15_tokeninfo *out);

struct p15_id {
	uint8_t b[P15_ID_MAX];
	size_t len;
};
bool p15_id_eq(const struct p15_id *a, const struct p15_id *b);

/* Fields every PKCS#15 object has (CommonObjectAttributes). */
struct p15_common {
	char label[P15_LABEL_MAX];
	uint32_t flags; /* bit 0 private, bit 1 modifiable */
	struct p15_id
		auth_id; /* the PIN protecting the object (for a PIN: the one unblocking it) */
};

enum {
	P15_PIN_LOCAL = 1 << 1,
	P15_PIN_CHANGE_DISABLED = 1 << 2,
	P15_PIN_UNBLOCK_DISABLED = 1 << 3,
	P15_PIN_INITIALIZED = 1 << 4,
	P15_PIN_NEEDS_PADDING = 1 << 5,
	P15_PIN_UNBLOCKING = 1 << 6,
	P15_PIN_SO = 1 << 7
};
enum { P15_PIN_TYPE_BCD = 0, P15_PIN_TYPE_ASCII = 1, P15_PIN_TYPE_UTF8 = 2 };

struct p15_pin {
	struct p15_common c;
	struct p15_id auth_id; /* this PIN's own id (CommonAuthenticationObjectAttributes) */
	uint32_t flags, type, min_len, stored_len, max_len; /* max_len 0 = not stated */
	bool has_ref;
	uint32_t ref;
	bool has_pad;
	uint8_t pad_char;
	char last_change[24]; /* lastPinChange GeneralizedTime as the card wrote it; "" absent */
	bool has_path;
	struct p15_path path;
};
struct p15_aodf {
	struct p15_pin o[P15_MAX_OBJ];
	size_t n;
};
der_err p15_parse_aodf(const uint8_t *p, size_t n, struct p15_aodf *out);

enum {
	P15_USE_ENCRYPT = 1 << 0,
	P15_USE_DECRYPT = 1 << 1,
	P15_USE_SIGN = 1 << 2,
	P15_USE_SIGN_RECOVER = 1 << 3,
	P15_USE_VERIFY = 1 << 6,
	P15_USE_NONREP = 1 << 9
};
enum {
	P15_ACC_SENSITIVE = 1 << 0,
	P15_ACC_EXTRACTABLE = 1 << 1,
	P15_ACC_ALWAYS_SENSITIVE = 1 << 2,
	P15_ACC_NEVER_EXTRACTABLE = 1 << 3,
	P15_ACC_LOCAL = 1 << 4
};
enum p15_key_type { P15_KEY_RSA = 0, P15_KEY_EC = 1 };

struct p15_key {
	struct p15_common c;
	enum p15_key_type type;
	struct p15_id id;
	uint32_t usage, access;
	bool has_ref;
	uint32_t ref;         /* keyReference (MSE tag 84) */
	struct p15_path path; /* PrKDF: the key's DF/EF (mandatory); PuKDF: the value's EF */
	bool has_path;
	uint32_t modulus_bits; /* RSA, 0 if not stated */
	/* PuKDF only: the public key given directly ([0]) rather than by path, copied. */
	uint8_t direct[600];
	size_t direct_len;
};
struct p15_keys {
	struct p15_key o[P15_MAX_OBJ];
	size_t n;
};
der_err p15_parse_prkdf(const uint8_t *p, size_t n, struct p15_keys *out);
der_err p15_parse_pukdf(const uint8_t *p, size_t n, struct p15_keys *out);

struct p15_cert {
	struct p15_common c;
	struct p15_id id;
	bool authority;
	struct p15_path path;
};
struct p15_cdf {
	struct p15_cert o[P15_MAX_OBJ];
	size_t n;
};
der_err p15_parse_cdf(const uint8_t *p, size_t n, struct p15_cdf *out);

#endif
