/*
 * img_privacy.c: location removal from stored originals, per container. See img_privacy.h.
 *
 * Each container is rebuilt into a new buffer of at most the input's size by copying its
 * segments/chunks, dropping the XMP/IPTC ones and editing EXIF blocks in place
 * (img_tiff_remove_gps). Pixel data is copied byte for byte.
 */
#include "imaging/img_privacy.h"

#include <stdlib.h>
#include <string.h>

#include "imaging/img_jpeg_internal.h"

#define EXIF_SIG     "Exif\0\0"
#define EXIF_SIG_LEN 6
#define XMP_SIG      "http://ns.adobe.com/xap/1.0/"
#define XMP_EXT_SIG  "http://ns.adobe.com/xmp/extension/"
#define IPTC_SIG     "Photoshop 3.0"

struct out {
    uint8_t *p;
    size_t len;
    struct img_privacy_report *rep;
    bool drop_all; /* WebP: drop EXIF and ICCP too (variant outputs) */
};

static void put(struct out *o, const uint8_t *src, size_t n)
{
    memcpy(o->p + o->len, src, n);
    o->len += n;
}

static bool starts(const uint8_t *p, size_t n, const char *sig, size_t siglen)
{
    return n >= siglen && memcmp(p, sig, siglen) == 0;
}

/* --- JPEG --------------------------------------------------------------------------------- */

struct jpeg_ctx {
    const uint8_t *in;
    struct out *o;
};

static int jpeg_segment(const struct img_jpeg_seg *s, void *ctx)
{
    struct jpeg_ctx *c = ctx;
    const uint8_t *d = c->in + s->data_off;
    if (s->marker == 0xE1 && (starts(d, s->data_len, XMP_SIG, sizeof(XMP_SIG)) ||
                              starts(d, s->data_len, XMP_EXT_SIG, sizeof(XMP_EXT_SIG)))) {
        c->o->rep->xmp_removed = true;
        return 0;
    }
    if (s->marker == 0xED && starts(d, s->data_len, IPTC_SIG, sizeof(IPTC_SIG))) {
        c->o->rep->iptc_removed = true;
        return 0;
    }
    size_t at = c->o->len;
    put(c->o, c->in + s->off, s->len);
    if (s->marker == 0xE1 && starts(d, s->data_len, EXIF_SIG, EXIF_SIG_LEN)) {
        uint8_t *tiff = c->o->p + at + (s->data_off - s->off) + EXIF_SIG_LEN;
        if (img_tiff_remove_gps(tiff, s->data_len - EXIF_SIG_LEN))
            c->o->rep->gps_removed = true;
    }
    return 0;
}

static enum err_code strip_jpeg(const uint8_t *in, size_t len, struct out *o, struct img_error *e)
{
    struct img_jpeg_info ji;
    struct jpeg_ctx c = {in, o};
    put(o, in, 2); /* SOI */
    enum img_reason r = img_jpeg_walk(in, len, &ji, jpeg_segment, &c);
    if (r != IMG_R_NONE)
        return img_fail(e, r == IMG_R_TRUNCATED ? r : IMG_R_CORRUPT_IMAGE,
                        "cannot read the JPEG's segments to remove location data");
    put(o, in + ji.sos_off, len - ji.sos_off); /* scan data onwards, unchanged */
    return ERR_OK;
}

/* --- PNG ---------------------------------------------------------------------------------- */

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Text chunks that carry XMP or a raw EXIF/IPTC profile (ImageMagick style). */
static bool png_drop_text(const uint8_t *type, const uint8_t *d, size_t n)
{
    static const char *const keys[] = {"XML:com.adobe.xmp",     "Raw profile type exif",
                                       "Raw profile type APP1", "Raw profile type xmp",
                                       "Raw profile type iptc", "Raw profile type 8bim"};
    if (memcmp(type, "iTXt", 4) != 0 && memcmp(type, "tEXt", 4) != 0 &&
        memcmp(type, "zTXt", 4) != 0)
        return false;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        size_t k = strlen(keys[i]);
        if (n > k && memcmp(d, keys[i], k) == 0 && d[k] == '\0')
            return true;
    }
    return false;
}

static enum err_code strip_png(const uint8_t *in, size_t len, struct out *o, struct img_error *e)
{
    size_t pos = 8;
    put(o, in, 8);
    while (pos < len) {
        if (len - pos < 12)
            return img_fail(e, IMG_R_TRUNCATED, "PNG chunk cut short");
        size_t n = be32(in + pos);
        if (n > len - pos - 12)
            return img_fail(e, IMG_R_TRUNCATED, "PNG chunk longer than the file");
        const uint8_t *type = in + pos + 4, *d = in + pos + 8;
        bool iend = memcmp(type, "IEND", 4) == 0;
        if (png_drop_text(type, d, n)) {
            o->rep->xmp_removed = true;
        } else {
            size_t at = o->len;
            put(o, in + pos, n + 12);
            if (memcmp(type, "eXIf", 4) == 0 && img_tiff_remove_gps(o->p + at + 8, n)) {
                o->rep->gps_removed = true;
                put_be32(o->p + at + 8 + n, crc32_png(o->p + at + 4, n + 4));
            }
        }
        pos += n + 12;
        if (iend)
            break;
    }
    return ERR_OK;
}

