/*
 * img_init.c: libvips start-up, loader blocking, log routing and shutdown. See img_init.h.
 *
 * Only the loaders for the formats imaging/ accepts stay usable: every VipsForeignLoad is
 * blocked, then the five families we need are unblocked again. The sniffer already refuses
 * other formats; blocking is the second wall should any byte ever reach libvips unsniffed.
 */
#include "imaging/img_init.h"

#include <pthread.h>
#include <string.h>
#include <stdio.h>

#include <vips/vips.h>

#include "common/log.h"

#define IMG_CONCURRENCY_MAX 64

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialised;
static bool log_debug;
static guint log_handler_id;

/* Loader families kept usable (base class names; unblocking covers file, buffer, source). */
static const char *const allowed_loaders[] = {
    "VipsForeignLoadJpeg", "VipsForeignLoadPng",   "VipsForeignLoadWebp",
    "VipsForeignLoadHeif", "VipsForeignLoadNsgif",
};

static void vips_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message,
                             gpointer user)
{
    (void)domain;
    (void)user;
    enum log_level lvl = LOGL_DEBUG;
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        lvl = LOGL_ERROR;
    else if (level & G_LOG_LEVEL_WARNING)
        lvl = LOGL_WARN;
    else if (level & G_LOG_LEVEL_MESSAGE)
        lvl = LOGL_INFO;
    if (lvl == LOGL_DEBUG && !log_debug)
        return;
    log_msg(lvl, domain && strcmp(domain, "VIPS") != 0 ? "glib" : "vips", NULL, "%s",
            message ? message : "");
}

/* g_printerr / g_print output (GLib and its modules) into the JSON log too. */
static void glib_print_handler(const gchar *text)
{
    log_msg(LOGL_WARN, "glib", NULL, "%s", text ? text : "");
}

static void block_loaders(void)
{
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (size_t i = 0; i < sizeof(allowed_loaders) / sizeof(allowed_loaders[0]); i++)
        vips_operation_block_set(allowed_loaders[i], FALSE);
}

enum err_code img_global_init(const struct img_init_opts *opts, struct err *e)
{
    enum err_code rc = ERR_OK;
    int conc = opts ? opts->concurrency : 0;
    if (conc < 0 || conc > IMG_CONCURRENCY_MAX)
        return err_set(e, ERR_INVALID, "imaging concurrency %d outside 0..%d", conc,
                       IMG_CONCURRENCY_MAX);
    pthread_mutex_lock(&init_lock);
    if (initialised)
        goto cleanup;
    log_debug = opts ? opts->log_debug : false;
    log_handler_id =
        g_log_set_handler("VIPS", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, vips_log_handler, NULL);
    /* every other GLib domain and g_printerr: stderr carries JSON lines only */
    g_log_set_default_handler(vips_log_handler, NULL);
    g_set_printerr_handler(glib_print_handler);
    g_set_print_handler(glib_print_handler);
    if (VIPS_INIT("imgsvc") != 0) {
        char *text = vips_error_buffer_copy();
        rc = err_set(e, ERR_INTERNAL, "libvips failed to start: %s", text ? text : "");
        g_free(text);
        goto cleanup;
    }
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    if (conc > 0)
        vips_concurrency_set(conc);
    block_loaders();
    initialised = true;
cleanup:
    pthread_mutex_unlock(&init_lock);
    return rc;
}

bool img_is_initialised(void)
{
    pthread_mutex_lock(&init_lock);
    bool v = initialised;
    pthread_mutex_unlock(&init_lock);
    return v;
}

void img_thread_cleanup(void)
{
    vips_thread_shutdown();
}

void img_global_shutdown(void)
{
    pthread_mutex_lock(&init_lock);
    if (initialised) {
        vips_shutdown();
        if (log_handler_id != 0)
            g_log_remove_handler("VIPS", log_handler_id);
        log_handler_id = 0;
        initialised = false;
    }
    pthread_mutex_unlock(&init_lock);
}

bool img_operation_is_blocked(const char *nickname)
{
    GType type = vips_type_find("VipsOperation", nickname);
    if (type == 0)
        return true; /* an operation that does not exist cannot run */
    VipsOperationClass *cls = VIPS_OPERATION_CLASS(g_type_class_ref(type));
    bool blocked = (cls->flags & VIPS_OPERATION_BLOCKED) != 0;
    g_type_class_unref(cls);
    return blocked;
}
