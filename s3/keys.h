/*
 * keys.h: the object key schema, the one place that knows where uploads and their outputs live.
 *
 * Every upload belongs to one of five domains (profile, feed, chatroom, chat, chat_profile),
 * each with one or two ids and a path template (the table in keys.c, readable through
 * s3_key_domain_get()). From a domain's path P, an upload id U = "<uuid>_<ts>" and an
 * extension X, the keys are:
 *
 *   temp      delete/P/U.X           the presigned PUT target; the only keys under delete/
 *   origin    P/origin/U.X           the original bytes, copied once processing succeeded
 *   variant   P/<size>/U.X           one resized output; <size> is a preset name
 *   manifest  P/manifest/U.json      written last; its presence means "ready"
 *   failed    failed/P/U.json        a bad upload's record (code, message); a top-level prefix
 *                                    so one S3 lifecycle rule can expire them after N days
 *
 * e.g. profile/42 -> "delete/profile/42/<uuid>_<ts>.jpeg", "profile/42/origin/...",
 * "profile/42/320/...", "profile/42/manifest/<uuid>_<ts>.json"; chat (chatroomId 7, chatId 9)
 * -> "delete/chatroom/7/chat/9/...". The manifest lives beside the sizes under the reserved
 * name "manifest", which is therefore (like "origin") refused as a preset name.
 *
 * Everything is validated both ways, so no key can leave its prefix and parse(build(x)) == x:
 *   ids      [A-Za-z0-9_-]{1,64}           (no '.', '/', '%': no traversal, nothing to decode)
 *   size     [a-z0-9_-]{1,32}, not "origin" or "manifest"
 *   uuid     lowercase v4 UUID (common/uuid.h)
 *   ts       Unix seconds, decimal, no sign, no leading zero, 1..253402300799 (year 9999)
 *   ext      jpeg png webp heic heif avif gif (from the content type; "jpg" is not used) and
 *            json for manifests and failed records only
 *
 * Errors are ERR_INVALID (ERR_UNSUPPORTED for an unknown content type or extension) with a
 * message that starts with a stable reason code and a colon, e.g. "bad_id: ...". The codes:
 * unknown_domain, bad_id, wrong_id_count, bad_upload_id, bad_uuid, bad_ts, unknown_ext,
 * bad_size, bad_key (structure: empty segments, missing parts), not_temp, key_too_long.
 */
#ifndef IMGSVC_S3_KEYS_H
#define IMGSVC_S3_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/uuid.h"

#define S3_KEY_MAX_IDS       2
#define S3_KEY_ID_MAX        64 /* characters in one id */
#define S3_KEY_SIZE_NAME_MAX 32 /* characters in a preset name */
#define S3_KEY_EXT_MAX       8  /* room for the longest extension and its NUL */
#define S3_KEY_TS_MAX        253402300799LL
#define S3_KEY_UPLOAD_ID_MAX 64  /* room for "<uuid>_<ts>" and its NUL */
#define S3_KEY_MAX           256 /* room for the longest key this schema can make, and its NUL */

enum s3_key_domain {
    S3_DOMAIN_PROFILE,
    S3_DOMAIN_FEED,
    S3_DOMAIN_CHATROOM,
    S3_DOMAIN_CHAT,
    S3_DOMAIN_CHAT_PROFILE,
    S3_DOMAIN_COUNT
};

enum s3_key_kind { S3_KEY_TEMP, S3_KEY_ORIGIN, S3_KEY_VARIANT, S3_KEY_MANIFEST, S3_KEY_FAILED };

/*
 * One row of the domain table. `path` is the template: '/'-separated segments, each either a
 * literal or "{idName}"; the placeholders appear in the order of `id_names`.
 */
struct s3_key_domain_desc {
    enum s3_key_domain domain;
    const char *name; /* as in the API: "chat_profile" */
    size_t nids;
    const char *id_names[S3_KEY_MAX_IDS]; /* as in the API: "chatroomId", "userId" */
    const char *path;                     /* "chatroom/{chatroomId}/chat_profile/{userId}" */
};

