/*
 * fuzz_s3_keys.c: the object key schema both ways (s3_key_parse / s3_key_build, s3/keys.h).
 *
 * Input, by the first byte:
 *   even  the rest is a key. Invariants: a key that parses builds back to exactly the same
 *         string, and parsing that again gives the same parts (build(parse(s)) == s and
 *         parse(build(k)) == k); s3_key_parse_temp accepts it only as a temp key; no accepted
 *         key holds "..", "//", '%' or a leading '/'.
 *   odd   the rest is "domain\nkind\nid0\nid1\nuploadId\nsize\next": s3_key_init + kind, size
 *         and ext set, then build. Invariant: a key that builds parses back to the same parts.
 */
#include "fuzz.h"

#include "s3/keys.h"

static void same_key(const struct s3_key *a, const struct s3_key *b, size_t nids)
{
    FUZZ_CHECK(a->domain == b->domain);
    FUZZ_CHECK(a->kind == b->kind);
    for (size_t i = 0; i < nids; i++)
        FUZZ_CHECK(strcmp(a->ids[i], b->ids[i]) == 0);
    FUZZ_CHECK(strcmp(a->upload_id, b->upload_id) == 0);
    if (a->kind == S3_KEY_VARIANT)
        FUZZ_CHECK(strcmp(a->size, b->size) == 0);
    if (a->kind != S3_KEY_MANIFEST && a->kind != S3_KEY_FAILED)
        FUZZ_CHECK(strcmp(a->ext, b->ext) == 0);
}

static void parse_side(const char *key)
{
    struct s3_key k, k2, t;
    struct err e = {0};
    char built[S3_KEY_MAX];
    bool ok = s3_key_parse(key, &k, &e) == ERR_OK;
    bool temp_ok = s3_key_parse_temp(key, &t, &e) == ERR_OK;
    FUZZ_CHECK(!temp_ok || (ok && t.kind == S3_KEY_TEMP));
    if (!ok)
        return;
    FUZZ_CHECK(temp_ok == (k.kind == S3_KEY_TEMP));
    FUZZ_CHECK(strstr(key, "..") == NULL && strstr(key, "//") == NULL);
    FUZZ_CHECK(strchr(key, '%') == NULL && key[0] != '/');
    FUZZ_CHECK(s3_key_build(&k, built, sizeof(built), &e) == ERR_OK);
    FUZZ_CHECK(strcmp(built, key) == 0);
    FUZZ_CHECK(s3_key_parse(built, &k2, &e) == ERR_OK);
    const struct s3_key_domain_desc *d = s3_key_domain_get(k.domain);
    FUZZ_CHECK(d != NULL);
    same_key(&k, &k2, d->nids);
}

/* Splits s in place at '\n' into at most n fields; missing ones are "". */
static void split_fields(char *s, char **f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        f[i] = s;
        char *nl = strchr(s, '\n');
        if (nl != NULL) {
            *nl = '\0';
            s = nl + 1;
        } else {
            s += strlen(s);
        }
    }
}

static void build_side(char *text)
{
    char *f[7];
    split_fields(text, f, 7);
    const struct s3_key_domain_desc *d = s3_key_domain_find(f[0]);
    if (d == NULL)
        return;
    const char *ids[S3_KEY_MAX_IDS] = {f[2], f[3]};
    struct s3_key k, back;
    struct err e = {0};
    char built[S3_KEY_MAX];
    if (s3_key_init(&k, d->domain, ids, d->nids, f[4], "jpeg", &e) != ERR_OK)
        return;
    k.kind = (enum s3_key_kind)((unsigned char)f[1][0] % 5);
    snprintf(k.size, sizeof(k.size), "%s", f[5]);
    snprintf(k.ext, sizeof(k.ext), "%s", f[6]);
    if (s3_key_build(&k, built, sizeof(built), &e) != ERR_OK) {
        FUZZ_CHECK(built[0] == '\0');
        return;
    }
    FUZZ_CHECK(strlen(built) < S3_KEY_MAX);
    FUZZ_CHECK(s3_key_parse(built, &back, &e) == ERR_OK);
    same_key(&k, &back, d->nids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *text = fuzz_strdup(data + 1, size - 1);
    if (data[0] % 2 == 0)
        parse_side(text);
    else
        build_side(text);
    free(text);
    return 0;
}