/* --- WebP --------------------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#define VP8X_FLAG_ICC  0x20
#define VP8X_FLAG_EXIF 0x08
#define VP8X_FLAG_XMP  0x04

static enum err_code strip_webp(const uint8_t *in, size_t len, struct out *o, struct img_error *e)
{
    size_t riff_end = len < 12 ? 0 : (size_t)le32(in + 4) + 8, pos = 12, vp8x = 0;
    if (riff_end < 12 || riff_end > len)
        return img_fail(e, IMG_R_TRUNCATED, "WebP RIFF size larger than the file");
    put(o, in, 12);
    while (pos < riff_end) {
        if (riff_end - pos < 8)
            return img_fail(e, IMG_R_CORRUPT_IMAGE, "WebP chunk header cut short");
        size_t n = le32(in + pos + 4), padded = n + (n & 1);
        if (padded > riff_end - pos - 8)
            return img_fail(e, IMG_R_TRUNCATED, "WebP chunk longer than the file");
        const uint8_t *cc = in + pos;
        if (memcmp(cc, "XMP ", 4) == 0) {
            o->rep->xmp_removed = true;
        } else if (o->drop_all && (memcmp(cc, "EXIF", 4) == 0 || memcmp(cc, "ICCP", 4) == 0)) {
            o->rep->gps_removed = true;
        } else {
            size_t at = o->len;
            put(o, cc, 8 + padded);
            if (memcmp(cc, "VP8X", 4) == 0 && n >= 1)
                vp8x = at;
            if (memcmp(cc, "EXIF", 4) == 0) {
                uint8_t *d = o->p + at + 8;
                size_t skip = starts(d, n, EXIF_SIG, EXIF_SIG_LEN) ? EXIF_SIG_LEN : 0;
                if (img_tiff_remove_gps(d + skip, n - skip))
                    o->rep->gps_removed = true;
            }
        }
        pos += 8 + padded;
    }
    if (vp8x != 0 && o->rep->xmp_removed)
        o->p[vp8x + 8] &= (uint8_t)~VP8X_FLAG_XMP;
    if (vp8x != 0 && o->drop_all)
        o->p[vp8x + 8] &= (uint8_t) ~(VP8X_FLAG_EXIF | VP8X_FLAG_ICC);
    put_le32(o->p + 4, (uint32_t)(o->len - 8));
    return ERR_OK;
}

enum err_code img_webp_strip_metadata(uint8_t *buf, size_t *len, struct img_error *e)
{
    struct img_privacy_report rep = {0};
    struct out o = {NULL, 0, &rep, true};
    if ((o.p = malloc(*len)) == NULL)
        return img_fail(e, IMG_R_INTERNAL, "out of memory");
    enum err_code rc = strip_webp(buf, *len, &o, e);
    if (rc == ERR_OK) {
        memcpy(buf, o.p, o.len);
        *len = o.len;
    }
    free(o.p);
    return rc;
}

/* --- HEIC / AVIF -------------------------------------------------------------------------- */

#define HEIF_EXIF_MAX 65536 /* the TIFF block is read no further than this */

static void strip_heif(const uint8_t *in, size_t len, struct out *o)
{
    put(o, in, len);
    for (size_t pos = 0; len >= EXIF_SIG_LEN + 8 && pos <= len - EXIF_SIG_LEN - 8; pos++) {
        const uint8_t *hit = memmem(o->p + pos, len - pos, EXIF_SIG, EXIF_SIG_LEN);
        if (hit == NULL)
            break;
        pos = (size_t)(hit - o->p);
        size_t t = pos + EXIF_SIG_LEN, n = len - t < HEIF_EXIF_MAX ? len - t : HEIF_EXIF_MAX;
        if (n >= 8 && img_tiff_remove_gps(o->p + t, n))
            o->rep->gps_removed = true;
    }
}

enum err_code img_origin_strip_location(const void *buf, size_t len, enum img_format fmt,
                                        uint8_t **out, size_t *out_len,
                                        struct img_privacy_report *rep, struct img_error *e)
{
    enum err_code rc = ERR_OK;
    struct img_privacy_report dummy;
    struct out o = {NULL, 0, rep ? rep : &dummy, false};
    memset(o.rep, 0, sizeof(*o.rep));
    *out = NULL;
    *out_len = 0;
    if (buf == NULL || len == 0)
        return img_fail(e, IMG_R_EMPTY_BODY, "no image bytes");
    if ((o.p = malloc(len)) == NULL)
        return img_fail(e, IMG_R_INTERNAL, "out of memory");
    if (fmt == IMG_FMT_JPEG)
        rc = strip_jpeg(buf, len, &o, e);
    else if (fmt == IMG_FMT_PNG)
        rc = len >= 8 ? strip_png(buf, len, &o, e)
                      : img_fail(e, IMG_R_TRUNCATED, "PNG signature cut short");
    else if (fmt == IMG_FMT_WEBP)
        rc = strip_webp(buf, len, &o, e);
    else if (fmt == IMG_FMT_HEIC || fmt == IMG_FMT_AVIF)
        strip_heif(buf, len, &o);
    else if (fmt == IMG_FMT_GIF)
        put(&o, buf, len);
    else
        rc = img_fail(e, IMG_R_UNSUPPORTED_FORMAT, "unsupported format");
    if (rc != ERR_OK) {
        free(o.p);
        return rc;
    }
    *out = o.p;
    *out_len = o.len;
    return ERR_OK;
}
