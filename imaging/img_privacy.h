/*
 * img_privacy.h: origin privacy — removing location from the stored original, without
 * re-encoding its pixels and keeping its orientation.
 *
 * Policy per format (the pixel data is never touched; only metadata bytes change):
 *   JPEG  the EXIF (APP1) block is edited in place: the GPS IFD pointer is removed from IFD0
 *         and IFD1 and every byte of the GPS IFD and its values is zeroed; Orientation and the
 *         rest of EXIF stay. XMP (APP1, including extended XMP) and IPTC/Photoshop (APP13)
 *         segments, which carry location fields (exif:GPS*, photoshop:City, Iptc4xmpCore
 *         Location...), are dropped whole.
 *   PNG   the eXIf chunk is edited the same way (CRC recomputed); XMP iTXt chunks and
 *         ImageMagick "Raw profile type exif/xmp/iptc" text chunks are dropped.
 *   WebP  the EXIF chunk is edited the same way; the XMP chunk is dropped (RIFF and VP8X
 *         headers updated).
 *   HEIC/AVIF  the Exif item (found by its "Exif\0\0" + TIFF header signature) is edited in
 *         place, same length, so the ISO-BMFF boxes stay valid. XMP items are left as they
 *         are (phones do not write location there).
 *   GIF   no EXIF exists; the bytes are kept unchanged.
 */
#ifndef IMGSVC_IMAGING_IMG_PRIVACY_H
#define IMGSVC_IMAGING_IMG_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaging/img_error.h"
#include "imaging/img_probe.h"

struct img_privacy_report {
    bool gps_removed;  /* a GPS IFD was found and wiped */
    bool xmp_removed;  /* XMP segments/chunks were dropped */
    bool iptc_removed; /* IPTC / Photoshop segments were dropped */
};

/*
 * Makes a copy of `buf` (an image of format `fmt`, as sniffed) without location metadata, as
 * described above. On ERR_OK `*out` is a malloc'd buffer of `*out_len` bytes (caller frees
 * with free()) and `rep` (may be NULL) says what was removed. A malformed container fails
 * with corrupt_image or truncated and no output. Borrows `buf`.
 */
enum err_code img_origin_strip_location(const void *buf, size_t len, enum img_format fmt,
                                        uint8_t **out, size_t *out_len,
                                        struct img_privacy_report *rep, struct img_error *e);

/*
 * Removes the GPS IFD from a TIFF/EXIF block (starting at its "II*\0" or "MM\0*" header) in
 * place, without changing its length. Returns true when GPS data was found and wiped. Every
 * offset is bounds-checked; malformed blocks are left as they are. Exposed for tests.
 */
bool img_tiff_remove_gps(uint8_t *tiff, size_t len);

/*
 * Drops every metadata chunk (EXIF, XMP, ICCP) from a WebP in place, shrinking `*len`.
 * Used on encoded variants (libvips 8.14's webpsave writes EXIF even when asked to strip).
 */
enum err_code img_webp_strip_metadata(uint8_t *buf, size_t *len, struct img_error *e);

#endif
