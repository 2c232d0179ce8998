/* The pooling kernels, written once (see kernels.h for their contract).
 *
 * Included by each kern_<isa>.c right after kern_body.h, whose macro set
 * and tail helpers (load_part/store_part) it uses, plus four integer
 * macros for the argmax lanes:
 *   V_ILOAD(p), V_ISTORE(p, v)   int32 loads and stores (any alignment)
 *   V_IEQ(a, b)                  lane mask of a == b, usable by V_SEL
 *   V_ISEL(m, a, b)              m ? a : b on integer lanes
 *   V_ILOAD8(p), V_ISTORE8(p, v) VLEN bytes to and from int32 lanes
 *                                holding 0..255 (zero-extended, narrowed)
 * The window is walked in row order for each group of VLEN channels, with
 * the same operations at every level (no fused ones, sums in window
 * order), so every level is bitwise equal to the scalar reference. */

/* Integer tails through a stack buffer (int lanes have no masked forms in
 * the macro set; the tails are at most VLEN - 1 lanes per window). */
KINLINE VI KN(iload_part)(const int32_t *p, size_t rem)
{
    int32_t t[VLEN] = {0};
    memcpy(t, p, rem * sizeof(int32_t));
    return V_ILOAD(t);
}

KINLINE void KN(istore_part)(int32_t *p, VI v, size_t rem)
{
    int32_t t[VLEN];
    V_ISTORE(t, v);
    memcpy(p, t, rem * sizeof(int32_t));
}

/* One pixel v (winner id vp) into the running max m and winner a: a
 * strictly larger value replaces the max, and a NaN replaces it while m is
 * not yet NaN (m is unchanged when v is NaN), so the first NaN stays.
 * zero is V_SET1(0.0f). */
KINLINE void KN(maxpool_take)(VF v, VI vp, VF zero, VF *m, VI *a)
{
    VM gt = V_GT(v, *m);
    *m = V_SEL(gt, v, *m);
    *a = V_ISEL(gt, vp, *a);
    VM nan_new = V_ISNAN(V_SEL(V_ISNAN(*m), zero, v));
    *m = V_SEL(nan_new, v, *m);
    *a = V_ISEL(nan_new, vp, *a);
}

/* Max and first argmax of one group of lanes (rem < VLEN: a tail). A NaN
 * wins over numbers and the first NaN stays (as torch.max_pool2d
 * propagates NaN); otherwise a strictly larger value replaces the max, so
 * ties keep the first pixel. */
KINLINE void KN(maxpool_group)(size_t rem, size_t nh, size_t nw, const float *x, size_t ldr,
                               size_t c, int32_t p0, int32_t prow, float *y, int32_t *arg)
{
    const VF zero = V_SET1(0.0f);
    VF m = V_SET1(-INFINITY);
    VI a = V_ISET1(p0);
    for (size_t i = 0; i < nh; i++) {
        const float *xr = x + i * ldr;
        int32_t p = p0 + (int32_t)i * prow;
        for (size_t j = 0; j < nw; j++, p++) {
            VF v = rem ? KN(load_part)(xr + j * c, rem, 0.0f) : V_LOAD(xr + j * c);
            KN(maxpool_take)(v, V_ISET1(p), zero, &m, &a);
        }
    }
    if (rem) {
        KN(store_part)(y, m, rem);
        KN(istore_part)(arg, a, rem);
    } else {
        V_STORE(y, m);
        V_ISTORE(arg, a);
    }
}

static void KN(maxpool_fwd)(size_t c, size_t nh, size_t nw, const float *x, size_t ldr,
                            int32_t p0, int32_t prow, float *y, int32_t *arg)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(maxpool_group)(0, nh, nw, x + ch, ldr, c, p0, prow, y + ch, arg + ch);
    if (ch < c)
        KN(maxpool_group)(c - ch, nh, nw, x + ch, ldr, c, p0, prow, y + ch, arg + ch);
}

/* dx[p] += dy where arg == p, for every window pixel p. */
KINLINE void KN(maxpool_bwd_group)(size_t rem, size_t nh, size_t nw, float *dx, size_t ldr,
                                   size_t c, int32_t p0, int32_t prow, const float *dy,
                                   const int32_t *arg)
{
    const VF zero = V_SET1(0.0f);
    VF g = rem ? KN(load_part)(dy, rem, 0.0f) : V_LOAD(dy);
    VI a = rem ? KN(iload_part)(arg, rem) : V_ILOAD(arg);
    for (size_t i = 0; i < nh; i++) {
        float *dr = dx + i * ldr;
        int32_t p = p0 + (int32_t)i * prow;
        for (size_t j = 0; j < nw; j++, p++) {
            float *d = dr + j * c;
            VF add = V_SEL(V_IEQ(a, V_ISET1(p)), g, zero);
            if (rem)
                KN(store_part)(d, V_ADD(KN(load_part)(d, rem, 0.0f), add), rem);
            else
                V_STORE(d, V_ADD(V_LOAD(d), add));
        }
    }
}

