/* sim_card.h — the virtual card's memory: file system, keys, PINs (persistent, in --state FILE)
 * and the volatile card session (current file, verified PINs, security environment, pending
 * GET RESPONSE data). A struct sim_card is owned by its creator and released with sim_card_free(). */
#ifndef SITHS_SIM_CARD_H
#define SITHS_SIM_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "sim.h"
#include "sim_profile.h"

enum sim_acc { SIM_ACC_NEVER, SIM_ACC_PIN2 }; /* write access of an EF; reading is always allowed */

struct sim_file {
	uint16_t fid, parent; /* parent 0 for the MF */
	bool df;
	enum sim_acc write;
	size_t size;   /* EF size as reported in FCP tag 80 */
	uint8_t *data; /* size bytes, owned by the card */
};

struct sim_pin {
	uint8_t ref;
	size_t min_len, max_len;
	unsigned tries, max_tries;
	/* Still the value of the card's letter, never set by its holder (a reserve card's PIN2 when
	 * the letter has two codes): VERIFY answers 6984 until CHANGE REFERENCE DATA or RESET RETRY
	 * COUNTER sets a value (docs/virtual-card.md, "PIN states"). */
	bool transport;
	char changed[16];           /* the AODF's lastPinChange, YYYYMMDDHHMMSSZ; "" = not known */
	uint8_t salt[16], hash[32]; /* SHA-256(salt || PIN): the PIN itself is never stored */
};

struct sim_key {
	uint8_t ref, pin_ref;
	uint16_t pub_fid;
	bool generatable;
	EVP_PKEY *pkey;
};

#define SIM_NFILES 15
#define SIM_NPINS 3
#define SIM_NKEYS 2

struct sim_card {
	struct sim_file files[SIM_NFILES];
	struct sim_pin pins[SIM_NPINS];
	struct sim_key keys[SIM_NKEYS];
	char *state_path; /* NULL: in memory only */
	bool realistic;   /* --delay realistic or t1: commands take a real card's time */
	/* --extended-length: the ATR announces extended Lc/Le (sim_atr_extended) and the card takes
	 * such APDUs; otherwise it answers them 6700 like a card that only knows short ones. */
	bool extended_length;
	/* --next-key: the key the next GENERATE ASYMMETRIC KEY PAIR yields, once (then NULL: new
	 * keys again), so that a test can have a certificate for the card's next key made first. */
	EVP_PKEY *next_key;
	/* The time the card spent on commands since it connected (what --delay charged, in µs):
	 * the card's own share of an operation, which --trace reports per APDU. */
	long long busy_us;
	/* The card session: cleared by power off/on and reset. */
	struct {
		bool verified[SIM_NPINS];
		uint16_t df, ef;     /* current DF; current EF or 0 */
		int dst_key, at_key; /* key ref chosen by MSE SET B6 / A4, -1 if none */
		uint8_t *pending;    /* remaining response data for GET RESPONSE */
		size_t pending_len, pending_off;
	} s;
};

/* Creates a card in memory from profile p, with keys generated now and certificates issued
 * from the test PKI in pki_dir. */
enum sim_err sim_card_create(const struct sim_profile *p, const char *pki_dir,
			     struct sim_card **out, char *err, size_t errlen);
/* Loads state_path if it exists (without writing it), else creates the card from p and saves it there. */
enum sim_err sim_card_open(const char *state_path, const struct sim_profile *p, const char *pki_dir,
			   struct sim_card **out, char *err, size_t errlen);
/* Writes the whole card atomically (temp file + fsync + rename); no-op without state_path. */
enum sim_err sim_card_save(struct sim_card *c);
void sim_card_free(struct sim_card *c);

/* Clears the security status and the selection, as a reset or power cycle does. */
void sim_card_reset_session(struct sim_card *c);

struct sim_file *sim_card_file(struct sim_card *c, uint16_t fid);
struct sim_pin *sim_card_pin(struct sim_card *c, uint8_t ref);
struct sim_key *sim_card_key(struct sim_card *c, uint8_t ref);
/* Index of a PIN in c->pins / c->s.verified. */
size_t sim_card_pin_index(const struct sim_card *c, const struct sim_pin *pin);

/* Constant-time comparison of a candidate PIN with the stored hash. */
bool sim_pin_matches(const struct sim_pin *pin, const uint8_t *v, size_t n);
/* Stores a new PIN value (hash with fresh salt); tries reset to the maximum. Memory only. */
enum sim_err sim_pin_set(struct sim_pin *pin, const uint8_t *v, size_t n);
/* The holder sets a new value for pin, as one change of the card's memory: the value, its counter
 * back to the maximum, the transport state ended, a later lastPinChange in the AODF — then the
 * card is saved (atomically). When that fails nothing of it stays in memory either, so the card
 * holds exactly the old or the new value, never a mixture. */
enum sim_err sim_card_set_pin(struct sim_card *c, struct sim_pin *pin, const uint8_t *v, size_t n);
/* Replaces the key's pair with a new RSA-2048 key and rewrites its public key file. */
enum sim_err sim_card_generate_key(struct sim_card *c, struct sim_key *k);
/* Reads the RSA private key (PEM, at least 2048 bits) of path into c->next_key; SIM_E_* with err
 * set when it is unreadable or not such a key. */
enum sim_err sim_card_set_next_key(struct sim_card *c, const char *path, char *err, size_t errlen);

/* Writes the card's certificates (DER and PEM) to dir: auth-cert, sign-cert (only if the CDF
 * lists one), person-ca, root-ca; plus auth-pub.pem / sign-pub.pem. */
enum sim_err sim_card_export(struct sim_card *c, const char *dir, char *err, size_t errlen);

#endif
