/*
 * fuzz_img_probe.c: format sniffing and the header probe with limits (imaging/img_probe.h).
 *
 * Input: an image file (or anything). libvips is started once (img_global_init, untrusted
 * loaders blocked). The probe runs with small limits (4 MP, 4096 px a side, 8 frames, 1 MiB)
 * so no input can make the fuzzer decode much. Invariants: an accepted image is of the sniffed
 * format and within every limit; img_sniff never names a format for fewer than 2 bytes.
 */
#include "fuzz.h"

#include "common/log.h"
#include "imaging/img_init.h"
#include "imaging/img_probe.h"

static void init_once(void)
{
    static int done;
    if (done)
        return;
    struct err e = {0};
    struct img_init_opts o = {1, false}; /* one libvips thread: libFuzzer runs one job */
    log_set_level(LOGL_ERROR);           /* libvips' warnings on hostile input are noise here */
    if (img_global_init(&o, &e) != ERR_OK) {
        fprintf(stderr, "img_global_init: %s\n", e.msg);
        abort();
    }
    done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    struct img_limits lim = {1024 * 1024, 4000000, 4096, 4096, 8, 4000000};
    struct img_probe p;
    struct img_error e = {0};
    enum img_format f = img_sniff(data, size);
    FUZZ_CHECK(f >= IMG_FMT_UNKNOWN && f < IMG_FMT_COUNT);
    FUZZ_CHECK(size >= 2 || f == IMG_FMT_UNKNOWN);
    memset(&p, 0, sizeof(p));
    if (img_probe(data, size, &lim, &p, &e) == ERR_OK) {
        FUZZ_CHECK(p.format == f && f != IMG_FMT_UNKNOWN);
        FUZZ_CHECK(p.width >= 1 && p.width <= lim.max_width);
        FUZZ_CHECK(p.height >= 1 && p.height <= lim.max_height);
        FUZZ_CHECK((uint64_t)p.width * (uint64_t)p.height <= lim.max_pixels);
        FUZZ_CHECK(p.frames >= 1 && p.frames <= lim.max_frames);
        FUZZ_CHECK(p.orientation >= 1 && p.orientation <= 8);
        FUZZ_CHECK(img_probe_display_width(&p) * img_probe_display_height(&p) ==
                   p.width * p.height);
    } else {
        FUZZ_CHECK(e.reason != IMG_R_NONE);
    }
    return 0;
}
