/*
 * img_tiff.c: in-place removal of the GPS IFD from an EXIF (TIFF) block. See img_privacy.h.
 *
 * TIFF layout: an 8-byte header (byte order, 42, offset of IFD0), then IFDs: a 2-byte entry
 * count, 12-byte entries (tag, type, count, value or offset), and a 4-byte offset of the next
 * IFD. The GPS IFD hangs off IFD0 (rarely IFD1) through tag 0x8825. Nothing moves except the
 * entries after the 0x8825 entry inside its own IFD, which shift down by one slot; all other
 * offsets in the block stay valid.
 */
#include "imaging/img_privacy.h"

#include <string.h>

#define TAG_GPS_IFD 0x8825
#define MAX_IFDS    2 /* IFD0 and IFD1 */

struct tiff {
    uint8_t *p;
    size_t n;
    bool le;
};

static unsigned rd16(const struct tiff *t, size_t o)
{
    return t->le ? (unsigned)(t->p[o] | (t->p[o + 1] << 8))
                 : (unsigned)((t->p[o] << 8) | t->p[o + 1]);
}

static uint32_t rd32(const struct tiff *t, size_t o)
{
    const uint8_t *b = t->p + o;
    return t->le ? ((uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                    ((uint32_t)b[3] << 24))
                 : (((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) |
                    (uint32_t)b[3]);
}

static void wr16(const struct tiff *t, size_t o, unsigned v)
{
    t->p[o + (t->le ? 0 : 1)] = (uint8_t)(v & 0xff);
    t->p[o + (t->le ? 1 : 0)] = (uint8_t)(v >> 8);
}

/* Bytes per value of a TIFF type (0 for unknown types). */
static size_t type_size(unsigned type)
{
    static const size_t sizes[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    return type < sizeof(sizes) / sizeof(sizes[0]) ? sizes[type] : 0;
}

/* True when the IFD at `off` fits: count, entries and the next-IFD offset. */
static bool ifd_fits(const struct tiff *t, size_t off, unsigned *count)
{
    if (off < 8 || off > t->n || t->n - off < 2)
        return false;
    *count = rd16(t, off);
    return t->n - off - 2 >= (size_t)*count * 12 + 4;
}

/* Zeroes the GPS IFD at `off`, its out-of-line values included. */
static void wipe_gps_ifd(const struct tiff *t, size_t off)
{
    unsigned count = 0;
    if (!ifd_fits(t, off, &count))
        return;
    for (unsigned i = 0; i < count; i++) {
        size_t e = off + 2 + (size_t)i * 12;
        size_t bytes = type_size(rd16(t, e + 2)) * (size_t)rd32(t, e + 4);
        size_t voff = rd32(t, e + 8);
        if (bytes > 4 && voff >= 8 && voff <= t->n && t->n - voff >= bytes)
            memset(t->p + voff, 0, bytes);
    }
    memset(t->p + off, 0, 2 + (size_t)count * 12 + 4);
}

/* Removes the GPS pointer from the IFD at `off`. Returns the next IFD's offset (0 = none). */
static size_t strip_ifd(const struct tiff *t, size_t off, bool *found)
{
    unsigned count = 0;
    if (!ifd_fits(t, off, &count))
        return 0;
    for (unsigned i = 0; i < count; i++) {
        size_t e = off + 2 + (size_t)i * 12;
        if (rd16(t, e) != TAG_GPS_IFD)
            continue;
        wipe_gps_ifd(t, rd32(t, e + 8));
        size_t end = off + 2 + (size_t)count * 12 + 4; /* entries + next-IFD offset */
        memmove(t->p + e, t->p + e + 12, end - (e + 12));
        memset(t->p + end - 12, 0, 12);
        wr16(t, off, count - 1);
        *found = true;
        count--;
        i--; /* look at the entry that moved into this slot */
    }
    return rd32(t, off + 2 + (size_t)count * 12);
}

bool img_tiff_remove_gps(uint8_t *tiff, size_t len)
{
    struct tiff t = {tiff, len, false};
    bool found = false;
    if (tiff == NULL || len < 8)
        return false;
    if (memcmp(tiff, "II*\0", 4) == 0)
        t.le = true;
    else if (memcmp(tiff, "MM\0*", 4) != 0)
        return false;
    size_t off = rd32(&t, 4);
    for (int i = 0; i < MAX_IFDS && off != 0; i++)
        off = strip_ifd(&t, off, &found);
    return found;
}
