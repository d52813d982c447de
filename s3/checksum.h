/*
 * checksum.h: the object checksums S3 knows (x-amz-checksum-*, Content-MD5), computed and
 * compared in their wire form (base64 of the big-endian digest).
 *
 * CRC32 (ISO-HDLC, as zlib), CRC32C (Castagnoli), CRC64NVME, SHA1 and SHA256; MD5 for
 * Content-MD5. The CRCs are table-driven here (no zlib is linked); the hashes come from OpenSSL.
 */
#ifndef IMGSVC_S3_CHECKSUM_H
#define IMGSVC_S3_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum s3_checksum_algo {
    S3_CK_NONE = 0,
    S3_CK_CRC32,
    S3_CK_CRC32C,
    S3_CK_CRC64NVME,
    S3_CK_SHA1,
    S3_CK_SHA256,
    S3_CK_MD5, /* Content-MD5 only */
    S3_CK_COUNT
};

#define S3_CK_B64_MAX 48 /* longest base64 digest (SHA256: 44) + NUL, rounded */

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5"; "" for NONE. */
const char *s3_checksum_name(enum s3_checksum_algo a);

/* The header carrying it ("x-amz-checksum-crc32", ...; "content-md5" for MD5). */
const char *s3_checksum_header(enum s3_checksum_algo a);

/* The algorithm of a header name (case-insensitive) or of its name ("crc32", "CRC32");
 * S3_CK_NONE when unknown. */
enum s3_checksum_algo s3_checksum_from_header(const char *header);
enum s3_checksum_algo s3_checksum_from_name(const char *name);

/* Digest length in bytes (4, 4, 8, 20, 32, 16). */
size_t s3_checksum_len(enum s3_checksum_algo a);

/* Computes the digest of data[0..n) as base64 into out. False for S3_CK_NONE. */
bool s3_checksum_b64(enum s3_checksum_algo a, const void *data, size_t n, char out[S3_CK_B64_MAX]);

/* True when `b64` is strict base64 (padding required) of exactly len(a) bytes. */
bool s3_checksum_valid(enum s3_checksum_algo a, const char *b64);

/* Raw CRCs, exposed for tests (crc32("123456789") == 0xCBF43926 etc.). */
uint32_t s3_crc32(uint32_t crc, const void *data, size_t n);
uint32_t s3_crc32c(uint32_t crc, const void *data, size_t n);
uint64_t s3_crc64nvme(uint64_t crc, const void *data, size_t n);

#endif
