/*
 * uuid.h: random (version 4) UUIDs from OpenSSL's CSPRNG.
 */
#ifndef IMGSVC_COMMON_UUID_H
#define IMGSVC_COMMON_UUID_H

#include <stdbool.h>

#include "common/err.h"

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* Writes a lowercase "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" (N in 8..b). ERR_INTERNAL if the
 * RNG fails (the output is then empty). */
enum err_code uuid_v4(char out[UUID_STR_LEN]);

/* True when `s` is exactly a lowercase v4 UUID in the form above. */
bool uuid_v4_valid(const char *s);

#endif
