/*
 * checksum.c: S3 object checksums. See checksum.h.
 */
#include "s3/checksum.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

static uint32_t t32[256], t32c[256];
static uint64_t t64[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void make_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t a = i, c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            a = (a >> 1) ^ (0xEDB88320u & (0u - (a & 1u)));
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
            d = (d >> 1) ^ (0x9A6C9329AC4BC9B5ull & (0ull - (d & 1ull)));
        }
        t32[i] = a;
        t32c[i] = c;
        t64[i] = d;
    }
}

/* A reflected CRC-32 over `n` bytes with the lookup table `t` (CRC-32 or CRC-32C). */
static uint32_t crc32_table(const uint32_t *t, uint32_t crc, const void *data, size_t n)
{
    pthread_once(&tables_once, make_tables);
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t s3_crc32(uint32_t crc, const void *data, size_t n)
{
    return crc32_table(t32, crc, data, n);
}

uint32_t s3_crc32c(uint32_t crc, const void *data, size_t n)
{
    return crc32_table(t32c, crc, data, n);
}

uint64_t s3_crc64nvme(uint64_t crc, const void *data, size_t n)
{
    pthread_once(&tables_once, make_tables);
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = t64[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static const struct {
    const char *name, *header;
    size_t len;
} algos[S3_CK_COUNT] = {
    [S3_CK_NONE] = {"", "", 0},
    [S3_CK_CRC32] = {"CRC32", "x-amz-checksum-crc32", 4},
    [S3_CK_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", 4},
    [S3_CK_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    [S3_CK_SHA1] = {"SHA1", "x-amz-checksum-sha1", 20},
    [S3_CK_SHA256] = {"SHA256", "x-amz-checksum-sha256", 32},
    [S3_CK_MD5] = {"MD5", "content-md5", 16},
};

const char *s3_checksum_name(enum s3_checksum_algo a)
{
    return a < S3_CK_COUNT ? algos[a].name : "";
}

const char *s3_checksum_header(enum s3_checksum_algo a)
{
    return a < S3_CK_COUNT ? algos[a].header : "";
}

size_t s3_checksum_len(enum s3_checksum_algo a)
{
    return a < S3_CK_COUNT ? algos[a].len : 0;
}

enum s3_checksum_algo s3_checksum_from_header(const char *h)
{
    for (int a = S3_CK_CRC32; a < S3_CK_COUNT; a++)
        if (strcasecmp(h, algos[a].header) == 0)
            return (enum s3_checksum_algo)a;
    return S3_CK_NONE;
}

enum s3_checksum_algo s3_checksum_from_name(const char *name)
{
    for (int a = S3_CK_CRC32; a < S3_CK_MD5; a++)
        if (strcasecmp(name, algos[a].name) == 0)
            return (enum s3_checksum_algo)a;
    return S3_CK_NONE;
}

static size_t digest(enum s3_checksum_algo a, const void *data, size_t n, unsigned char *out)
{
    unsigned int len = 0;
    uint32_t c32 = 0;
    uint64_t c64 = 0;
    switch (a) {
    case S3_CK_CRC32:
    case S3_CK_CRC32C:
        c32 = a == S3_CK_CRC32 ? s3_crc32(0, data, n) : s3_crc32c(0, data, n);
        for (int i = 0; i < 4; i++)
            out[i] = (unsigned char)(c32 >> (24 - 8 * i));
        return 4;
    case S3_CK_CRC64NVME:
        c64 = s3_crc64nvme(0, data, n);
        for (int i = 0; i < 8; i++)
            out[i] = (unsigned char)(c64 >> (56 - 8 * i));
        return 8;
    case S3_CK_SHA1:
    case S3_CK_SHA256:
    case S3_CK_MD5:
        if (EVP_Digest(data, n, out, &len,
                       a == S3_CK_SHA1     ? EVP_sha1()
                       : a == S3_CK_SHA256 ? EVP_sha256()
                                           : EVP_md5(),
                       NULL) != 1)
            return 0;
        return len;
    default:
        return 0;
    }
}

bool s3_checksum_b64(enum s3_checksum_algo a, const void *data, size_t n, char out[S3_CK_B64_MAX])
{
    unsigned char md[64];
    size_t len = digest(a, data, n, md);
    if (len == 0)
        return false;
    EVP_EncodeBlock((unsigned char *)out, md, (int)len);
    return true;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

bool s3_checksum_valid(enum s3_checksum_algo a, const char *b64)
{
    size_t want = s3_checksum_len(a), n = strlen(b64);
    if (want == 0 || n != (want + 2) / 3 * 4)
        return false;
    size_t pad = want % 3 == 0 ? 0 : 3 - want % 3;
    for (size_t i = 0; i < n; i++) {
        bool in_pad = i >= n - pad;
        if (in_pad ? b64[i] != '=' : b64val(b64[i]) < 0)
            return false;
    }
    return true;
}
