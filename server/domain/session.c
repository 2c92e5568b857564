/* session.c — the login session store: a fixed table of SHA-256(token) → card, Origin, birth
 * time, behind one mutex. Hashing the token means a memory dump or a log slip of the table
 * reveals nothing usable; lookups scan the whole table with CRYPTO_memcmp so timing says
 * nothing about which or whether an entry matched. */
#include "session.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define ID_MAX 256 /* card ids are short; this only bounds hostile input */
#define ORIGIN_MAX 512

struct entry {
	bool used;
	unsigned char hash[SHA256_DIGEST_LENGTH];
	char *card_id;
	char *origin;
	uint64_t born_ms;
};

struct session_store {
	pthread_mutex_t lock;
	session_clock_fn clock;
	void *clock_user;
	struct entry e[SESSION_MAX];
	void (*on_end)(void *user);
	void *on_end_user;
};

const char *session_strerror(session_err e)
{
	switch (e) {
	case SESSION_OK: return "ok";
	case SESSION_E_NOMEM: return "out of memory";
	case SESSION_E_RANDOM: return "random number generator failed";
	case SESSION_E_ARG: return "invalid card id or origin";
	}
	return "unknown session error";
}

const char *session_status_str(enum session_status s)
{
	switch (s) {
	case SESSION_VALID: return "valid";
	case SESSION_MISSING: return "missing";
	case SESSION_EXPIRED: return "expired";
	case SESSION_WRONG_CARD: return "wrong_card";
	case SESSION_WRONG_ORIGIN: return "wrong_origin";
	}
	return "unknown";
}

static uint64_t monotonic_ms(void *user)
{
	(void)user;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

session_err session_store_new(session_clock_fn clock, void *clock_user, struct session_store **out)
{
	if (!out)
		return SESSION_E_ARG;
	*out = NULL;
	struct session_store *s = calloc(1, sizeof *s);
	if (!s)
		return SESSION_E_NOMEM;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return SESSION_E_NOMEM;
	}
	s->clock = clock ? clock : monotonic_ms;
	s->clock_user = clock_user;
	*out = s;
	return SESSION_OK;
}

static void entry_clear(struct entry *en)
{
	free(en->card_id);
	free(en->origin);
	OPENSSL_cleanse(en, sizeof *en);
}

void session_store_free(struct session_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SESSION_MAX; i++)
		entry_clear(&s->e[i]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool expired(const struct entry *en, uint64_t now)
{
	/* A clock that went backwards (only injectable ones can) counts as age 0. */
	return now > en->born_ms && now - en->born_ms >= SESSION_LIFETIME_MS;
}

static void hash_token(const char *token, size_t len, unsigned char out[SHA256_DIGEST_LENGTH])
{
	SHA256((const unsigned char *)token, len, out);
}

/* base64url without padding (RFC 4648 §5): safe in headers and JSON without escaping. */
static void b64url(const unsigned char *in, size_t n, char *out)
{
	unsigned char tmp[4 * ((SESSION_TOKEN_BYTES + 2) / 3) + 1];
	int len = EVP_EncodeBlock(tmp, in, (int)n);
	size_t j = 0;
	for (int i = 0; i < len && tmp[i] != '='; i++)
		out[j++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : (char)tmp[i];
	out[j] = '\0';
	OPENSSL_cleanse(tmp, sizeof tmp);
}

/* Free slot, else an expired one, else the oldest: a flood of logins cannot grow memory. */
static struct entry *pick_slot(struct session_store *s, uint64_t now)
{
	struct entry *oldest = &s->e[0];
	for (size_t i = 0; i < SESSION_MAX; i++)
		if (!s->e[i].used)
			return &s->e[i];
	for (size_t i = 0; i < SESSION_MAX; i++) {
		if (expired(&s->e[i], now))
			return &s->e[i];
		if (s->e[i].born_ms < oldest->born_ms)
			oldest = &s->e[i];
	}
	return oldest;
}

static bool arg_ok(const char *v, size_t max)
{
	return v && v[0] && strnlen(v, max + 1) <= max;
}

session_err session_create(struct session_store *s, const char *card_id, const char *origin,
			   char token_out[SESSION_TOKEN_LEN + 1])
{
	if (!s || !token_out || !arg_ok(card_id, ID_MAX) || !arg_ok(origin, ORIGIN_MAX))
		return SESSION_E_ARG;
	unsigned char raw[SESSION_TOKEN_BYTES];
	session_err rc = SESSION_OK;
	char *cid = strdup(card_id), *org = strdup(origin);
	if (!cid || !org) {
		rc = SESSION_E_NOMEM;
		goto out;
	}
	if (RAND_bytes(raw, sizeof raw) != 1) {
		rc = SESSION_E_RANDOM;
		goto out;
	}
	b64url(raw, sizeof raw, token_out);

	pthread_mutex_lock(&s->lock);
	uint64_t now = s->clock(s->clock_user);
	struct entry *en = pick_slot(s, now);
	entry_clear(en);
	en->used = true;
	hash_token(token_out, SESSION_TOKEN_LEN, en->hash);
	en->card_id = cid;
	en->origin = org;
	en->born_ms = now;
	cid = org = NULL;
	pthread_mutex_unlock(&s->lock);
out:
	OPENSSL_cleanse(raw, sizeof raw);
	free(cid);
	free(org);
	return rc;
}

/* Index of the entry whose hash matches token, or -1. Caller holds the lock. Every used entry
 * is compared, whatever the outcome. */
static long find_locked(struct session_store *s, const char *token)
{
	if (!token || strnlen(token, SESSION_TOKEN_LEN + 1) != SESSION_TOKEN_LEN)
		return -1;
	unsigned char h[SHA256_DIGEST_LENGTH];
	hash_token(token, SESSION_TOKEN_LEN, h);
	long hit = -1;
	for (size_t i = 0; i < SESSION_MAX; i++) {
		int diff = CRYPTO_memcmp(h, s->e[i].hash, sizeof h);
		if (s->e[i].used && diff == 0)
			hit = (long)i;
	}
	OPENSSL_cleanse(h, sizeof h);
	return hit;
}

/* The check of session_check(); an expired entry is forgotten here. end: also forget a valid
 * one (logout). Caller holds the lock. */
static enum session_status check_locked(struct session_store *s, const char *token,
					const char *card_id, const char *origin, bool end)
{
	long i = find_locked(s, token);
	if (i < 0)
		return SESSION_MISSING;
	struct entry *en = &s->e[i];
	if (expired(en, s->clock(s->clock_user))) {
		entry_clear(en);
		return SESSION_EXPIRED;
	}
	if (!card_id || strcmp(card_id, en->card_id) != 0)
		return SESSION_WRONG_CARD;
	if (!origin || strcmp(origin, en->origin) != 0)
		return SESSION_WRONG_ORIGIN;
	if (end)
		entry_clear(en);
	return SESSION_VALID;
}

void session_store_on_end(struct session_store *s, void (*fn)(void *user), void *user)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->on_end = fn;
	s->on_end_user = user;
	pthread_mutex_unlock(&s->lock);
}

/* After the lock is let go: n sessions ended before their time. */
static void ended(struct session_store *s, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&s->lock);
	void (*fn)(void *) = s->on_end;
	void *user = s->on_end_user;
	pthread_mutex_unlock(&s->lock);
	if (fn)
		fn(user);
}

