/* The Winograd transform kernels, written once (see kernels.h for their
 * contract; src/model/conv_winograd.c drives them).
 *
 * Included by each kern_<isa>.c right after kern_body.h, whose macro set
 * and tail helpers (load_part/store_part) it uses. Channels last: every
 * kernel works on groups of VLEN channels, so one register holds one
 * tile element of VLEN channels, and a tail shorter than a register goes
 * through the masked or buffered load_part/store_part. Only adds,
 * subtracts and multiplies by small constants, in the same order at every
 * level (no fused multiply-adds), so every level is bitwise equal to the
 * scalar reference.
 *
 * F(2x2, 3x3) (Lavin and Gray's matrices):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
 * F(4x4, 3x3), points 0, +-1, +-2:
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *          0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * The input transform is V = B^T d B (columns first, then rows), the
 * output transform Y = A^T M A (likewise), the output gradient's (for
 * dW) Z = A dY A^T. */

KINLINE VF KN(wino_ld)(const float *p, size_t rem)
{
    return rem ? KN(load_part)(p, rem, 0.0f) : V_LOAD(p);
}

KINLINE void KN(wino_st)(float *p, VF v, size_t rem)
{
    if (rem)
        KN(store_part)(p, v, rem);
    else
        V_STORE(p, v);
}

/* ---- F(2x2, 3x3) ---------------------------------------------------------- */

/* B^T of one column of 4 (in place). */
#define WINO2_BT(a0, a1, a2, a3)                                                    \
    do {                                                                          \
        VF b0_ = V_SUB(a0, a2), b1_ = V_ADD(a1, a2), b2_ = V_SUB(a2, a1),         \
           b3_ = V_SUB(a1, a3);                                                    \
        a0 = b0_, a1 = b1_, a2 = b2_, a3 = b3_;                                    \
    } while (0)

KINLINE void KN(wino2_in_group)(size_t rem, size_t ch, const float *const *px, float *v,
                                size_t ve)
{
    VF d[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d[i][j] = KN(wino_ld)(px[i * 4 + j] + ch, rem);
    for (int j = 0; j < 4; j++) /* columns: B^T d */
        WINO2_BT(d[0][j], d[1][j], d[2][j], d[3][j]);
    for (int i = 0; i < 4; i++) /* rows: (B^T d) B */
        WINO2_BT(d[i][0], d[i][1], d[i][2], d[i][3]);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            KN(wino_st)(v + (size_t)(i * 4 + j) * ve + ch, d[i][j], rem);
}

static void KN(wino2_in)(size_t c, const float *const *px, float *v, size_t ve)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(wino2_in_group)(0, ch, px, v, ve);
    if (ch < c)
        KN(wino2_in_group)(c - ch, ch, px, v, ve);
}

KINLINE void KN(wino2_out_group)(size_t rem, size_t ch, const float *m, size_t me,
                                 const float *bias, float *y, size_t ldr, size_t c,
                                 size_t nh, size_t nw)
{
    VF s[2][4];
    for (int j = 0; j < 4; j++) { /* columns: A^T M */
        VF m0 = KN(wino_ld)(m + (size_t)(0 * 4 + j) * me + ch, rem);
        VF m1 = KN(wino_ld)(m + (size_t)(1 * 4 + j) * me + ch, rem);
        VF m2 = KN(wino_ld)(m + (size_t)(2 * 4 + j) * me + ch, rem);
        VF m3 = KN(wino_ld)(m + (size_t)(3 * 4 + j) * me + ch, rem);
        s[0][j] = V_ADD(V_ADD(m0, m1), m2);
        s[1][j] = V_SUB(V_SUB(m1, m2), m3);
    }
    VF b = bias ? KN(wino_ld)(bias + ch, rem) : V_SET1(0.0f);
    for (size_t i = 0; i < nh; i++) { /* rows: (A^T M) A, then the bias */
        VF o0 = V_ADD(V_ADD(s[i][0], s[i][1]), s[i][2]);
        VF o1 = V_SUB(V_SUB(s[i][1], s[i][2]), s[i][3]);
        if (bias)
            o0 = V_ADD(o0, b), o1 = V_ADD(o1, b);
        KN(wino_st)(y + i * ldr + ch, o0, rem);
        if (nw > 1)
            KN(wino_st)(y + i * ldr + c + ch, o1, rem);
    }
}

static void KN(wino2_out)(size_t c, const float *m, size_t me, const float *bias, float *y,
                          size_t ldr, size_t nh, size_t nw)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(wino2_out_group)(0, ch, m, me, bias, y, ldr, c, nh, nw);
    if (ch < c)
        KN(wino2_out_group)(c - ch, ch, m, me, bias, y, ldr, c, nh, nw);
}

/* ---- F(4x4, 3x3) ---------------------------------------------------------- */

