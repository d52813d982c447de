/*
 * json.h: small cJSON helpers used across layers.
 */
#ifndef IMGSVC_COMMON_JSON_H
#define IMGSVC_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * Parses exactly `len` bytes as one JSON value. Trailing bytes other than whitespace are an
 * error, and so are a string holding U+0000 (raw or \u0000: a C string would end there) and an
 * object with the same member name twice (at any depth: readers disagree on which one counts).
 * Returns the value (caller frees with cJSON_Delete) or NULL with ERR_INVALID (ERR_NOMEM) in `e`.
 */
cJSON *json_parse(const char *text, size_t len, struct err *e);

/* The string member `name` of `obj`, or NULL if absent or not a string. Borrowed. */
const char *json_get_str(const cJSON *obj, const char *name);

/* Reads integer member `name`. False if absent, not a number, or not an exact integer. */
bool json_get_int(const cJSON *obj, const char *name, long long *out);

/* Reads boolean member `name`. False if absent or not a boolean. */
bool json_get_bool(const cJSON *obj, const char *name, bool *out);

/* Compact text of `v` (caller frees with free()), or NULL on ERR_NOMEM. */
char *json_print(const cJSON *v);

#endif
