/*
 * store.h: the embedded S3 store's filesystem backend (no HTTP here; handlers/store*.c speak S3).
 *
 * Layout under the data folder:
 *
 *   <data>/.imgsvc-store                 marker (format version)
 *   <data>/tmp/                          temp files of writes in progress (emptied at open)
 *   <data>/buckets/<bucket>/<hh>/<sha>   one file per object: <sha> is the hex SHA-256 of the key,
 *                                        <hh> its first two hex digits
 *
 * Keys are never used as file names, so any S3 key works ("a" and "a/b" both exist, keys of
 * 1024 bytes, any byte but NUL) and no key can name a path outside the folder. Each object file
 * holds a one-line header, the metadata as JSON (key in hex, size, ETag = MD5, last modified,
 * content type, stored headers such as x-amz-meta-*, checksum) and then the bytes, so metadata
 * and data change together with one rename. Writes go to <data>/tmp, are fsynced, renamed into
 * place and the directory is fsynced: a crash, a full disk or a client that disconnects leaves
 * either the old object or the new one, never a mix. An in-memory index per bucket (built from
 * the object files at open) answers listings in key byte order.
 *
 * Thread-safe: one read-write lock per bucket guards the index and the renames; reads open the
 * file and need no lock afterwards.
 */
#ifndef IMGSVC_S3_STORE_H
#define IMGSVC_S3_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define S3_STORE_KEY_MAX       1024 /* S3's longest key, in bytes */
#define S3_STORE_META_MAX      2048 /* S3's cap on user metadata (x-amz-meta-* names + values) */
#define S3_STORE_HEADERS_MAX   24   /* most stored headers per object */
#define S3_STORE_CTYPE_MAX     256  /* longest content type kept */
#define S3_STORE_DEFAULT_CTYPE "binary/octet-stream" /* S3's type when none was sent */

struct s3_store;

/* Settings. Strings borrowed during s3_store_open only. */
struct s3_store_opts {
    const char *data_dir;      /* created when missing */
    uint64_t max_object_bytes; /* larger puts fail with ERR_TOO_LARGE; 0 = 5 GiB */
    bool no_fsync;             /* tests and benchmarks only: skip fsync (not crash safe) */
};

/* A header stored with an object and sent back on GET/HEAD ("x-amz-meta-color", "blue").
 * Names lowercase. */
struct s3_store_header {
    char *name;
    char *value;
};

/* What the store knows of an object. Free the strings with s3_store_info_free. */
struct s3_store_info {
    uint64_t size;
    char etag[33];    /* hex MD5 of the bytes, without quotes */
    int64_t mtime_ms; /* last modified, Unix milliseconds */
    char content_type[S3_STORE_CTYPE_MAX];
    char checksum_algo[16]; /* "CRC32", "CRC32C", "SHA1", "SHA256" or "" */
    char checksum[64];      /* base64 of the checksum, when checksum_algo is set */
    struct s3_store_header *headers;
    size_t nheaders;
};

void s3_store_info_free(struct s3_store_info *info);

/* A write. All borrowed. */
struct s3_store_put {
    const char *bucket;
    const char *key; /* NUL-terminated; check it first with s3_store_check_key */
    const void *data;
    size_t len;
    const char *content_type; /* NULL or "": S3_STORE_DEFAULT_CTYPE */
    const struct s3_store_header *headers;
    size_t nheaders;
    const char *checksum_algo; /* optional, kept and returned with the object */
    const char *checksum;
};

/*
 * Opens (creating when needed) the store under opts->data_dir: removes leftover temp files,
 * opens every bucket folder and indexes its objects (unreadable or foreign files are skipped
 * with a warning). NULL with `e` set on failure. Caller frees with s3_store_close.
 */
struct s3_store *s3_store_open(const struct s3_store_opts *opts, struct err *e);

/* Frees the store (files stay). NULL is a no-op. */
void s3_store_close(struct s3_store *s);

