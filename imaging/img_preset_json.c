/*
 * img_preset_json.c: the presets-file parser (cJSON), strict. See img_presets_parse in
 * img_preset.h.
 */
#include "imaging/img_preset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/json.h"

static const char *const preset_keys[] = {"name",    "width",  "height",  "fit",
                                          "gravity", "format", "quality", "enlarge"};
static const char *const domains[] = {"profile", "feed", "chatroom", "chat", "chat_profile"};

static bool known(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, list[i]) == 0)
            return true;
    }
    return false;
}

/* Reads an optional integer member into *out. False when present but not an integer. */
static bool opt_int(const cJSON *o, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL)
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 1e6)
        return false;
    *out = (int)v->valuedouble;
    return true;
}

/* Reads an optional string member through `parse`. False when present but invalid. */
static bool opt_enum(const cJSON *o, const char *name, bool (*parse)(const char *, void *),
                     void *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL)
        return true;
    return cJSON_IsString(v) && parse(v->valuestring, out);
}

static bool parse_fit(const char *s, void *out)
{
    return img_fit_parse(s, out);
}

static bool parse_gravity(const char *s, void *out)
{
    return img_gravity_parse(s, out);
}

static bool parse_format(const char *s, void *out)
{
    return img_out_format_parse(s, out);
}

static enum err_code parse_preset(const cJSON *o, const char *domain, int idx, struct img_preset *p,
                                  struct img_error *e)
{
    memset(p, 0, sizeof(*p));
    p->quality = IMG_DEFAULT_QUALITY;
    if (!cJSON_IsObject(o))
        return img_fail(e, IMG_R_INVALID_OPTION, "%s[%d]: a preset must be an object", domain, idx);
    for (const cJSON *k = o->child; k != NULL; k = k->next) {
        if (!known(k->string, preset_keys, sizeof(preset_keys) / sizeof(preset_keys[0])))
            return img_fail(e, IMG_R_INVALID_OPTION, "%s[%d]: unknown key \"%.40s\"", domain, idx,
                            k->string);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name) || strlen(name->valuestring) >= sizeof(p->name))
        return img_fail(e, IMG_R_INVALID_OPTION, "%s[%d]: \"name\" must be a short string", domain,
                        idx);
    snprintf(p->name, sizeof(p->name), "%s", name->valuestring);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enlarge");
    if (en != NULL && !cJSON_IsBool(en))
        return img_fail(e, IMG_R_INVALID_OPTION, "%s.%s: \"enlarge\" must be a boolean", domain,
                        p->name);
    p->enlarge = en != NULL && cJSON_IsTrue(en);
    if (!opt_int(o, "width", &p->width) || !opt_int(o, "height", &p->height) ||
        !opt_int(o, "quality", &p->quality))
        return img_fail(e, IMG_R_INVALID_OPTION,
                        "%s.%s: width, height and quality must be integers", domain, p->name);
    if (!opt_enum(o, "fit", parse_fit, &p->fit) ||
        !opt_enum(o, "gravity", parse_gravity, &p->gravity) ||
        !opt_enum(o, "format", parse_format, &p->format))
        return img_fail(e, IMG_R_INVALID_OPTION,
                        "%s.%s: fit must be inside|cover|contain|fill, gravity centre|attention, "
                        "format same|jpeg|png|webp|avif",
                        domain, p->name);
    struct img_error pe = {0};
    if (img_preset_validate(p, &pe) != ERR_OK)
        return img_fail(e, IMG_R_INVALID_OPTION, "%s: %s", domain, pe.msg);
    return ERR_OK;
}

static enum err_code parse_domain(const cJSON *arr, struct img_domain_presets *d,
                                  struct img_error *e)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
    if (n < 1 || n > IMG_PRESET_MAX)
        return img_fail(e, IMG_R_INVALID_OPTION, "%s: must be an array of 1..%d presets", d->domain,
                        IMG_PRESET_MAX);
    d->count = 0;
    int i = 0;
    for (const cJSON *o = arr->child; o != NULL; o = o->next, i++) {
        struct img_preset *p = &d->presets[d->count];
        enum err_code rc = parse_preset(o, d->domain, i, p, e);
        if (rc != ERR_OK)
            return rc;
        for (int j = 0; j < d->count; j++) {
            if (strcmp(d->presets[j].name, p->name) == 0)
                return img_fail(e, IMG_R_INVALID_OPTION, "%s: duplicate preset name \"%s\"",
                                d->domain, p->name);
        }
        d->count++;
    }
    return ERR_OK;
}

enum err_code img_presets_parse(const char *json, size_t len, struct img_preset_table *t,
                                struct img_error *e)
{
    enum err_code rc = ERR_OK;
    struct err je = {0};
    struct img_preset_table next;
    img_presets_builtin(&next);
    cJSON *root = json_parse(json, len, &je);
    if (root == NULL)
        return img_fail(e, IMG_R_INVALID_OPTION, "presets file is not JSON: %s", je.msg);
    if (!cJSON_IsObject(root)) {
        rc = img_fail(e, IMG_R_INVALID_OPTION, "presets file must be an object of domains");
        goto cleanup;
    }
    for (const cJSON *dj = root->child; dj != NULL; dj = dj->next) {
        if (!known(dj->string, domains, sizeof(domains) / sizeof(domains[0]))) {
            rc = img_fail(e, IMG_R_INVALID_OPTION,
                          "unknown domain \"%.40s\" (profile, feed, chatroom, chat, chat_profile)",
                          dj->string);
            goto cleanup;
        }
        struct img_domain_presets *d =
            (struct img_domain_presets *)img_presets_find(&next, dj->string);
        if ((rc = parse_domain(dj, d, e)) != ERR_OK)
            goto cleanup;
    }
    *t = next;
cleanup:
    cJSON_Delete(root);
    return rc;
}
