/*
 * img_input.h: finding the image bytes in a request or object body.
 *
 * The seed's clients sometimes sent a multipart/form-data envelope where raw bytes were
 * expected, and the seed stored the envelope as a "JPEG". img_input_unwrap() recognises such an
 * envelope strictly (a boundary line at byte 0, form-data part headers, a closing boundary) and,
 * when recovery is allowed, points at the single file part inside it without copying.
 */
#ifndef IMGSVC_IMAGING_IMG_INPUT_H
#define IMGSVC_IMAGING_IMG_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaging/img_error.h"

/* A borrowed byte range inside a caller's buffer. */
struct img_span {
    const uint8_t *data;
    size_t len;
};

/* Bounds of the envelope parser (hostile input cannot make it do more work than this). */
#define IMG_MP_MAX_BOUNDARY 70   /* RFC 2046 */
#define IMG_MP_MAX_HEADER   8192 /* bytes of headers per part */
#define IMG_MP_MAX_PARTS    16

/*
 * True when `buf` starts like a multipart body: "--" + a valid boundary + CRLF + a header line.
 * Cheap; reads at most IMG_MP_MAX_BOUNDARY + 64 bytes.
 */
bool img_multipart_detect(const void *buf, size_t len);

/*
 * Parses a multipart/form-data body and returns in `file` the one file part's content (a span
 * into `buf`): the single part with a filename, or, when no part has one, the single part whose
 * content sniffs as an image. ERR_OK, or ERR_INVALID with reason multipart_upload and the cause
 * in `e` (malformed envelope, no file part, several file parts). Borrows `buf`.
 */
enum err_code img_multipart_extract(const void *buf, size_t len, struct img_span *file,
                                    struct img_error *e);

/*
 * Resolves the image bytes of a body. Not an envelope: `image` is the whole body and
 * `*unwrapped` false. An envelope with `recover` true: `image` is the file part and
 * `*unwrapped` true (the caller records a warning). An envelope with `recover` false, or one
 * that cannot be parsed: ERR_INVALID, reason multipart_upload, and a message telling the
 * client to send the raw bytes. Borrows `buf`; `image` points into it.
 */
enum err_code img_input_unwrap(const void *buf, size_t len, bool recover, struct img_span *image,
                               bool *unwrapped, struct img_error *e);

#endif
