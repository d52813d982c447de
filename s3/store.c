/*
 * store.c: the embedded store's buckets, reads, writes and deletes. See store.h.
 *
 * A write: MD5 of the bytes, a temp file in <data>/tmp (O_EXCL, random name) holding header,
 * metadata and bytes, fsync, then under the bucket's write lock rename into place and update the
 * index, then fsync the bucket's sub-folder. Any failure before the rename removes the temp file
 * and leaves the old object as it was.
 */
#include "s3/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"

#define MAX_BUCKETS       16
#define ROOT_MAX          3072 /* longest data folder path */
#define DIR_MAX           (ROOT_MAX + 96)
#define SUB_MAX           (DIR_MAX + 4)
#define OBJ_PATH_MAX      (SUB_MAX + 72)
#define TMP_PATH_MAX      (ROOT_MAX + 64)
#define DEFAULT_MAX_BYTES (5ull * 1024 * 1024 * 1024)

struct s3_bucket {
    char name[64];
    char dir[DIR_MAX];
    pthread_rwlock_t lock;
    struct s3_index idx;
};

struct s3_store {
    char root[ROOT_MAX];
    char tmp[ROOT_MAX + 16];
    uint64_t max_bytes;
    bool no_fsync;
    pthread_mutex_t lock; /* guards the bucket list */
    struct s3_bucket *buckets[MAX_BUCKETS];
    size_t nbuckets;
};

struct s3_store_obj {
    int fd;
    uint64_t data_off;
    uint64_t size;
};

bool s3_store_bucket_name_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && ((c != '.' && c != '-') || i == 0 || i == n - 1))
            return false;
        if (c == '.' && b[i + 1] == '.')
            return false;
    }
    return true;
}

enum err_code s3_store_check_key(const char *key, size_t len, struct err *e)
{
    if (len == 0)
        return err_set(e, ERR_INVALID, "the object key is empty");
    if (len > S3_STORE_KEY_MAX)
        return err_set(e, ERR_TOO_LARGE, "the object key is longer than %d bytes",
                       S3_STORE_KEY_MAX);
    if (strlen(key) != len)
        return err_set(e, ERR_INVALID, "the object key contains a NUL byte");
    if (memchr(key, '\\', len) != NULL)
        return err_set(e, ERR_INVALID, "the object key contains a backslash");
    const char *seg = key;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return err_set(e, ERR_INVALID, "the object key contains a '.' or '..' segment");
        if (slash == NULL)
            break;
        seg = slash + 1;
    }
    return ERR_OK;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int mkdir_p(const char *dir)
{
    return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Removes every file in <data>/tmp (leftovers of writes a crash interrupted). */
static void clean_tmp(struct s3_store *s)
{
    DIR *d = opendir(s->tmp);
    if (d == NULL)
        return;
    struct dirent *de;
    size_t removed = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    if (removed > 0)
        log_msg(LOGL_WARN, "store", NULL, "removed %zu unfinished write(s) from %s", removed,
                s->tmp);
}

static struct s3_bucket *find_bucket(struct s3_store *s, const char *name)
{
    struct s3_bucket *b = NULL;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nbuckets && b == NULL; i++)
        if (strcmp(s->buckets[i]->name, name) == 0)
            b = s->buckets[i];
    pthread_mutex_unlock(&s->lock);
    return b;
}

/* Indexes one object file; skips (with a warning) what is not one. */
static void index_file(struct s3_bucket *b, int dirfd_, const char *sub, const char *name)
{
    char *key = NULL;
    struct s3_store_info info = {0};
    struct err e = {0};
    uint64_t off = 0;
    char hash[65];
    int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || s3_store_decode_head(fd, &key, &info, &off, &e) != ERR_OK) {
        log_msg(LOGL_WARN, "store", NULL, "skipping %s/%s/%s: %s", b->dir, sub, name,
                fd < 0 ? strerror(errno) : e.msg);
        goto cleanup;
    }
    s3_store_key_hash(key, strlen(key), hash);
    if (strcmp(hash, name) != 0) {
        log_msg(LOGL_WARN, "store", NULL, "skipping %s/%s/%s: name does not match its key", b->dir,
                sub, name);
        goto cleanup;
    }
    if (s3_index_put(&b->idx, key, strlen(key), info.size, info.etag, info.mtime_ms) != ERR_OK)
        log_msg(LOGL_ERROR, "store", NULL, "out of memory indexing %s", b->name);
