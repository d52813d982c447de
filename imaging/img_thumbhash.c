/*
 * img_thumbhash.c: ThumbHash encoder and the facts filler. See img_facts.h.
 *
 * A line-by-line port of rgbaToThumbHash from the npm `thumbhash` package (evanw), keeping its
 * loop order and arithmetic so the bytes match on the same pixels.
 */
#include "imaging/img_facts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TH_MAX_SIDE 100
#define TH_MAX_AC   32 /* 7x7 luminance triangle is the largest channel: 27 AC terms */

struct th_channel {
    double dc;
    double ac[TH_MAX_AC];
    int nac;
    double scale;
};

static double js_round(double x)
{
    return floor(x + 0.5);
}

static void encode_channel(const double *ch, int w, int h, int nx, int ny, struct th_channel *c)
{
    double fx[TH_MAX_SIDE];
    c->dc = 0;
    c->nac = 0;
    c->scale = 0;
    for (int cy = 0; cy < ny; cy++) {
        for (int cx = 0; cx * ny < nx * (ny - cy); cx++) {
            double f = 0;
            for (int x = 0; x < w; x++)
                fx[x] = cos(M_PI / w * cx * (x + 0.5));
            for (int y = 0; y < h; y++) {
                double fy = cos(M_PI / h * cy * (y + 0.5));
                for (int x = 0; x < w; x++)
                    f += ch[x + y * w] * fx[x] * fy;
            }
            f /= w * h;
            if (cx || cy) {
                if (c->nac < TH_MAX_AC)
                    c->ac[c->nac++] = f;
                c->scale = fmax(c->scale, fabs(f));
            } else {
                c->dc = f;
            }
        }
    }
    if (c->scale != 0)
        for (int i = 0; i < c->nac; i++)
            c->ac[i] = 0.5 + 0.5 / c->scale * c->ac[i];
}

/* Average colour, then RGBA -> LPQA composited atop it. Returns true when alpha is present. */
static bool to_lpqa(const uint8_t *rgba, int n, double *l, double *p, double *q, double *a)
{
    double ar = 0, ag = 0, ab = 0, aa = 0;
    for (int i = 0, j = 0; i < n; i++, j += 4) {
        double alpha = rgba[j + 3] / 255.0;
        ar += alpha / 255 * rgba[j];
        ag += alpha / 255 * rgba[j + 1];
        ab += alpha / 255 * rgba[j + 2];
        aa += alpha;
    }
    if (aa != 0) {
        ar /= aa;
        ag /= aa;
        ab /= aa;
    }
    for (int i = 0, j = 0; i < n; i++, j += 4) {
        double alpha = rgba[j + 3] / 255.0;
        double r = ar * (1 - alpha) + alpha / 255 * rgba[j];
        double g = ag * (1 - alpha) + alpha / 255 * rgba[j + 1];
        double b = ab * (1 - alpha) + alpha / 255 * rgba[j + 2];
        l[i] = (r + g + b) / 3;
        p[i] = (r + g) / 2 - b;
        q[i] = r - g;
        a[i] = alpha;
    }
    return aa < n;
}

static size_t pack(const struct th_channel *ch, int nch, bool has_alpha, int lx, int ly,
                   bool landscape, uint8_t *out, size_t cap)
{
    const struct th_channel *L = &ch[0], *P = &ch[1], *Q = &ch[2], *A = &ch[3];
    long h24 = (long)js_round(63 * L->dc) | ((long)js_round(31.5 + 31.5 * P->dc) << 6) |
               ((long)js_round(31.5 + 31.5 * Q->dc) << 12) | ((long)js_round(31 * L->scale) << 18) |
               ((long)has_alpha << 23);
    long h16 = (landscape ? ly : lx) | ((long)js_round(63 * P->scale) << 3) |
               ((long)js_round(63 * Q->scale) << 9) | ((long)landscape << 15);
    size_t start = has_alpha ? 6 : 5, nac = 0;
    for (int c = 0; c < nch; c++)
        nac += (size_t)ch[c].nac;
    size_t len = start + (nac + 1) / 2;
    if (len > cap)
        return 0;
    memset(out, 0, len);
    out[0] = h24 & 255;
    out[1] = (h24 >> 8) & 255;
    out[2] = (h24 >> 16) & 255;
    out[3] = h16 & 255;
    out[4] = (h16 >> 8) & 255;
    if (has_alpha)
        out[5] = (uint8_t)((long)js_round(15 * A->dc) | ((long)js_round(15 * A->scale) << 4));
    size_t idx = 0;
    for (int c = 0; c < nch; c++)
        for (int i = 0; i < ch[c].nac; i++, idx++)
            out[start + (idx >> 1)] |=
                (uint8_t)((long)js_round(15 * ch[c].ac[i]) << ((idx & 1) << 2));
    return len;
}

size_t img_thumbhash_encode(const struct img_pixels *px, uint8_t *out, size_t cap)
{
    size_t rc = 0;
    struct th_channel ch[4];
    if (px == NULL || px->rgba == NULL || px->width < 1 || px->height < 1 ||
        px->width > TH_MAX_SIDE || px->height > TH_MAX_SIDE)
        return 0;
    int w = px->width, h = px->height, n = w * h;
    double *buf = malloc(sizeof(double) * 4 * (size_t)n);
    if (buf == NULL)
        return 0;
    double *l = buf, *p = buf + n, *q = buf + 2 * n, *a = buf + 3 * n;
    bool has_alpha = to_lpqa(px->rgba, n, l, p, q, a);
    int limit = has_alpha ? 5 : 7, mx = w > h ? w : h;
    int lx = (int)fmax(1, js_round((double)limit * w / mx));
    int ly = (int)fmax(1, js_round((double)limit * h / mx));
    encode_channel(l, w, h, lx > 3 ? lx : 3, ly > 3 ? ly : 3, &ch[0]);
    encode_channel(p, w, h, 3, 3, &ch[1]);
    encode_channel(q, w, h, 3, 3, &ch[2]);
    if (has_alpha)
        encode_channel(a, w, h, 5, 5, &ch[3]);
    else
        memset(&ch[3], 0, sizeof(ch[3]));
    rc = pack(ch, has_alpha ? 4 : 3, has_alpha, lx, ly, w > h, out, cap);
    free(buf);
    return rc;
}

void img_facts_fill(struct img_facts *f, const struct img_probe *p, const struct img_pixels *px)
{
    memset(f, 0, sizeof(*f));
    f->format = p->format;
    f->width = img_probe_display_width(p);
    f->height = img_probe_display_height(p);
    f->orientation = p->orientation;
    f->has_alpha = p->has_alpha;
    f->frames = p->frames;
    if (px == NULL || px->rgba == NULL)
        return;
    uint8_t rgb[3], th[IMG_THUMBHASH_MAX];
    img_dominant_colour(px, rgb);
    snprintf(f->dominant, sizeof(f->dominant), "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    size_t n = img_thumbhash_encode(px, th, sizeof(th));
    f->placeholders =
        img_blurhash_encode(px, IMG_BLURHASH_X, IMG_BLURHASH_Y, f->blurhash, sizeof(f->blurhash)) &&
        n > 0 && img_base64(th, n, f->thumbhash, sizeof(f->thumbhash));
}
