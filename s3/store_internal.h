/*
 * store_internal.h: pieces shared by the store's files (store.c, store_file.c, store_index.c)
 * and reachable by unit tests. Not for other modules: use store.h.
 */
#ifndef IMGSVC_S3_STORE_INTERNAL_H
#define IMGSVC_S3_STORE_INTERNAL_H

#include <stdint.h>

#include "s3/store.h"

#define S3_STORE_MAGIC      "IMGSVCOBJ1"
#define S3_STORE_META_CAP   (64u * 1024u) /* largest metadata JSON read back */
#define S3_STORE_TMP_DIR    "tmp"
#define S3_STORE_BUCKETS    "buckets"
#define S3_STORE_MARKER     ".imgsvc-store"
#define S3_STORE_TMP_SUFFIX ".tmp"

/* One indexed object; the key follows the struct (not NUL-terminated in the count). */
struct s3_index_entry {
    uint64_t size;
    int64_t mtime_ms;
    char etag[33];
    size_t keylen;
    char key[]; /* keylen bytes + NUL */
};

/* A sorted array of entries, ordered by key bytes (memcmp, then length). Not locked here. */
struct s3_index {
    struct s3_index_entry **v;
    size_t n, cap;
};

/* Inserts or replaces the entry for `key`. ERR_NOMEM. */
enum err_code s3_index_put(struct s3_index *ix, const char *key, size_t keylen, uint64_t size,
                           const char *etag, int64_t mtime_ms);

/* Removes the entry for `key` if present. */
void s3_index_remove(struct s3_index *ix, const char *key, size_t keylen);

/* Frees every entry. */
void s3_index_free(struct s3_index *ix);

/* Lists per s3_store_list's rules. Caller frees `out` with s3_store_list_result_free. */
enum err_code s3_index_list(const struct s3_index *ix, const struct s3_store_list_params *p,
                            struct s3_store_list_result *out);

/* Object file name for a key: 64 hex chars of SHA-256 + NUL. */
void s3_store_key_hash(const char *key, size_t keylen, char out[65]);

/* Builds the file's header line and metadata JSON for `key` and `info` into a malloc'ed string
 * (caller frees); *len its length. NULL on ERR_NOMEM. */
char *s3_store_encode_head(const char *key, const struct s3_store_info *info, size_t *len);

/* Reads the header and metadata of an object file from `fd` (positioned at 0): *key (caller
 * frees) and `info` (free with s3_store_info_free); *data_off where the bytes start. Checks that
 * the file holds exactly info->size bytes after the header. ERR_INVALID on a malformed file. */
enum err_code s3_store_decode_head(int fd, char **key, struct s3_store_info *info,
                                   uint64_t *data_off, struct err *e);

#endif