cleanup:
    if (fd >= 0)
        close(fd);
    free(key);
    s3_store_info_free(&info);
}

/* Creates the 256 fan-out folders and indexes what they hold. */
static enum err_code load_bucket(struct s3_bucket *b, struct err *e)
{
    for (int i = 0; i < 256; i++) {
        char sub[SUB_MAX];
        snprintf(sub, sizeof(sub), "%s/%02x", b->dir, i);
        if (mkdir_p(sub) != 0)
            return err_set(e, ERR_IO, "cannot create %s: %s", sub, strerror(errno));
        DIR *d = opendir(sub);
        if (d == NULL)
            return err_set(e, ERR_IO, "cannot read %s: %s", sub, strerror(errno));
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                index_file(b, dirfd(d), sub + strlen(b->dir) + 1, de->d_name);
        closedir(d);
    }
    return ERR_OK;
}

/* Opens (creating when asked) the bucket folder and adds it to the list. */
static enum err_code add_bucket(struct s3_store *s, const char *name, struct err *e)
{
    if (find_bucket(s, name) != NULL)
        return ERR_OK;
    if (!s3_store_bucket_name_ok(name))
        return err_set(e, ERR_INVALID, "%s is not a valid bucket name", name);
    struct s3_bucket *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    snprintf(b->name, sizeof(b->name), "%s", name);
    snprintf(b->dir, sizeof(b->dir), "%s/%s/%s", s->root, S3_STORE_BUCKETS, name);
    pthread_rwlock_init(&b->lock, NULL);
    enum err_code rc = ERR_OK;
    if (mkdir_p(b->dir) != 0)
        rc = err_set(e, ERR_IO, "cannot create %s: %s", b->dir, strerror(errno));
    else
        rc = load_bucket(b, e);
    pthread_mutex_lock(&s->lock);
    if (rc == ERR_OK && s->nbuckets == MAX_BUCKETS)
        rc = err_set(e, ERR_TOO_LARGE, "at most %d buckets", MAX_BUCKETS);
    if (rc == ERR_OK)
        s->buckets[s->nbuckets++] = b;
    pthread_mutex_unlock(&s->lock);
    if (rc != ERR_OK) {
        s3_index_free(&b->idx);
        pthread_rwlock_destroy(&b->lock);
        free(b);
    }
    return rc;
}

enum err_code s3_store_bucket_create(struct s3_store *s, const char *bucket, struct err *e)
{
    return add_bucket(s, bucket, e);
}

bool s3_store_bucket_exists(struct s3_store *s, const char *bucket)
{
    return find_bucket(s, bucket) != NULL;
}