static enum session_status check(struct session_store *s, const char *token, const char *card_id,
				 const char *origin, bool end)
{
	if (!s)
		return SESSION_MISSING;
	pthread_mutex_lock(&s->lock);
	enum session_status st = check_locked(s, token, card_id, origin, end);
	pthread_mutex_unlock(&s->lock);
	ended(s, end && st == SESSION_VALID);
	return st;
}

enum session_status session_check(struct session_store *s, const char *token, const char *card_id,
				  const char *origin)
{
	return check(s, token, card_id, origin, false);
}

enum session_status session_end(struct session_store *s, const char *token, const char *card_id,
				const char *origin)
{
	return check(s, token, card_id, origin, true);
}

int session_revoke(struct session_store *s, const char *token)
{
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	long i = find_locked(s, token);
	if (i >= 0)
		entry_clear(&s->e[i]);
	pthread_mutex_unlock(&s->lock);
	ended(s, i >= 0);
	return i >= 0;
}

size_t session_revoke_card(struct session_store *s, const char *card_id)
{
	if (!s || !card_id)
		return 0;
	size_t n = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < SESSION_MAX; i++) {
		if (s->e[i].used && strcmp(s->e[i].card_id, card_id) == 0) {
			entry_clear(&s->e[i]);
			n++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	ended(s, n);
	return n;
}

/* The live sessions: how many, and the time until the last of them expires. */
static size_t live(struct session_store *s, uint64_t *left)
{
	size_t n = 0;
	*left = 0;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	uint64_t now = s->clock(s->clock_user);
	for (size_t i = 0; i < SESSION_MAX; i++) {
		const struct entry *en = &s->e[i];
		if (!en->used || expired(en, now))
			continue;
		n++;
		uint64_t age = now > en->born_ms ? now - en->born_ms : 0;
		if (SESSION_LIFETIME_MS - age > *left)
			*left = SESSION_LIFETIME_MS - age;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t session_count(struct session_store *s)
{
	uint64_t left;
	return live(s, &left);
}

uint64_t session_busy_ms(struct session_store *s)
{
	uint64_t left;
	live(s, &left);
	return left;
}

void session_tag(const char *token, char out[SESSION_TAG_LEN + 1])
{
	if (!token) {
		snprintf(out, SESSION_TAG_LEN + 1, "-");
		return;
	}
	/* A different input than the stored hash (prefix byte), so a tag never equals a table key. */
	unsigned char h[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) || !EVP_DigestUpdate(c, "tag:", 4) ||
	    !EVP_DigestUpdate(c, token, strnlen(token, SESSION_TOKEN_LEN)) ||
	    !EVP_DigestFinal_ex(c, h, NULL)) {
		snprintf(out, SESSION_TAG_LEN + 1, "?");
	} else {
		snprintf(out, SESSION_TAG_LEN + 1, "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
	}
	EVP_MD_CTX_free(c);
}
