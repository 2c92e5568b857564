/* cardjson.h — the JSON of the card model (model.h): one card as GET /v1/cards/{id} answers and
 * the card events carry it, one reader as GET /v1/readers lists it. Field names are the
 * contract of docs/api/openapi.yaml; unknowns are null, never "". Pure and thread-safe; the
 * results are new references (NULL only on OOM). */
#ifndef SITHS_CARDJSON_H
#define SITHS_CARDJSON_H

#include <jansson.h>

#include "model.h"

json_t *cardjson_model(const struct card_model *m);
json_t *cardjson_reader(const struct card_reader *r);

#endif
