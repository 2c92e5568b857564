/* login.h — the REST handlers of issue 4: POST /v1/cards/{id}/login (PIN1 + proof of possession
 * → session), POST /v1/cards/{id}/logout, POST /v1/cards/{id}/signature-certificate (session +
 * PIN2 → job, 202) and GET /v1/jobs/{id}; plus the card-removal hook that ends a card's
 * sessions at once.
 * Error codes and statuses are those of docs/api/openapi.yaml. PINs are copied out of the
 * request body, which is wiped, and never logged. struct login only borrows its members
 * (main.c owns them). Handlers are thread-safe. */
#ifndef SITHS_LOGIN_H
#define SITHS_LOGIN_H

#include <jansson.h>

#include "rest.h"
#include "card.h"
#include "certjob.h"
#include "session.h"

struct login {
	card_core *core;                     /* borrowed */
	struct session_store *sessions;      /* owned from here on */
	struct jobs *jobs;
	struct issuer *issuer;               /* NULL: downloads answer 503 issuer_unavailable */
	struct certcheck_trust *trust;
};

/* Sets up sessions, the issuer (`--test-issuer DIR`: the test CA, trust anchor DIR/root-ca.pem;
 * the test-only environment variable SITHS_TEST_ISSUER_FAULT picks an issuer_test_fault) and
 * the job engine over core and ws. Returns 0, or -1 after logging why. */
int login_start(struct login *l, const struct cfg *cfg, card_core *core, ws_server *ws);
/* Waits for running jobs, frees what login_start made. Safe on a zeroed struct. */
void login_stop(struct login *l);
/* api_health_fn (user = struct login *): {"name":…, "test":bool} or {"configured":false}. */
json_t *login_health_issuer(void *user, bool *degraded);

unsigned login_post(struct login *l, const struct api_req *req, json_t **out);
unsigned login_download(struct login *l, const struct api_req *req, json_t **out);
unsigned login_job(struct login *l, const struct api_req *req, json_t **out);
/* POST /v1/cards/{id}/logout: the Bearer session of this card and Origin ends at once (204);
 * body empty or {}. Missing/unknown 401 login_required, expired 401 session_expired, another
 * card's or Origin's session 403 (and it stays). Never touches the card. */
unsigned login_logout(struct login *l, const struct api_req *req, json_t **out);

/* cards_removed_fn (user = struct login *): revokes every session of the card. */
void login_card_removed(const char *card_id, void *user);

#endif
