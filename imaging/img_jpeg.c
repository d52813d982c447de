/*
 * img_jpeg.c: the JPEG marker-segment walk. See img_jpeg_internal.h.
 *
 * Every read is checked against `len` before it happens; lengths come from the file and are
 * never trusted. No allocation.
 */
#include "imaging/img_jpeg_internal.h"

#include <string.h>

static unsigned be16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static bool is_sof(uint8_t m)
{
    return (m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static bool is_standalone(uint8_t m)
{
    return m == 0x01 || (m >= 0xD0 && m <= 0xD7);
}

/* True when an EOI marker (FF D9) appears in [from, len). Entropy data never holds FF D9. */
static bool has_eoi_after(const uint8_t *p, size_t len, size_t from)
{
    for (size_t i = len; i >= from + 2; i--) {
        if (p[i - 2] == 0xFF && p[i - 1] == 0xD9)
            return true;
    }
    return false;
}

static enum img_reason read_sof(const struct img_jpeg_seg *s, const uint8_t *p,
                                struct img_jpeg_info *info)
{
    if (s->data_len < 6)
        return IMG_R_CORRUPT_IMAGE;
    const uint8_t *d = p + s->data_off;
    info->height = (int)be16(d + 1);
    info->width = (int)be16(d + 3);
    info->components = d[5];
    info->progressive =
        s->marker == 0xC2 || s->marker == 0xC6 || s->marker == 0xCA || s->marker == 0xCE;
    if (info->width == 0 || info->height == 0 || info->components == 0)
        return IMG_R_CORRUPT_IMAGE; /* zero height needs DNL, which we do not accept */
    return IMG_R_NONE;
}

enum img_reason img_jpeg_walk(const uint8_t *p, size_t len, struct img_jpeg_info *info,
                              img_jpeg_seg_fn fn, void *ctx)
{
    memset(info, 0, sizeof(*info));
    if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return IMG_R_CORRUPT_IMAGE;
    size_t pos = 2;
    bool have_sof = false;
    for (;;) {
        if (pos >= len)
            return IMG_R_TRUNCATED;
        if (p[pos] != 0xFF)
            return IMG_R_CORRUPT_IMAGE;
        size_t mpos = pos;
        while (pos < len && p[pos] == 0xFF) /* fill bytes */
            pos++;
        if (pos >= len)
            return IMG_R_TRUNCATED;
        uint8_t m = p[pos++];
        if (m == 0x00 || m == 0xD8)
            return IMG_R_CORRUPT_IMAGE;
        if (m == 0xD9)
            return IMG_R_CORRUPT_IMAGE; /* EOI before any scan: a header without image data */
        if (is_standalone(m))
            continue;
        if (len - pos < 2)
            return IMG_R_TRUNCATED;
        unsigned seglen = be16(p + pos);
        if (seglen < 2)
            return IMG_R_CORRUPT_IMAGE;
        if (len - pos < seglen)
            return IMG_R_TRUNCATED;
        struct img_jpeg_seg s = {m, mpos, pos - mpos + seglen, pos + 2, seglen - 2u};
        if (is_sof(m)) {
            if (have_sof)
                return IMG_R_CORRUPT_IMAGE; /* one frame per file */
            enum img_reason r = read_sof(&s, p, info);
            if (r != IMG_R_NONE)
                return r;
            have_sof = true;
        }
        if (m == 0xDA) {
            if (!have_sof)
                return IMG_R_CORRUPT_IMAGE;
            info->sos_off = mpos;
            return has_eoi_after(p, len, pos + seglen) ? IMG_R_NONE : IMG_R_TRUNCATED;
        }
        if (fn != NULL && fn(&s, ctx) != 0)
            return IMG_R_INTERNAL;
        pos += seglen;
    }
}