/* B^T of one column of 6 (a[0..5] in place). */
KINLINE void KN(wino4_bt)(VF *a0, VF *a1, VF *a2, VF *a3, VF *a4, VF *a5)
{
    const VF four = V_SET1(4.0f), five = V_SET1(5.0f), two = V_SET1(2.0f);
    VF d0 = *a0, d1 = *a1, d2 = *a2, d3 = *a3, d4 = *a4, d5 = *a5;
    VF t1 = V_SUB(d4, V_MUL(four, d2)), t2 = V_SUB(d3, V_MUL(four, d1));
    VF t3 = V_SUB(d4, d2), t4 = V_MUL(two, V_SUB(d3, d1));
    *a0 = V_ADD(V_SUB(V_MUL(four, d0), V_MUL(five, d2)), d4);
    *a1 = V_ADD(t1, t2);
    *a2 = V_SUB(t1, t2);
    *a3 = V_ADD(t3, t4);
    *a4 = V_SUB(t3, t4);
    *a5 = V_ADD(V_SUB(V_MUL(four, d1), V_MUL(five, d3)), d5);
}

KINLINE void KN(wino4_in_group)(size_t rem, size_t ch, const float *const *px, float *v,
                                size_t ve)
{
    /* columns: B^T d, one column of 6 at a time into an array the
     * compiler keeps on the stack (36 registers do not fit) */
    VF d[6][6];
    for (int j = 0; j < 6; j++) {
        VF c0 = KN(wino_ld)(px[0 * 6 + j] + ch, rem), c1 = KN(wino_ld)(px[1 * 6 + j] + ch, rem);
        VF c2 = KN(wino_ld)(px[2 * 6 + j] + ch, rem), c3 = KN(wino_ld)(px[3 * 6 + j] + ch, rem);
        VF c4 = KN(wino_ld)(px[4 * 6 + j] + ch, rem), c5 = KN(wino_ld)(px[5 * 6 + j] + ch, rem);
        KN(wino4_bt)(&c0, &c1, &c2, &c3, &c4, &c5);
        d[0][j] = c0, d[1][j] = c1, d[2][j] = c2, d[3][j] = c3, d[4][j] = c4, d[5][j] = c5;
    }
    for (int i = 0; i < 6; i++) { /* rows: (B^T d) B */
        VF r0 = d[i][0], r1 = d[i][1], r2 = d[i][2], r3 = d[i][3], r4 = d[i][4], r5 = d[i][5];
        KN(wino4_bt)(&r0, &r1, &r2, &r3, &r4, &r5);
        float *vr = v + (size_t)(i * 6) * ve + ch;
        KN(wino_st)(vr, r0, rem);
        KN(wino_st)(vr + ve, r1, rem);
        KN(wino_st)(vr + 2 * ve, r2, rem);
        KN(wino_st)(vr + 3 * ve, r3, rem);
        KN(wino_st)(vr + 4 * ve, r4, rem);
        KN(wino_st)(vr + 5 * ve, r5, rem);
    }
}

static void KN(wino4_in)(size_t c, const float *const *px, float *v, size_t ve)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(wino4_in_group)(0, ch, px, v, ve);
    if (ch < c)
        KN(wino4_in_group)(c - ch, ch, px, v, ve);
}

/* A^T of one column of 6 into 4. */
KINLINE void KN(wino4_at)(VF m0, VF m1, VF m2, VF m3, VF m4, VF m5, VF *o)
{
    const VF two = V_SET1(2.0f), four = V_SET1(4.0f), eight = V_SET1(8.0f);
    VF a = V_ADD(m1, m2), b = V_SUB(m1, m2), c = V_ADD(m3, m4), d = V_SUB(m3, m4);
    o[0] = V_ADD(V_ADD(m0, a), c);
    o[1] = V_ADD(b, V_MUL(two, d));
    o[2] = V_ADD(a, V_MUL(four, c));
    o[3] = V_ADD(V_ADD(b, V_MUL(eight, d)), m5);
}

KINLINE void KN(wino4_out_group)(size_t rem, size_t ch, const float *m, size_t me,
                                 const float *bias, float *y, size_t ldr, size_t c,
                                 size_t nh, size_t nw)
{
    VF s[6][4]; /* s[j][i]: row i of A^T M, column j */
    for (int j = 0; j < 6; j++) {
        VF mv[6];
        for (int i = 0; i < 6; i++)
            mv[i] = KN(wino_ld)(m + (size_t)(i * 6 + j) * me + ch, rem);
        KN(wino4_at)(mv[0], mv[1], mv[2], mv[3], mv[4], mv[5], s[j]);
    }
    VF b = bias ? KN(wino_ld)(bias + ch, rem) : V_SET1(0.0f);
    for (size_t i = 0; i < nh; i++) {
        VF o[4];
        KN(wino4_at)(s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i], o);
        for (size_t j = 0; j < nw; j++)
            KN(wino_st)(y + i * ldr + j * c + ch, bias ? V_ADD(o[j], b) : o[j], rem);
    }
}

static void KN(wino4_out)(size_t c, const float *m, size_t me, const float *bias, float *y,
                          size_t ldr, size_t nh, size_t nw)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(wino4_out_group)(0, ch, m, me, bias, y, ldr, c, nh, nw);
    if (ch < c)
        KN(wino4_out_group)(c - ch, ch, m, me, bias, y, ldr, c, nh, nw);
}