/* Opens every existing bucket folder. */
static enum err_code load_buckets(struct s3_store *s, struct err *e)
{
    char dir[ROOT_MAX + 16];
    snprintf(dir, sizeof(dir), "%s/%s", s->root, S3_STORE_BUCKETS);
    if (mkdir_p(dir) != 0)
        return err_set(e, ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (d == NULL)
        return err_set(e, ERR_IO, "cannot read %s: %s", dir, strerror(errno));
    enum err_code rc = ERR_OK;
    struct dirent *de;
    while (rc == ERR_OK && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && s3_store_bucket_name_ok(de->d_name))
            rc = add_bucket(s, de->d_name, e);
    closedir(d);
    return rc;
}

struct s3_store *s3_store_open(const struct s3_store_opts *opts, struct err *e)
{
    struct s3_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ERR_NOMEM, "out of memory"), NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->max_bytes = opts->max_object_bytes ? opts->max_object_bytes : DEFAULT_MAX_BYTES;
    s->no_fsync = opts->no_fsync;
    const char *dir = opts->data_dir && opts->data_dir[0] ? opts->data_dir : "./data";
    if (strlen(dir) >= ROOT_MAX) {
        err_set(e, ERR_INVALID, "data folder path is too long");
        goto fail;
    }
    snprintf(s->root, sizeof(s->root), "%s", dir);
    snprintf(s->tmp, sizeof(s->tmp), "%s/%s", dir, S3_STORE_TMP_DIR);
    if (mkdir_p(s->root) != 0 || mkdir_p(s->tmp) != 0) {
        err_set(e, ERR_IO, "cannot create the data folder %s: %s", dir, strerror(errno));
        goto fail;
    }
    char marker[ROOT_MAX + 32];
    snprintf(marker, sizeof(marker), "%s/%s", s->root, S3_STORE_MARKER);
    FILE *f = fopen(marker, "wx");
    if (f != NULL) {
        fputs("imgsvc embedded S3 store, format 1\n", f);
        fclose(f);
    }
    clean_tmp(s);
    if (load_buckets(s, e) != ERR_OK)
        goto fail;
    return s;
fail:
    s3_store_close(s);
    return NULL;
}