/* Creates a bucket (idempotent). ERR_INVALID for a name S3 would refuse. */
enum err_code s3_store_bucket_create(struct s3_store *s, const char *bucket, struct err *e);

/* True when the bucket exists. */
bool s3_store_bucket_exists(struct s3_store *s, const char *bucket);

/* S3 bucket name rules: 3..63 of [a-z0-9.-], starting and ending with a letter or digit. */
bool s3_store_bucket_name_ok(const char *bucket);

/*
 * Checks a key: ERR_TOO_LARGE past S3_STORE_KEY_MAX bytes; ERR_INVALID when empty, or with a
 * NUL (len != strlen), a backslash, or a "." or ".." segment. `e` says why.
 */
enum err_code s3_store_check_key(const char *key, size_t len, struct err *e);

/*
 * Writes an object atomically (replacing any previous one). ERR_NOT_FOUND: no such bucket;
 * ERR_TOO_LARGE: over max_object_bytes or too much metadata; ERR_IO: the disk failed (full,
 * read-only...), nothing changed. `out` (optional) receives the stored info; free it with
 * s3_store_info_free.
 */
enum err_code s3_store_put(struct s3_store *s, const struct s3_store_put *p,
                           struct s3_store_info *out, struct err *e);

/* An object opened for reading. */
struct s3_store_obj;

/*
 * Opens an object: its info (caller frees with s3_store_info_free) and a handle to read its
 * bytes even if it is replaced or deleted meanwhile. ERR_NOT_FOUND when the bucket or key does
 * not exist. Caller closes with s3_store_obj_close.
 */
enum err_code s3_store_obj_open(struct s3_store *s, const char *bucket, const char *key,
                                struct s3_store_obj **obj, struct s3_store_info *info,
                                struct err *e);

/* Reads `len` bytes at `offset` of the object's data into `out`. ERR_IO on a short read. */
enum err_code s3_store_obj_read(struct s3_store_obj *obj, uint64_t offset, void *out, size_t len,
                                struct err *e);

/* Closes the handle. NULL is a no-op. */
void s3_store_obj_close(struct s3_store_obj *obj);

/* Deletes an object. ERR_OK also when the key did not exist (S3 is idempotent here);
 * ERR_NOT_FOUND only when the bucket does not exist. */
enum err_code s3_store_delete(struct s3_store *s, const char *bucket, const char *key,
                              struct err *e);

/* ---- listing ----------------------------------------------------------------------------- */

struct s3_store_list_params {
    const char *prefix;    /* NULL = "" */
    const char *delimiter; /* NULL or "" = none */
    const char *after;     /* return keys strictly after this (start-after or a marker) */
    bool after_is_prefix;  /* `after` was a common prefix: also skip every key under it */
    size_t max_keys;       /* keys + common prefixes returned at most */
};

struct s3_store_list_entry {
    char *key;
    uint64_t size;
    char etag[33];
    int64_t mtime_ms;
};

struct s3_store_list_result {
    struct s3_store_list_entry *contents;
    size_t ncontents;
    char **prefixes; /* common prefixes, in order */
    size_t nprefixes;
    bool truncated;
    char *last;          /* the last key or prefix returned (for the next marker), or NULL */
    bool last_is_prefix; /* `last` is a common prefix */
};

/*
 * Lists a bucket in key byte order, as ListObjectsV2 does: keys with `prefix`, after `after`;
 * with a delimiter, keys whose rest (after the prefix) contains it are rolled up into one common
 * prefix (up to and including the delimiter). Caller frees `out` with s3_store_list_result_free.
 * ERR_NOT_FOUND: no such bucket.
 */
enum err_code s3_store_list(struct s3_store *s, const char *bucket,
                            const struct s3_store_list_params *p, struct s3_store_list_result *out,
                            struct err *e);

void s3_store_list_result_free(struct s3_store_list_result *r);

#endif
