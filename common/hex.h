/*
 * hex.h: hexadecimal digits, shared by every decoder of %XX escapes and hex strings.
 */
#ifndef IMGSVC_COMMON_HEX_H
#define IMGSVC_COMMON_HEX_H

/* The value 0..15 of hex digit `c` (either case), or -1 when `c` is not a hex digit. */
static inline int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
