/*
 * json.c: cJSON helpers. See json.h.
 */
#include "common/json.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * True when a string of the JSON text t[0..n) holds U+0000, raw or as the escape \u0000. cJSON
 * keeps strings as C strings, so it would silently end the value there ("42\u0000../x" read as
 * "42"): such text is refused rather than read as something it does not say.
 */
static bool string_holds_nul(const char *t, size_t n)
{
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        if (!in_string) {
            in_string = t[i] == '"';
        } else if (t[i] == '\0') {
            return true;
        } else if (t[i] == '"') {
            in_string = false;
        } else if (t[i] == '\\' && i + 1 < n) {
            if (t[i + 1] == 'u' && i + 5 < n && memcmp(t + i + 2, "0000", 4) == 0)
                return true;
            i++; /* the escaped character */
        }
    }
    return false;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The first member name that occurs twice in one object of `v` (at any depth), or NULL. RFC 8259
 * leaves such objects' meaning open; cJSON would read the first and ignore the rest, which is
 * not what every other reader of the same text does. The names of each object are sorted, so a
 * hostile object with many members costs n log n, not n^2. `*nomem` is set when it cannot check.
 */
static const char *duplicate_name(const cJSON *v, bool *nomem)
{
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        const char *d = duplicate_name(c, nomem);
        if (d != NULL || *nomem)
            return d;
    }
    if (!cJSON_IsObject(v) || v->child == NULL || v->child->next == NULL)
        return NULL;
    size_t n = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next)
        n++;
    const char **names = malloc(n * sizeof(*names));
    if (names == NULL) {
        *nomem = true;
        return NULL;
    }
    n = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next)
        names[n++] = c->string != NULL ? c->string : "";
    qsort(names, n, sizeof(*names), name_cmp);
    const char *dup = NULL;
    for (size_t i = 1; i < n && dup == NULL; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            dup = names[i];
    free(names);
    return dup;
}

cJSON *json_parse(const char *text, size_t len, struct err *e)
{
    const char *end = NULL;
    if (text == NULL || len == 0) {
        err_set(e, ERR_INVALID, "empty JSON body");
        return NULL;
    }
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (v == NULL) {
        size_t at = 0;
        const char *ep = cJSON_GetErrorPtr();
        if (ep != NULL && ep >= text && ep <= text + len)
            at = (size_t)(ep - text);
        err_set(e, ERR_INVALID, "malformed JSON near byte %zu", at);
        return NULL;
    }
    while (end != NULL && end < text + len && (isspace((unsigned char)*end) || *end == '\0'))
        end++;
    if (end != NULL && end < text + len) {
        cJSON_Delete(v);
        err_set(e, ERR_INVALID, "unexpected data after the JSON value at byte %zu",
                (size_t)(end - text));
        return NULL;
    }
    if (string_holds_nul(text, len)) {
        cJSON_Delete(v);
        err_set(e, ERR_INVALID, "a JSON string holds U+0000, which is not accepted");
        return NULL;
    }
    bool nomem = false;
    const char *dup = duplicate_name(v, &nomem);
    if (dup != NULL || nomem) {
        if (nomem)
            err_set(e, ERR_NOMEM, "out of memory");
        else
            err_set(e, ERR_INVALID, "the JSON object has the member \"%.64s\" more than once", dup);
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

const char *json_get_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool json_get_int(const cJSON *obj, const char *name, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d > 9007199254740992.0 || d < -9007199254740992.0)
        return false;
    *out = (long long)d;
    return true;
}

bool json_get_bool(const cJSON *obj, const char *name, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

char *json_print(const cJSON *v)
{
    return cJSON_PrintUnformatted(v);
}
