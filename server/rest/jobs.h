/* jobs.h — the certificate job handlers: POST /v1/cards/{id}/signature-certificate (a session
 * of this card and Origin + PIN2 → a job, 202 {"job"}) and GET /v1/jobs/{id}; and the "issuer"
 * part of /health. Error codes and statuses are those of docs/api/openapi.yaml. Thread-safe. */
#ifndef SITHS_JOBS_H
#define SITHS_JOBS_H

#include <jansson.h>
#include <stdbool.h>

#include "rest.h"

unsigned jobs_download(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);
unsigned jobs_get(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);

/* health_part_fn (user = struct issuer *, NULL when none is configured):
 * {"configured":true,"name":…,"test":bool} or {"configured":false}; never degraded. */
json_t *jobs_health_issuer(void *user, bool *degraded);

#endif
