/*
 * img_preset.h: variant presets — what sizes and formats each upload domain gets.
 *
 * A preset is a plain value: {name, width, height, fit, gravity, format, quality, enlarge}.
 * Built-in defaults exist for every domain of the key schema (profile, feed, chatroom, chat,
 * chat_profile); a JSON presets file replaces the list of any domain it names (see
 * img_presets_parse for the format). Everything is validated strictly: unknown keys, bad
 * values, duplicate names and unknown domains are errors, never silently ignored.
 */
#ifndef IMGSVC_IMAGING_IMG_PRESET_H
#define IMGSVC_IMAGING_IMG_PRESET_H

#include <stdbool.h>
#include <stddef.h>

#include "imaging/img_error.h"

enum img_fit {
    IMG_FIT_INSIDE = 0, /* scale to fit within width x height, keep aspect (default) */
    IMG_FIT_COVER,      /* scale to cover width x height, then crop to exactly that */
    IMG_FIT_CONTAIN,    /* scale to fit within, then pad to exactly width x height */
    IMG_FIT_FILL,       /* stretch to width x height, ignoring aspect */
};

enum img_gravity {
    IMG_GRAVITY_CENTRE = 0, /* crop around the centre (default) */
    IMG_GRAVITY_ATTENTION,  /* crop around the most interesting region (libvips attention) */
};

enum img_out_format {
    IMG_OUT_SAME = 0, /* JPEG->JPEG, PNG->PNG, WebP->WebP, GIF->PNG, HEIC/AVIF->JPEG */
    IMG_OUT_JPEG,
    IMG_OUT_PNG,
    IMG_OUT_WEBP,
    IMG_OUT_AVIF,
};

#define IMG_PRESET_NAME_MAX    32    /* including the NUL; names are [a-z0-9_-]{1,31} */
#define IMG_PRESET_MAX_SIDE    16384 /* width/height bound */
#define IMG_PRESET_MAX         8     /* presets per domain */
#define IMG_PRESET_DOMAINS_MAX 8
#define IMG_DEFAULT_QUALITY    80

struct img_preset {
    char name[IMG_PRESET_NAME_MAX]; /* used in object keys, e.g. "640" */
    int width;                      /* 0 = unbounded (inside only) */
    int height;                     /* 0 = unbounded (inside only) */
    enum img_fit fit;
    enum img_gravity gravity;
    enum img_out_format format;
    int quality;  /* 1..100, for JPEG, WebP and AVIF */
    bool enlarge; /* false (default): never upscale past the source */
};

struct img_domain_presets {
    char domain[IMG_PRESET_NAME_MAX];
    int count;
    struct img_preset presets[IMG_PRESET_MAX];
};

struct img_preset_table {
    int count;
    struct img_domain_presets domains[IMG_PRESET_DOMAINS_MAX];
};

/*
 * Fills `t` with the built-in defaults:
 *   profile, chatroom:  "640", "320", "160"  cover (square), centre, JPEG q80
 *   chat_profile:       "320", "160"         cover (square), centre, JPEG q80
 *   feed, chat:         "1080", "640", "320" inside (width only), JPEG q80
 */
void img_presets_builtin(struct img_preset_table *t);

/*
 * Parses a presets file (exactly `len` bytes of JSON) over the built-in defaults into `t`:
 *
 *   { "feed": [ {"name": "1080", "width": 1080, "fit": "inside", "format": "jpeg",
 *                "quality": 80}, ... ],
 *     "profile": [ ... ] }
 *
 * Each named domain's list replaces the built-in one; other domains keep their defaults.
 * Preset keys: name (required), width, height, fit (inside|cover|contain|fill), gravity
 * (centre|attention), format (same|jpeg|png|webp|avif), quality (1..100, default 80),
 * enlarge (boolean, default false). On error `t` is unchanged and `e` names the domain, preset
 * and field (reason invalid_option, class ERR_INVALID).
 */
enum err_code img_presets_parse(const char *json, size_t len, struct img_preset_table *t,
                                struct img_error *e);

/* The presets of `domain`, or NULL. Borrowed from `t`. */
const struct img_domain_presets *img_presets_find(const struct img_preset_table *t,
                                                  const char *domain);

/* Checks one preset (name, sizes, fit needs both sides, quality). ERR_INVALID with `e`. */
enum err_code img_preset_validate(const struct img_preset *p, struct img_error *e);

/* Name parsers (case-sensitive, as printed by the *_name functions); false if unknown. */
bool img_fit_parse(const char *s, enum img_fit *out);
bool img_gravity_parse(const char *s, enum img_gravity *out);
bool img_out_format_parse(const char *s, enum img_out_format *out);
const char *img_fit_name(enum img_fit f);
const char *img_gravity_name(enum img_gravity g);
const char *img_out_format_name(enum img_out_format f);

#endif