/* ---- the output-gradient transforms (dW) ------------------------------------ */

/* Z = A dY A^T, dY the o x o gradient of an output tile (zeros past nh,
 * nw): the gradient of the tile's M. A is (A^T)^T: F(2x2) takes a column
 * y0 y1 to y0, y0 + y1, y0 - y1, -y1; F(4x4) y0..y3 to y0, (y0 + y2) +
 * (y1 + y3), (y0 + y2) - (y1 + y3), (y0 + 4 y2) + (2 y1 + 8 y3),
 * (y0 + 4 y2) - (2 y1 + 8 y3), y3. */
KINLINE void KN(wino2_a)(VF y0, VF y1, VF *z)
{
    z[0] = y0;
    z[1] = V_ADD(y0, y1);
    z[2] = V_SUB(y0, y1);
    z[3] = V_SUB(V_SET1(0.0f), y1);
}

KINLINE void KN(wino4_a)(VF y0, VF y1, VF y2, VF y3, VF *z)
{
    const VF two = V_SET1(2.0f), four = V_SET1(4.0f), eight = V_SET1(8.0f);
    VF p = V_ADD(y0, y2), q = V_ADD(y1, y3);
    VF r = V_ADD(y0, V_MUL(four, y2)), t = V_ADD(V_MUL(two, y1), V_MUL(eight, y3));
    z[0] = y0;
    z[1] = V_ADD(p, q);
    z[2] = V_SUB(p, q);
    z[3] = V_ADD(r, t);
    z[4] = V_SUB(r, t);
    z[5] = y3;
}

KINLINE void KN(wino2_dyt_group)(size_t rem, size_t ch, const float *dy, size_t ldr, size_t c,
                                 size_t nh, size_t nw, float *z, size_t ze)
{
    const VF zero = V_SET1(0.0f);
    VF col[2][4]; /* col[j][a]: column j after A */
    for (size_t j = 0; j < 2; j++) {
        VF y0 = j < nw ? KN(wino_ld)(dy + j * c + ch, rem) : zero;
        VF y1 = j < nw && nh > 1 ? KN(wino_ld)(dy + ldr + j * c + ch, rem) : zero;
        KN(wino2_a)(y0, y1, col[j]);
    }
    for (size_t a = 0; a < 4; a++) {
        VF r[4];
        KN(wino2_a)(col[0][a], col[1][a], r);
        for (size_t b = 0; b < 4; b++)
            KN(wino_st)(z + (a * 4 + b) * ze + ch, r[b], rem);
    }
}

static void KN(wino2_dyt)(size_t c, const float *dy, size_t ldr, size_t nh, size_t nw, float *z,
                          size_t ze)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(wino2_dyt_group)(0, ch, dy, ldr, c, nh, nw, z, ze);
    if (ch < c)
        KN(wino2_dyt_group)(c - ch, ch, dy, ldr, c, nh, nw, z, ze);
}

KINLINE void KN(wino4_dyt_group)(size_t rem, size_t ch, const float *dy, size_t ldr, size_t c,
                                 size_t nh, size_t nw, float *z, size_t ze)
{
    const VF zero = V_SET1(0.0f);
    VF col[4][6]; /* col[j][a]: column j after A */
    for (size_t j = 0; j < 4; j++) {
        VF y[4];
        for (size_t i = 0; i < 4; i++)
            y[i] = i < nh && j < nw ? KN(wino_ld)(dy + i * ldr + j * c + ch, rem) : zero;
        KN(wino4_a)(y[0], y[1], y[2], y[3], col[j]);
    }
    for (size_t a = 0; a < 6; a++) {
        VF r[6];
        KN(wino4_a)(col[0][a], col[1][a], col[2][a], col[3][a], r);
        float *zr = z + (a * 6) * ze + ch;
        KN(wino_st)(zr, r[0], rem);
        KN(wino_st)(zr + ze, r[1], rem);
        KN(wino_st)(zr + 2 * ze, r[2], rem);
        KN(wino_st)(zr + 3 * ze, r[3], rem);
        KN(wino_st)(zr + 4 * ze, r[4], rem);
        KN(wino_st)(zr + 5 * ze, r[5], rem);
    }
}

static void KN(wino4_dyt)(size_t c, const float *dy, size_t ldr, size_t nh, size_t nw, float *z,
                          size_t ze)
{
    size_t ch = 0;
    for (; ch + VLEN <= c; ch += VLEN)
        KN(wino4_dyt_group)(0, ch, dy, ldr, c, nh, nw, z, ze);
    if (ch < c)
        KN(wino4_dyt_group)(c - ch, ch, dy, ldr, c, nh, nw, z, ze);
}

/* Installs the Winograd kernels into a table. */
static void KN(fill_wino)(nnl_kernels *k)
{
    k->wino2_in = KN(wino2_in);
    k->wino2_out = KN(wino2_out);
    k->wino4_in = KN(wino4_in);
    k->wino4_out = KN(wino4_out);
    k->wino2_dyt = KN(wino2_dyt);
    k->wino4_dyt = KN(wino4_dyt);
}
