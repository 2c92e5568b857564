/* model.h — the card model: what the daemon knows about a reader and the card in it, read once
 * when the card appears and cached until it goes. Plain values with bounded strings (UTF-8,
 * NUL-terminated, truncated at a character boundary), so a copy is a struct assignment and
 * nothing in here is ever freed. */
#ifndef SITHS_MODEL_H
#define SITHS_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#define CARD_ID_LEN 24 /* ids: "c" or "r" + 16 hex digits (+ "-N" on a collision) */
#define CARD_NAME_LEN 160
#define CARD_TEXT_LEN 256
#define CARD_DATE_LEN 11 /* "YYYY-MM-DD" */

struct card_reader {
	char id[CARD_ID_LEN];     /* "r" + 16 hex digits of SHA-256(name): stable per name */
	char name[CARD_NAME_LEN]; /* PC/SC reader name */
	bool card_present;
	char card_id[CARD_ID_LEN]; /* "" when no card (or not read yet) */
};

enum card_type { CARD_TYPE_UNKNOWN = 0, CARD_TYPE_ORDINARY, CARD_TYPE_RESERVE };

/* PIN1, PIN2 and the PUK as the AODF declares them and the card reports them (empty VERIFY at
 * every read, which never costs a try). */
struct card_pin {
	bool present; /* the AODF names this PIN */
	char label[64];
	unsigned char ref;         /* VERIFY P2 */
	unsigned min_len, max_len; /* from the AODF (max_len 0 = not stated) */
	int tries_left;            /* from an empty VERIFY; -1 = unknown */
	/* The counter a right code restores. ISO 7816-4 has no command that tells it, so it is
	 * learned from the first empty VERIFY after a right code on this card, and kept from then
	 * on (it is a constant of the PIN object): later right codes need no read. 0 = not yet. */
	unsigned tries_max;
	bool blocked;
	bool verified; /* only meaningful inside card_with_card() */
	/* false: the PIN still holds the initial value of the card's letter and must be activated
	 * (card_activate_pin) before it is usable — the card answers its VERIFY with 6984 "reference
	 * data not usable" and does not tell its counter. A reserve card's PIN2 when the letter holds
	 * two codes (docs/virtual-card.md, "PIN states"). True when the card does not say. */
	bool activated;
	/* The AODF's lastPinChange (GeneralizedTime as the card wrote it), "" when the card keeps
	 * none. A card that keeps it moves it with every new value: comparing it with the one before
	 * a change tells, after a card pulled during the change, which code holds. */
	char last_change[24];
};

struct card_cert_info {
	bool present;
	char subject_cn[CARD_TEXT_LEN];
	char organisation[CARD_TEXT_LEN]; /* subject O */
	char hsa_id[64];                  /* subject serialNumber */
	char upn[CARD_TEXT_LEN];          /* SAN otherName 1.3.6.1.4.1.311.20.2.3 */
	char email[CARD_TEXT_LEN];        /* SAN rfc822Name */
	char valid_from[CARD_DATE_LEN], valid_to[CARD_DATE_LEN];
	int trust_level; /* from certificatePolicies, 0 = unknown */
	char issuer_cn[CARD_TEXT_LEN];
	/* Which key the certificate certifies: SHA-256 over the RSA modulus's length (two bytes,
	 * big-endian), the modulus and the exponent (big-endian, no leading zeros); all zero for a
	 * key that is not RSA. Compare it with a key through card_cert_certifies() (card.h). */
	unsigned char key_id[32];
};

enum card_status { CARD_STATUS_OK = 0, CARD_STATUS_ERROR };

struct card_model {
	char id[CARD_ID_LEN]; /* "c" + 16 hex of SHA-256("siths-card:" card_number); see docs */
	char reader[CARD_NAME_LEN];
	char reader_id[CARD_ID_LEN];
	char atr[3 * 33]; /* hex, colon separated */
	enum card_status status;
	int error;                        /* card_err when status is ERROR */
	char error_detail[CARD_TEXT_LEN]; /* which file and why, no secrets */

	/* TokenInfo */
	char card_number[64]; /* serialNumber: ASCII digits as is, else hex */
	char token_label[CARD_TEXT_LEN];
	char manufacturer[CARD_TEXT_LEN];
	enum card_type type; /* reserve iff the TokenInfo label contains "Reserv" */

	/* The eID (authentication certificate) */
	char holder[CARD_TEXT_LEN];                              /* subject CN */
	char organisation[CARD_TEXT_LEN];                        /* subject O */
	char valid_from[CARD_DATE_LEN], valid_to[CARD_DATE_LEN]; /* card validity = the eID's */
	struct card_cert_info auth;

	/* Signature certificate: present only if it parses and its key is the signing key. */
	struct card_cert_info sign;
	bool sign_key_present;   /* the PrKDF has a non-repudiation key */
	bool sign_key_checked;   /* the signing key's public key was found to compare with */
	bool sign_cert_mismatch; /* a certificate is there but not for the signing key / bad */

	struct card_pin pin1, pin2, puk;
};

#endif
