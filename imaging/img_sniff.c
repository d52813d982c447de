/*
 * img_sniff.c: format names and magic-byte sniffing. See img_probe.h.
 *
 * Only the first bytes are looked at; a file name or declared Content-Type never counts.
 * HEIF files are told apart by their ISO-BMFF `ftyp` brands: any avif/avis brand makes AVIF,
 * otherwise a HEVC or generic HEIF brand makes HEIC.
 */
#include "imaging/img_probe.h"

#include <string.h>
#include <strings.h>

#define FTYP_MAX_BYTES 256 /* brands further than this are not read */

struct fmt_desc {
    const char *name;
    const char *mime;
    const char *ext;
};

static const struct fmt_desc fmts[IMG_FMT_COUNT] = {
    [IMG_FMT_UNKNOWN] = {"unknown", "application/octet-stream", "bin"},
    [IMG_FMT_JPEG] = {"jpeg", "image/jpeg", "jpg"},
    [IMG_FMT_PNG] = {"png", "image/png", "png"},
    [IMG_FMT_WEBP] = {"webp", "image/webp", "webp"},
    [IMG_FMT_HEIC] = {"heic", "image/heic", "heic"},
    [IMG_FMT_AVIF] = {"avif", "image/avif", "avif"},
    [IMG_FMT_GIF] = {"gif", "image/gif", "gif"},
};

static const struct fmt_desc *desc(enum img_format f)
{
    if ((int)f < 0 || f >= IMG_FMT_COUNT)
        f = IMG_FMT_UNKNOWN;
    return &fmts[f];
}

const char *img_format_name(enum img_format f)
{
    return desc(f)->name;
}

const char *img_format_mime(enum img_format f)
{
    return desc(f)->mime;
}

const char *img_format_ext(enum img_format f)
{
    return desc(f)->ext;
}

enum img_format img_format_parse(const char *name)
{
    if (name == NULL)
        return IMG_FMT_UNKNOWN;
    if (strcasecmp(name, "jpg") == 0)
        return IMG_FMT_JPEG;
    for (int f = IMG_FMT_JPEG; f < IMG_FMT_COUNT; f++) {
        if (strcasecmp(name, fmts[f].name) == 0)
            return (enum img_format)f;
    }
    return IMG_FMT_UNKNOWN;
}

static bool brand_in(const unsigned char *b, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (memcmp(b, *list, 4) == 0)
            return true;
    }
    return false;
}

static enum img_format sniff_ftyp(const unsigned char *p, size_t len)
{
    static const char *const avif[] = {"avif", "avis", NULL};
    static const char *const heic[] = {"heic", "heix", "heim", "heis", "hevc",
                                       "hevx", "mif1", "msf1", NULL};
    if (len < 16 || memcmp(p + 4, "ftyp", 4) != 0)
        return IMG_FMT_UNKNOWN;
    size_t box = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (box < 16 || box > len)
        return IMG_FMT_UNKNOWN;
    if (box > FTYP_MAX_BYTES)
        box = FTYP_MAX_BYTES;
    bool is_heic = false;
    /* major brand at 8, minor version at 12, compatible brands from 16 */
    for (size_t off = 8; off + 4 <= box; off += 4) {
        if (off == 12)
            continue;
        if (brand_in(p + off, avif))
            return IMG_FMT_AVIF;
        if (brand_in(p + off, heic))
            is_heic = true;
    }
    return is_heic ? IMG_FMT_HEIC : IMG_FMT_UNKNOWN;
}

enum img_format img_sniff(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    if (p == NULL || len < 4)
        return IMG_FMT_UNKNOWN;
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return IMG_FMT_JPEG;
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return IMG_FMT_PNG;
    if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return IMG_FMT_GIF;
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return IMG_FMT_WEBP;
    return sniff_ftyp(p, len);
}