void s3_store_close(struct s3_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        s3_index_free(&s->buckets[i]->idx);
        pthread_rwlock_destroy(&s->buckets[i]->lock);
        free(s->buckets[i]);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The object's path: <bucket dir>/<hh>/<sha256>; `sub` receives the folder. */
static void object_path(const struct s3_bucket *b, const char *key, char *path, size_t cap,
                        char *sub, size_t subcap)
{
    char h[65];
    s3_store_key_hash(key, strlen(key), h);
    snprintf(sub, subcap, "%s/%.2s", b->dir, h);
    snprintf(path, cap, "%s/%s", sub, h);
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Creates a fresh temp file; its path goes to `path`. -1 on failure (errno set). */
static int open_temp(struct s3_store *s, char *path, size_t cap)
{
    for (int tries = 0; tries < 8; tries++) {
        unsigned char r[12];
        if (RAND_bytes(r, sizeof(r)) != 1)
            return -1;
        char name[32];
        for (size_t i = 0; i < sizeof(r); i++)
            snprintf(name + 2 * i, 3, "%02x", r[i]);
        snprintf(path, cap, "%s/%s%s", s->tmp, name, S3_STORE_TMP_SUFFIX);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Writes head + data to a new temp file and fsyncs it. */
static enum err_code write_temp(struct s3_store *s, const char *head, size_t hlen,
                                const struct s3_store_put *p, char *tmp, size_t cap, struct err *e)
{
    int fd = open_temp(s, tmp, cap);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot create a temp file: %s", strerror(errno));
    bool ok = write_all(fd, head, hlen) && write_all(fd, p->data, p->len) &&
              (s->no_fsync || fsync(fd) == 0);
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        return err_set(e, ERR_IO, "cannot write the object: %s", strerror(saved));
    }
    return ERR_OK;
}

/* Fills info from the put: size, MD5, time, type, headers (borrowed pointers). */
static enum err_code describe_put(const struct s3_store_put *p, struct s3_store_info *info,
                                  struct err *e)
{
    unsigned char md[16];
    unsigned int mdn = 0;
    size_t meta = 0;
    memset(info, 0, sizeof(*info));
    if (p->nheaders > S3_STORE_HEADERS_MAX)
        return err_set(e, ERR_TOO_LARGE, "more than %d stored headers", S3_STORE_HEADERS_MAX);
    for (size_t i = 0; i < p->nheaders; i++)
        if (strncmp(p->headers[i].name, "x-amz-meta-", 11) == 0)
            meta += strlen(p->headers[i].name) - 11 + strlen(p->headers[i].value);
    if (meta > S3_STORE_META_MAX)
        return err_set(e, ERR_TOO_LARGE, "user metadata is larger than %d bytes",
                       S3_STORE_META_MAX);
    if (EVP_Digest(p->data, p->len, md, &mdn, EVP_md5(), NULL) != 1)
        return err_set(e, ERR_INTERNAL, "MD5 failed");
    for (size_t i = 0; i < 16; i++)
        snprintf(info->etag + 2 * i, 3, "%02x", md[i]);
    info->size = p->len;
    info->mtime_ms = ts_now_realtime_ms();
    const char *ct =
        p->content_type && p->content_type[0] ? p->content_type : S3_STORE_DEFAULT_CTYPE;
    snprintf(info->content_type, sizeof(info->content_type), "%s", ct);
    if (p->checksum_algo != NULL && p->checksum != NULL) {
        snprintf(info->checksum_algo, sizeof(info->checksum_algo), "%s", p->checksum_algo);
        snprintf(info->checksum, sizeof(info->checksum), "%s", p->checksum);
    }
    info->headers = (struct s3_store_header *)p->headers; /* borrowed until copied */
    info->nheaders = p->nheaders;
    return ERR_OK;
}

/* Deep-copies the stored headers into `out` (which borrowed them). */
static enum err_code own_headers(struct s3_store_info *out)
{
    const struct s3_store_header *src = out->headers;
    size_t n = out->nheaders;
    out->headers = n ? calloc(n, sizeof(*out->headers)) : NULL;
    out->nheaders = 0;
    if (n && out->headers == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        out->headers[i].name = strdup(src[i].name);
        out->headers[i].value = strdup(src[i].value);
        out->nheaders++;
        if (out->headers[i].name == NULL || out->headers[i].value == NULL)
            return ERR_NOMEM;
    }
    return ERR_OK;
}

enum err_code s3_store_put(struct s3_store *s, const struct s3_store_put *p,
                           struct s3_store_info *out, struct err *e)
{
    struct s3_store_info info;
    char *head = NULL;
    size_t hlen = 0;
    char tmp[TMP_PATH_MAX], path[OBJ_PATH_MAX], sub[SUB_MAX];
    enum err_code rc = ERR_OK;
    struct s3_bucket *b = find_bucket(s, p->bucket);
    if (b == NULL)
        return err_set(e, ERR_NOT_FOUND, "no such bucket");
    if ((uint64_t)p->len > s->max_bytes)
        return err_set(e, ERR_TOO_LARGE, "the object is larger than %llu bytes",
                       (unsigned long long)s->max_bytes);
    if ((rc = s3_store_check_key(p->key, strlen(p->key), e)) != ERR_OK ||
        (rc = describe_put(p, &info, e)) != ERR_OK)
        return rc;
    head = s3_store_encode_head(p->key, &info, &hlen);
    if (head == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    rc = write_temp(s, head, hlen, p, tmp, sizeof(tmp), e);
    free(head);
    if (rc != ERR_OK)
        return rc;
    object_path(b, p->key, path, sizeof(path), sub, sizeof(sub));
    pthread_rwlock_wrlock(&b->lock);
    if (rename(tmp, path) != 0) {
        rc = err_set(e, ERR_IO, "cannot move the object into place: %s", strerror(errno));
        unlink(tmp);
    } else if (s3_index_put(&b->idx, p->key, strlen(p->key), info.size, info.etag, info.mtime_ms) !=
               ERR_OK) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
    }
    pthread_rwlock_unlock(&b->lock);
    if (rc == ERR_OK && !s->no_fsync && fsync_dir(sub) != 0)
        rc = err_set(e, ERR_IO, "cannot sync %s: %s", sub, strerror(errno));
    if (rc == ERR_OK && out != NULL) {
        *out = info;
        if (own_headers(out) != ERR_OK) {
            s3_store_info_free(out);
            rc = err_set(e, ERR_NOMEM, "out of memory");
        }
    }
    return rc;
}

enum err_code s3_store_obj_open(struct s3_store *s, const char *bucket, const char *key,
                                struct s3_store_obj **obj, struct s3_store_info *info,
                                struct err *e)
{
    char path[OBJ_PATH_MAX], sub[SUB_MAX];
    char *stored = NULL;
    uint64_t off = 0;
    *obj = NULL;
    memset(info, 0, sizeof(*info));
    struct s3_bucket *b = find_bucket(s, bucket);
    if (b == NULL)
        return err_set(e, ERR_NOT_FOUND, "no such bucket");
    object_path(b, key, path, sizeof(path), sub, sizeof(sub));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "no such key")
                               : err_set(e, ERR_IO, "cannot open the object: %s", strerror(errno));
    enum err_code rc = s3_store_decode_head(fd, &stored, info, &off, e);
    if (rc == ERR_OK && strcmp(stored, key) != 0)
        rc = err_set(e, ERR_INTERNAL, "object file holds another key");
    free(stored);
    if (rc == ERR_OK && (*obj = malloc(sizeof(**obj))) == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (rc != ERR_OK) {
        close(fd);
        s3_store_info_free(info);
        return rc == ERR_INVALID ? err_set(e, ERR_IO, "corrupt object file") : rc;
    }
    **obj = (struct s3_store_obj){fd, off, info->size};
    return ERR_OK;
}

enum err_code s3_store_obj_read(struct s3_store_obj *obj, uint64_t offset, void *out, size_t len,
                                struct err *e)
{
    if (offset > obj->size || len > obj->size - offset)
        return err_set(e, ERR_INVALID, "read past the end of the object");
    size_t got = 0;
    while (got < len) {
        ssize_t r =
            pread(obj->fd, (char *)out + got, len - got, (off_t)(obj->data_off + offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(e, ERR_IO, "cannot read the object: %s",
                           r < 0 ? strerror(errno) : "short file");
        got += (size_t)r;
    }
    return ERR_OK;
}

void s3_store_obj_close(struct s3_store_obj *obj)
{
    if (obj == NULL)
        return;
    close(obj->fd);
    free(obj);
}

enum err_code s3_store_delete(struct s3_store *s, const char *bucket, const char *key,
                              struct err *e)
{
    char path[OBJ_PATH_MAX], sub[SUB_MAX];
    struct s3_bucket *b = find_bucket(s, bucket);
    if (b == NULL)
        return err_set(e, ERR_NOT_FOUND, "no such bucket");
    object_path(b, key, path, sizeof(path), sub, sizeof(sub));
    enum err_code rc = ERR_OK;
    pthread_rwlock_wrlock(&b->lock);
    if (unlink(path) != 0 && errno != ENOENT)
        rc = err_set(e, ERR_IO, "cannot delete the object: %s", strerror(errno));
    else
        s3_index_remove(&b->idx, key, strlen(key));
    pthread_rwlock_unlock(&b->lock);
    if (rc == ERR_OK && !s->no_fsync && fsync_dir(sub) != 0)
        rc = err_set(e, ERR_IO, "cannot sync %s: %s", sub, strerror(errno));
    return rc;
}

enum err_code s3_store_list(struct s3_store *s, const char *bucket,
                            const struct s3_store_list_params *p, struct s3_store_list_result *out,
                            struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct s3_bucket *b = find_bucket(s, bucket);
    if (b == NULL)
        return err_set(e, ERR_NOT_FOUND, "no such bucket");
    pthread_rwlock_rdlock(&b->lock);
    enum err_code rc = s3_index_list(&b->idx, p, out);
    pthread_rwlock_unlock(&b->lock);
    return rc == ERR_OK ? ERR_OK : err_set(e, rc, "out of memory");
}
