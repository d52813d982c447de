/*
 * img_preset.c: built-in presets, the presets-file parser and validation. See img_preset.h.
 */
#include "imaging/img_preset.h"

#include <stdio.h>
#include <string.h>

static const char *const fit_names[] = {"inside", "cover", "contain", "fill"};
static const char *const gravity_names[] = {"centre", "attention"};
static const char *const format_names[] = {"same", "jpeg", "png", "webp", "avif"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static bool parse_name(const char *s, const char *const *names, int n, int *out)
{
    for (int i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

bool img_fit_parse(const char *s, enum img_fit *out)
{
    int v = 0;
    if (!parse_name(s, fit_names, COUNT(fit_names), &v))
        return false;
    *out = (enum img_fit)v;
    return true;
}

bool img_gravity_parse(const char *s, enum img_gravity *out)
{
    int v = 0;
    if (s != NULL && strcmp(s, "center") == 0)
        s = "centre";
    if (!parse_name(s, gravity_names, COUNT(gravity_names), &v))
        return false;
    *out = (enum img_gravity)v;
    return true;
}

bool img_out_format_parse(const char *s, enum img_out_format *out)
{
    int v = 0;
    if (s != NULL && strcmp(s, "jpg") == 0)
        s = "jpeg";
    if (!parse_name(s, format_names, COUNT(format_names), &v))
        return false;
    *out = (enum img_out_format)v;
    return true;
}

const char *img_fit_name(enum img_fit f)
{
    return (int)f >= 0 && (int)f < COUNT(fit_names) ? fit_names[f] : "unknown";
}

const char *img_gravity_name(enum img_gravity g)
{
    return (int)g >= 0 && (int)g < COUNT(gravity_names) ? gravity_names[g] : "unknown";
}

const char *img_out_format_name(enum img_out_format f)
{
    return (int)f >= 0 && (int)f < COUNT(format_names) ? format_names[f] : "unknown";
}

static void add_domain(struct img_preset_table *t, const char *domain, const int *sizes, int n,
                       enum img_fit fit)
{
    struct img_domain_presets *d = &t->domains[t->count++];
    memset(d, 0, sizeof(*d));
    snprintf(d->domain, sizeof(d->domain), "%s", domain);
    for (int i = 0; i < n; i++) {
        struct img_preset *p = &d->presets[d->count++];
        snprintf(p->name, sizeof(p->name), "%d", sizes[i]);
        p->width = sizes[i];
        p->height = fit == IMG_FIT_COVER ? sizes[i] : 0;
        p->fit = fit;
        p->gravity = IMG_GRAVITY_CENTRE;
        p->format = IMG_OUT_JPEG;
        p->quality = IMG_DEFAULT_QUALITY;
        p->enlarge = false;
    }
}

void img_presets_builtin(struct img_preset_table *t)
{
    static const int square[] = {640, 320, 160};
    static const int small_square[] = {320, 160};
    static const int wide[] = {1080, 640, 320};
    memset(t, 0, sizeof(*t));
    add_domain(t, "profile", square, COUNT(square), IMG_FIT_COVER);
    add_domain(t, "feed", wide, COUNT(wide), IMG_FIT_INSIDE);
    add_domain(t, "chatroom", square, COUNT(square), IMG_FIT_COVER);
    add_domain(t, "chat", wide, COUNT(wide), IMG_FIT_INSIDE);
    add_domain(t, "chat_profile", small_square, COUNT(small_square), IMG_FIT_COVER);
}

const struct img_domain_presets *img_presets_find(const struct img_preset_table *t,
                                                  const char *domain)
{
    for (int i = 0; domain != NULL && i < t->count; i++) {
        if (strcmp(t->domains[i].domain, domain) == 0)
            return &t->domains[i];
    }
    return NULL;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= IMG_PRESET_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    /* the name is a segment of the variant's object key, beside the origin and the manifest */
    return strcmp(s, "origin") != 0 && strcmp(s, "manifest") != 0;
}

enum err_code img_preset_validate(const struct img_preset *p, struct img_error *e)
{
    if (!valid_name(p->name))
        return img_fail(e, IMG_R_INVALID_OPTION,
                        "preset name must be [a-z0-9_-]{1,31}, not origin or manifest");
    if (p->width < 0 || p->height < 0 || p->width > IMG_PRESET_MAX_SIDE ||
        p->height > IMG_PRESET_MAX_SIDE)
        return img_fail(e, IMG_R_INVALID_OPTION, "preset %s: width and height must be 0..%d",
                        p->name, IMG_PRESET_MAX_SIDE);
    if (p->width == 0 && p->height == 0)
        return img_fail(e, IMG_R_INVALID_OPTION, "preset %s: width or height is required", p->name);
    if (p->fit != IMG_FIT_INSIDE && (p->width == 0 || p->height == 0))
        return img_fail(e, IMG_R_INVALID_OPTION, "preset %s: fit %s needs width and height",
                        p->name, img_fit_name(p->fit));
    if ((int)p->fit < 0 || (int)p->fit > IMG_FIT_FILL || (int)p->gravity < 0 ||
        (int)p->gravity > IMG_GRAVITY_ATTENTION || (int)p->format < 0 ||
        (int)p->format > IMG_OUT_AVIF)
        return img_fail(e, IMG_R_INVALID_OPTION, "preset %s: bad fit, gravity or format", p->name);
    if (p->quality < 1 || p->quality > 100)
        return img_fail(e, IMG_R_INVALID_OPTION, "preset %s: quality must be 1..100", p->name);
    return ERR_OK;
}