/* One key, split into its parts. Zero-initialise before filling it in to build a key. */
struct s3_key {
    enum s3_key_domain domain;
    enum s3_key_kind kind;
    char ids[S3_KEY_MAX_IDS][S3_KEY_ID_MAX + 1]; /* in the domain's id order */
    char upload_id[S3_KEY_UPLOAD_ID_MAX];        /* "<uuid>_<ts>" */
    char size[S3_KEY_SIZE_NAME_MAX + 1];         /* variants only; "" otherwise */
    char ext[S3_KEY_EXT_MAX];                    /* "jpeg"...; "json" for a manifest */
};

/* The table row for `d`, or NULL when `d` is out of range. Static storage. */
const struct s3_key_domain_desc *s3_key_domain_get(enum s3_key_domain d);

/* The table row whose name is `name` (exact, case-sensitive), or NULL. Static storage. */
const struct s3_key_domain_desc *s3_key_domain_find(const char *name);

/* Index of the id called `id_name` in `desc` (e.g. "userId"), or -1. */
int s3_key_id_index(const struct s3_key_domain_desc *desc, const char *id_name);

/* "temp", "origin", "variant", "manifest", "failed". Never NULL. */
const char *s3_key_kind_name(enum s3_key_kind kind);

/* True when `id` matches [A-Za-z0-9_-]{1,64}. */
bool s3_key_id_valid(const char *id);

/* True when `size` is a usable preset name: [a-z0-9_-]{1,32} and not "origin"/"manifest". */
bool s3_key_size_valid(const char *size);

/*
 * The extension for a content type ("image/jpeg" -> "jpeg"; parameters after ';' and case are
 * ignored), or NULL when the type is not one we accept. Static storage.
 */
const char *s3_key_ext_from_content_type(const char *content_type);

/* The content type for an image extension ("jpeg" -> "image/jpeg"), or NULL. Static storage. */
const char *s3_key_content_type_from_ext(const char *ext);

/*
 * Makes a new upload id "<uuid>_<now>" into `out` with a fresh random v4 UUID.
 * ERR_INVALID when `now` is out of range; ERR_INTERNAL when the RNG fails.
 */
enum err_code s3_key_upload_id_new(int64_t now, char out[S3_KEY_UPLOAD_ID_MAX], struct err *e);

/*
 * Checks an upload id and splits it. `uuid` and `ts` are optional outputs.
 * ERR_INVALID with bad_upload_id / bad_uuid / bad_ts.
 */
enum err_code s3_key_upload_id_parse(const char *upload_id, char uuid[UUID_STR_LEN], int64_t *ts,
                                     struct err *e);

/*
 * Fills `k` for `domain` from `nids` ids (in the domain's order), an upload id and an image
 * extension, as a temp key; change k->kind (and k->size, k->ext) to name the other keys of the
 * same upload. Everything is validated as in s3_key_build. `k` is overwritten.
 */
enum err_code s3_key_init(struct s3_key *k, enum s3_key_domain domain, const char *const ids[],
                          size_t nids, const char *upload_id, const char *ext, struct err *e);

/*
 * Writes the key that `k` describes into `out` (`cap` bytes; S3_KEY_MAX is always enough).
 * A manifest or failed record always gets ".json" whatever k->ext says; other kinds need an
 * image extension; k->size is read for variants only. On any error `out` is an empty string.
 */
enum err_code s3_key_build(const struct s3_key *k, char *out, size_t cap, struct err *e);

/*
 * Parses any key of this schema into `out` (overwritten; zeroed on error). Refuses anything
 * that s3_key_build could not have made, with the reason codes listed above.
 */
enum err_code s3_key_parse(const char *key, struct s3_key *out, struct err *e);

/* As s3_key_parse, but only temp keys (under "delete/") are accepted: not_temp otherwise. */
enum err_code s3_key_parse_temp(const char *key, struct s3_key *out, struct err *e);

#endif
