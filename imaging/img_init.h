/*
 * img_init.h: process-wide libvips set-up for imaging/.
 *
 * Call img_global_init() once at start, before any other img_ function and before threads that
 * use imaging are started; call img_global_shutdown() once at exit. Threads that libvips did not
 * create (our workers, libmicrohttpd's) call img_thread_cleanup() before they exit so libvips
 * frees its per-thread buffers.
 */
#ifndef IMGSVC_IMAGING_IMG_INIT_H
#define IMGSVC_IMAGING_IMG_INIT_H

#include <stdbool.h>

#include "common/err.h"

/* Settings for img_global_init. Zero-initialised means "defaults". */
struct img_init_opts {
    /*
     * libvips worker threads per pipeline (vips_concurrency_set). 0 = libvips' default (the
     * VIPS_CONCURRENCY environment variable, else the number of cores). Bounds 0..64.
     */
    int concurrency;
    /* When true, libvips' debug and info messages are logged too (default: warnings and up). */
    bool log_debug;
};

/*
 * Starts libvips: VIPS_INIT, operation cache off (vips_cache_set_max(0)), untrusted operations
 * blocked, every loader blocked except JPEG, PNG, WebP, HEIF (HEIC + AVIF) and GIF, the thread
 * count from `opts` (NULL = defaults), and GLib's "VIPS" log domain routed to common/log (subsys
 * "vips"). Idempotent: later calls return ERR_OK without changing anything. ERR_INTERNAL (with
 * a message in `e`) if libvips cannot start, ERR_INVALID for an out-of-range option.
 */
enum err_code img_global_init(const struct img_init_opts *opts, struct err *e);

/* True once img_global_init has succeeded (and shutdown has not run). */
bool img_is_initialised(void);

/*
 * Frees libvips' per-thread state. Call from a thread libvips did not create, after its last
 * imaging call, before it exits. Safe to call when nothing was used.
 */
void img_thread_cleanup(void);

/* Shuts libvips down (vips_shutdown). Call once at exit after every imaging thread stopped. */
void img_global_shutdown(void);

/*
 * True when the libvips operation `nickname` (e.g. "svgload_buffer") is blocked. For tests and
 * diagnostics.
 */
bool img_operation_is_blocked(const char *nickname);

#endif