static void KN(maxpool_bwd)(size_t c, size_t nh, size_t nw, float *dx, size_t ldr,
                            int32_t p0, int32_t prow, const float *dy, const int32_t *arg)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(maxpool_bwd_group)(0, nh, nw, dx + ch, ldr, c, p0, prow, dy + ch, arg + ch);
    if (ch < c)
        KN(maxpool_bwd_group)(c - ch, nh, nw, dx + ch, ldr, c, p0, prow, dy + ch, arg + ch);
}

/* ---- windows that do not overlap: byte offsets, stores ----------------- */

/* Byte tails of the offset lanes (0..255) through a stack buffer. */
KINLINE VI KN(iload8_part)(const uint8_t *p, size_t rem)
{
    uint8_t t[VLEN] = {0};
    memcpy(t, p, rem);
    return V_ILOAD8(t);
}

KINLINE void KN(istore8_part)(uint8_t *p, VI v, size_t rem)
{
    uint8_t t[VLEN];
    V_ISTORE8(t, v);
    memcpy(p, t, rem);
}

/* maxpool_group's rules with the winner kept as its offset i*nw + j in
 * the window. Called with constant nh and nw (2x2) it unrolls. */
KINLINE void KN(maxpool8_group)(size_t rem, size_t nh, size_t nw, const float *x, size_t ldr,
                                size_t c, float *y, uint8_t *arg)
{
    const VF zero = V_SET1(0.0f);
    VF m = V_SET1(-INFINITY);
    VI a = V_ISET1(0);
    for (size_t i = 0; i < nh; i++) {
        const float *xr = x + i * ldr;
        for (size_t j = 0; j < nw; j++) {
            VF v = rem ? KN(load_part)(xr + j * c, rem, 0.0f) : V_LOAD(xr + j * c);
            KN(maxpool_take)(v, V_ISET1((int32_t)(i * nw + j)), zero, &m, &a);
        }
    }
    if (rem) {
        KN(store_part)(y, m, rem);
        KN(istore8_part)(arg, a, rem);
    } else {
        V_STORE(y, m);
        V_ISTORE8(arg, a);
    }
}

KINLINE void KN(maxpool8_win)(size_t c, size_t nh, size_t nw, const float *x, size_t ldr,
                              float *y, uint8_t *arg)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(maxpool8_group)(0, nh, nw, x + ch, ldr, c, y + ch, arg + ch);
    if (ch < c)
        KN(maxpool8_group)(c - ch, nh, nw, x + ch, ldr, c, y + ch, arg + ch);
}

static void KN(maxpool_fwd_u8)(size_t c, size_t nh, size_t nw, size_t nwin, const float *x,
                               size_t ldr, size_t xstep, float *y, uint8_t *arg)
{
    if (nh == 2 && nw == 2) { /* the Keras default pool */
        for (size_t k = 0; k < nwin; k++)
            KN(maxpool8_win)(c, 2, 2, x + k * xstep, ldr, y + k * c, arg + k * c);
        return;
    }
    for (size_t k = 0; k < nwin; k++)
        KN(maxpool8_win)(c, nh, nw, x + k * xstep, ldr, y + k * c, arg + k * c);
}

/* dx = dy at the window's winner, 0 at its other pixels (stores only).
 * NT: non-temporal stores (aligned, no tail): dx is written whole and
 * read much later, so its lines need not be read first (the stores are
 * the same bits; V_STREAM and V_SFENCE come from the level). */
#ifndef V_STREAM
#define V_STREAM V_STORE
#define V_SFENCE() ((void)0)
#define KPOOL_NO_STREAM 1
#endif
KINLINE void KN(maxpool8_bwd_group)(const int NT, size_t rem, size_t nh, size_t nw, float *dx,
                                    size_t ldr, size_t c, const float *dy, const uint8_t *arg)
{
    const VF zero = V_SET1(0.0f);
    VF g = rem ? KN(load_part)(dy, rem, 0.0f) : V_LOAD(dy);
    VI a = rem ? KN(iload8_part)(arg, rem) : V_ILOAD8(arg);
    for (size_t i = 0; i < nh; i++) {
        float *dr = dx + i * ldr;
        for (size_t j = 0; j < nw; j++) {
            VF v = V_SEL(V_IEQ(a, V_ISET1((int32_t)(i * nw + j))), g, zero);
            if (rem)
                KN(store_part)(dr + j * c, v, rem);
            else if (NT)
                V_STREAM(dr + j * c, v);
            else
                V_STORE(dr + j * c, v);
        }
    }
}

