/*
 * img_input.c: strict, bounded multipart/form-data envelope detection and extraction.
 * See img_input.h.
 *
 * Every offset is checked against the body length before use; the number of parts and the
 * size of part headers are capped; searches are memmem (linear) over the body.
 */
#include "imaging/img_input.h"

#include <string.h>
#include <strings.h>

#include "imaging/img_probe.h"

#define SEND_RAW_HINT                                                                              \
    "send the raw image bytes as the request body (e.g. curl --data-binary @photo.jpg), not a "    \
    "multipart/form-data form"

struct mp_part {
    struct img_span body;
    bool has_filename;
};

static bool is_bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/* Length of the boundary after the leading "--" of the first line, or 0 if it is not one. */
static size_t boundary_len(const uint8_t *p, size_t len)
{
    if (len < 4 || p[0] != '-' || p[1] != '-')
        return 0;
    size_t n = 0;
    while (2 + n < len && n <= IMG_MP_MAX_BOUNDARY && is_bchar(p[2 + n]))
        n++;
    if (n == 0 || n > IMG_MP_MAX_BOUNDARY || p[2 + n - 1] == ' ')
        return 0;
    if (len - 2 - n < 2 || p[2 + n] != '\r' || p[3 + n] != '\n')
        return 0;
    return n;
}

/* Case-insensitive search for `needle` within the `n` bytes at `p`. */
static const uint8_t *find_ci(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++) {
        if (strncasecmp((const char *)p + i, needle, k) == 0)
            return p + i;
    }
    return NULL;
}

bool img_multipart_detect(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (p == NULL)
        return false;
    size_t b = boundary_len(p, len);
    if (b == 0)
        return false;
    size_t hdr = 2 + b + 2;
    size_t n = len - hdr < 64 ? len - hdr : 64;
    return n >= 20 && strncasecmp((const char *)p + hdr, "content-", 8) == 0;
}

/*
 * Parses the part headers at [pos, len): sets *body_off to the first content byte and
 * part->has_filename. False on a malformed header block.
 */
static bool parse_part_headers(const uint8_t *p, size_t len, size_t pos, size_t *body_off,
                               struct mp_part *part)
{
    size_t room = len - pos < IMG_MP_MAX_HEADER ? len - pos : IMG_MP_MAX_HEADER;
    const uint8_t *end = memmem(p + pos, room, "\r\n\r\n", 4);
    if (end == NULL)
        return false;
    size_t hlen = (size_t)(end - (p + pos));
    const uint8_t *cd = find_ci(p + pos, hlen, "content-disposition:");
    if (cd == NULL)
        return false;
    size_t cdlen = hlen - (size_t)(cd - (p + pos));
    const uint8_t *eol = memmem(cd, cdlen, "\r\n", 2);
    if (eol != NULL)
        cdlen = (size_t)(eol - cd);
    if (find_ci(cd, cdlen, "form-data") == NULL)
        return false;
    part->has_filename = find_ci(cd, cdlen, "filename=") != NULL;
    *body_off = pos + hlen + 4;
    return true;
}

/* Splits the body into at most IMG_MP_MAX_PARTS parts. Returns the count, or -1 if malformed. */
static int split_parts(const uint8_t *p, size_t len, size_t blen, struct mp_part *parts)
{
    char delim[IMG_MP_MAX_BOUNDARY + 5];
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, p + 2, blen);
    size_t dlen = blen + 4;
    size_t pos = 2 + blen + 2; /* after the opening boundary line */
    for (int n = 0; n < IMG_MP_MAX_PARTS; n++) {
        size_t body = 0;
        if (!parse_part_headers(p, len, pos, &body, &parts[n]))
            return -1;
        const uint8_t *d = memmem(p + body, len - body, delim, dlen);
        if (d == NULL)
            return -1; /* no closing boundary: truncated envelope */
        parts[n].body.data = p + body;
        parts[n].body.len = (size_t)(d - (p + body));
        size_t after = (size_t)(d - p) + dlen;
        if (len - after >= 2 && p[after] == '-' && p[after + 1] == '-')
            return n + 1; /* close delimiter; the epilogue is ignored */
        if (len - after < 2 || p[after] != '\r' || p[after + 1] != '\n')
            return -1;
        pos = after + 2;
    }
    return -1; /* too many parts */
}

/* Index of the single file part (see img_multipart_extract), or -1 with a reason in `why`. */
static int pick_file_part(const struct mp_part *parts, int n, const char **why)
{
    int with_name = -1, images = -1, nnamed = 0, nimages = 0;
    for (int i = 0; i < n; i++) {
        if (parts[i].has_filename) {
            with_name = i;
            nnamed++;
        }
        if (img_sniff(parts[i].body.data, parts[i].body.len) != IMG_FMT_UNKNOWN) {
            images = i;
            nimages++;
        }
    }
    if (nnamed == 1)
        return with_name;
    if (nnamed == 0 && nimages == 1)
        return images;
    *why = nnamed > 1 || nimages > 1 ? "it holds several files" : "it holds no file";
    return -1;
}

enum err_code img_multipart_extract(const void *buf, size_t len, struct img_span *file,
                                    struct img_error *e)
{
    const uint8_t *p = buf;
    struct mp_part parts[IMG_MP_MAX_PARTS];
    memset(parts, 0, sizeof(parts));
    file->data = NULL;
    file->len = 0;
    size_t blen = p ? boundary_len(p, len) : 0;
    if (blen == 0)
        return img_fail(e, IMG_R_MULTIPART_UPLOAD, "not a multipart/form-data body");
    int n = split_parts(p, len, blen, parts);
    if (n < 0)
        return img_fail(e, IMG_R_MULTIPART_UPLOAD,
                        "the body is a malformed or truncated multipart/form-data form; %s",
                        SEND_RAW_HINT);
    const char *why = "";
    int i = pick_file_part(parts, n, &why);
    if (i < 0)
        return img_fail(e, IMG_R_MULTIPART_UPLOAD,
                        "the body is a multipart/form-data form and %s; %s", why, SEND_RAW_HINT);
    *file = parts[i].body;
    return ERR_OK;
}

enum err_code img_input_unwrap(const void *buf, size_t len, bool recover, struct img_span *image,
                               bool *unwrapped, struct img_error *e)
{
    image->data = buf;
    image->len = len;
    *unwrapped = false;
    if (!img_multipart_detect(buf, len))
        return ERR_OK;
    if (!recover)
        return img_fail(e, IMG_R_MULTIPART_UPLOAD,
                        "the body is a multipart/form-data form, not an image; %s", SEND_RAW_HINT);
    enum err_code rc = img_multipart_extract(buf, len, image, e);
    if (rc != ERR_OK) {
        image->data = buf;
        image->len = len;
        return rc;
    }
    *unwrapped = true;
    return ERR_OK;
}
