/*
 * fuzz_img_multipart.c: the multipart/form-data detector and extractor (imaging/img_input.h).
 *
 * Input: a request or object body. Invariants: an extracted file part lies inside the input;
 * img_input_unwrap gives the whole body back when the body is not an envelope, a part inside
 * it when recovery is on and it unwraps, and refuses (multipart_upload) when recovery is off
 * and the body is an envelope.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "imaging/img_input.h"

static bool inside(const struct img_span *s, const uint8_t *data, size_t size)
{
    return s->data >= data && s->len <= size && (size_t)(s->data - data) <= size - s->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct img_span file = {0}, img = {0};
    struct img_error e = {0};
    bool unwrapped = false;
    bool detected = img_multipart_detect(data, size);
    if (img_multipart_extract(data, size, &file, &e) == ERR_OK)
        FUZZ_CHECK(inside(&file, data, size));
    memset(&e, 0, sizeof(e));
    if (img_input_unwrap(data, size, true, &img, &unwrapped, &e) == ERR_OK) {
        FUZZ_CHECK(inside(&img, data, size));
        if (!unwrapped)
            FUZZ_CHECK(img.data == data && img.len == size);
        else
            FUZZ_CHECK(detected);
    }
    memset(&e, 0, sizeof(e));
    unwrapped = false;
    if (img_input_unwrap(data, size, false, &img, &unwrapped, &e) == ERR_OK) {
        FUZZ_CHECK(!unwrapped);
        FUZZ_CHECK(img.data == data && img.len == size);
    }
    return 0;
}