KINLINE void KN(maxpool8_bwd_win)(const int NT, size_t c, size_t nh, size_t nw, float *dx,
                                  size_t ldr, const float *dy, const uint8_t *arg)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(maxpool8_bwd_group)(NT, 0, nh, nw, dx + ch, ldr, c, dy + ch, arg + ch);
    if (ch < c)
        KN(maxpool8_bwd_group)(0, c - ch, nh, nw, dx + ch, ldr, c, dy + ch, arg + ch);
}

static void KN(maxpool_bwd_u8)(size_t c, size_t nh, size_t nw, size_t nwin, float *dx,
                               size_t ldr, size_t xstep, const float *dy, const uint8_t *arg)
{
#ifndef KPOOL_NO_STREAM
    /* every store a whole aligned vector: stream (2x2, the Keras default) */
    if (nh == 2 && nw == 2 && c % VLEN == 0 && ldr % VLEN == 0 && xstep % VLEN == 0 &&
        (uintptr_t)dx % (VLEN * sizeof(float)) == 0) {
        for (size_t k = 0; k < nwin; k++)
            KN(maxpool8_bwd_win)(1, c, 2, 2, dx + k * xstep, ldr, dy + k * c, arg + k * c);
        V_SFENCE(); /* before another thread may read dx */
        return;
    }
#endif
    if (nh == 2 && nw == 2) {
        for (size_t k = 0; k < nwin; k++)
            KN(maxpool8_bwd_win)(0, c, 2, 2, dx + k * xstep, ldr, dy + k * c, arg + k * c);
        return;
    }
    for (size_t k = 0; k < nwin; k++)
        KN(maxpool8_bwd_win)(0, c, nh, nw, dx + k * xstep, ldr, dy + k * c, arg + k * c);
}
#ifdef KPOOL_NO_STREAM
#undef V_STREAM
#undef V_SFENCE
#undef KPOOL_NO_STREAM
#endif

/* ---- average pooling ---------------------------------------------------- */

/* y = (sum of the window, in row order) / count. */
KINLINE void KN(avgpool_group)(size_t rem, size_t nh, size_t nw, const float *x, size_t ldr,
                               size_t c, VF count, float *y)
{
    VF s = V_SET1(0.0f);
    for (size_t i = 0; i < nh; i++) {
        const float *xr = x + i * ldr;
        for (size_t j = 0; j < nw; j++)
            s = V_ADD(s, rem ? KN(load_part)(xr + j * c, rem, 0.0f) : V_LOAD(xr + j * c));
    }
    s = V_DIV(s, count);
    if (rem)
        KN(store_part)(y, s, rem);
    else
        V_STORE(y, s);
}

static void KN(avgpool_fwd)(size_t c, size_t nh, size_t nw, const float *x, size_t ldr,
                            float count, float *y)
{
    VF vc = V_SET1(count);
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(avgpool_group)(0, nh, nw, x + ch, ldr, c, vc, y + ch);
    if (ch < c)
        KN(avgpool_group)(c - ch, nh, nw, x + ch, ldr, c, vc, y + ch);
}

/* dx[p] += dy / count for every window pixel p. */
KINLINE void KN(avgpool_bwd_group)(size_t rem, size_t nh, size_t nw, float *dx, size_t ldr,
                                   size_t c, VF count, const float *dy)
{
    VF g = V_DIV(rem ? KN(load_part)(dy, rem, 0.0f) : V_LOAD(dy), count);
    for (size_t i = 0; i < nh; i++) {
        float *dr = dx + i * ldr;
        for (size_t j = 0; j < nw; j++) {
            float *d = dr + j * c;
            if (rem)
                KN(store_part)(d, V_ADD(KN(load_part)(d, rem, 0.0f), g), rem);
            else
                V_STORE(d, V_ADD(V_LOAD(d), g));
        }
    }
}

static void KN(avgpool_bwd)(size_t c, size_t nh, size_t nw, float *dx, size_t ldr,
                            float count, const float *dy)
{
    VF vc = V_SET1(count);
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(avgpool_bwd_group)(0, nh, nw, dx + ch, ldr, c, vc, dy + ch);
    if (ch < c)
        KN(avgpool_bwd_group)(c - ch, nh, nw, dx + ch, ldr, c, vc, dy + ch);
}

/* Installs the pooling kernels into a table. */
static void KN(fill_pool)(nnl_kernels *k)
{
    k->maxpool_fwd = KN(maxpool_fwd);
    k->maxpool_bwd = KN(maxpool_bwd);
    k->maxpool_fwd_u8 = KN(maxpool_fwd_u8);
    k->maxpool_bwd_u8 = KN(maxpool_bwd_u8);
    k->avgpool_fwd = KN(avgpool_fwd);
    k->avgpool_bwd = KN(avgpool_bwd);
}
