/*
 * img_hash.c: BlurHash, ThumbHash, dominant colour. See img_facts.h.
 *
 * The two encoders follow the reference JavaScript line by line (same loop order, same
 * floating-point operations in the same order, Math.round as floor(x + 0.5)) so that the
 * strings match the npm packages on the same pixels; tests/imaging compares them. BlurHash
 * reads its sRGB-to-linear values and cosines from tables of the same doubles.
 */
#include "imaging/img_facts.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b83[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

static void enc83(long v, int len, char *out)
{
    for (int i = 1; i <= len; i++) {
        long div = 1;
        for (int k = 0; k < len - i; k++)
            div *= 83;
        out[i - 1] = b83[(v / div) % 83];
    }
}

static double srgb_to_linear(int v)
{
    double e = v / 255.0;
    return e <= .04045 ? e / 12.92 : pow((e + .055) / 1.055, 2.4);
}

static long linear_to_srgb(double v)
{
    double e = fmax(0, fmin(1, v));
    return e <= .0031308 ? (long)trunc(e * 12.92 * 255 + .5)
                         : (long)trunc((1.055 * pow(e, .4166666666666667) - .055) * 255 + .5);
}

static double sign_pow(double v, double e)
{
    return (v < 0 ? -1 : 1) * pow(fabs(v), e);
}

/* srgb_to_linear of every byte value: the same doubles, without a pow() per pixel and factor
 * (which was most of the encoder's time). Filled once, then read-only. */
static double srgb_lut[256];
static pthread_once_t srgb_once = PTHREAD_ONCE_INIT;

static void srgb_lut_fill(void)
{
    for (int v = 0; v < 256; v++)
        srgb_lut[v] = srgb_to_linear(v);
}

/* One basis factor, x outer and y inner as in the reference. `cosx` (w values) and `cosy` (h)
 * are scratch space: basis = norm * cos(pi i x / w) * cos(pi j y / h), evaluated left to right
 * as the reference does, each cosine computed once per factor instead of once per pixel. */
static void bh_factor(const struct img_pixels *px, int i, int j, double *cosx, double *cosy,
                      double out[3])
{
    double r = 0, g = 0, b = 0, norm = (i == 0 && j == 0) ? 1 : 2;
    int w = px->width, h = px->height;
    for (int x = 0; x < w; x++)
        cosx[x] = norm * cos(M_PI * i * x / w);
    for (int y = 0; y < h; y++)
        cosy[y] = cos(M_PI * j * y / h);
    for (int x = 0; x < w; x++) {
        for (int y = 0; y < h; y++) {
            const uint8_t *p = px->rgba + 4 * (size_t)x + (size_t)y * w * 4;
            double basis = cosx[x] * cosy[y];
            r += basis * srgb_lut[p[0]];
            g += basis * srgb_lut[p[1]];
            b += basis * srgb_lut[p[2]];
        }
    }
    double scale = 1.0 / ((double)w * h);
    out[0] = r * scale;
    out[1] = g * scale;
    out[2] = b * scale;
}

static long quant_ac(double v, double maxv)
{
    return (long)floor(fmax(0, fmin(18, floor(sign_pow(v / maxv, .5) * 9 + 9.5))));
}

bool img_blurhash_encode(const struct img_pixels *px, int cx, int cy, char *out, size_t outlen)
{
    double f[81][3];
    if (px == NULL || px->rgba == NULL || px->width < 1 || px->height < 1 || cx < 1 || cx > 9 ||
        cy < 1 || cy > 9 || outlen < (size_t)(4 + 2 * cx * cy) + 1)
        return false;
    double *cosxy = malloc(((size_t)px->width + (size_t)px->height) * sizeof(double));
    if (cosxy == NULL)
        return false;
    pthread_once(&srgb_once, srgb_lut_fill);
    int n = 0;
    for (int j = 0; j < cy; j++)
        for (int i = 0; i < cx; i++)
            bh_factor(px, i, j, cosxy, cosxy + px->width, f[n++]);
    free(cosxy);
    char *o = out;
    enc83((cx - 1) + (cy - 1) * 9, 1, o++);
    double maxv = 1;
    if (n > 1) {
        double actual = -INFINITY;
        for (int k = 1; k < n; k++)
            actual = fmax(actual, fmax(f[k][0], fmax(f[k][1], f[k][2])));
        long q = (long)floor(fmax(0, fmin(82, floor(actual * 166 - .5))));
        maxv = (q + 1) / 166.0;
        enc83(q, 1, o++);
    } else {
        enc83(0, 1, o++);
    }
    long dc =
        (linear_to_srgb(f[0][0]) << 16) + (linear_to_srgb(f[0][1]) << 8) + linear_to_srgb(f[0][2]);
    enc83(dc, 4, o);
    o += 4;
    for (int k = 1; k < n; k++, o += 2)
        enc83(quant_ac(f[k][0], maxv) * 19 * 19 + quant_ac(f[k][1], maxv) * 19 +
                  quant_ac(f[k][2], maxv),
              2, o);
    *o = '\0';
    return true;
}

bool img_base64(const uint8_t *in, size_t n, char *out, size_t outlen)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (outlen < (n + 2) / 3 * 4 + 1)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
    return true;
}

void img_dominant_colour(const struct img_pixels *px, uint8_t rgb[3])
{
    unsigned best = 0, best_n = 0;
    memset(rgb, 0, 3);
    if (px == NULL || px->rgba == NULL)
        return;
    unsigned local[16 * 16 * 16];
    memset(local, 0, sizeof(local));
    for (size_t i = 0; i < (size_t)px->width * px->height; i++) {
        const uint8_t *p = px->rgba + 4 * i;
        if (p[3] == 0)
            continue;
        unsigned k = ((unsigned)(p[0] >> 4) << 8) | ((unsigned)(p[1] >> 4) << 4) | (p[2] >> 4);
        if (++local[k] > best_n) {
            best_n = local[k];
            best = k;
        }
    }
    if (best_n == 0)
        return;
    rgb[0] = (uint8_t)(((best >> 8) & 15) * 16 + 8);
    rgb[1] = (uint8_t)(((best >> 4) & 15) * 16 + 8);
    rgb[2] = (uint8_t)((best & 15) * 16 + 8);
}
