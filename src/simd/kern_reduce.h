/* The tensor-reduction kernels, written once (nn.Tensor's sum, mean, var,
 * prod, norm, max/min with their indices; see kernels.h for the contract).
 *
 * Included by each kern_<isa>.c after kern_body.h (whose float macro set
 * and load_part it uses), with a few macros for double lanes:
 *   VD, VDLEN            a register of VDLEN doubles (1, 2, 4 or 8)
 *   VD_ZERO(), VD_SET1(x)
 *   VD_FROMF(p)          VDLEN floats at p (any alignment), widened
 *   VD_LOAD(p), VD_STORE(p, v)   VDLEN doubles
 *   VD_ADD, VD_SUB, VD_MUL, VD_ABS
 * Every level is bitwise equal to the scalar reference: a row is summed
 * over 16 double lanes at every level (element i goes to lane i % 16; the
 * lanes are combined in one fixed tree), and the column kernels do one
 * double operation per element. Double additions, subtractions and
 * multiplications are correctly rounded wherever they run, and nothing is
 * fused (-ffp-contract=off). */

#define KR_LANES 16
#define KR_NACC (KR_LANES / VDLEN)

/* f(x) of one element, in double, for mode (NNL_KRED_*). */
KINLINE double KN(kr_f1)(int mode, float x, double c)
{
    switch (mode) {
    case NNL_KRED_ABS: return fabs((double)x);
    case NNL_KRED_SQDEV: { double d = (double)x - c; return d * d; }
    default: return (double)x;
    }
}

KINLINE VD KN(kr_fv)(int mode, const float *p, VD c)
{
    VD v = VD_FROMF(p);
    switch (mode) {
    case NNL_KRED_ABS: return VD_ABS(v);
    case NNL_KRED_SQDEV: { VD d = VD_SUB(v, c); return VD_MUL(d, d); }
    default: return v;
    }
}

/* The row sum (product) for one constant mode: 16 lanes, then the tail
 * element by element into its lane, then the fixed tree. */
KINLINE double KN(kr_rsum_mode)(int mode, size_t n, const float *x, double c)
{
    const int prod = mode == NNL_KRED_PROD;
    VD acc[KR_NACC];
    VD vc = VD_SET1(c);
    for (int a = 0; a < KR_NACC; a++)
        acc[a] = prod ? VD_SET1(1.0) : VD_ZERO();
    size_t i = 0;
    for (; i + KR_LANES <= n; i += KR_LANES)
        for (int a = 0; a < KR_NACC; a++) {
            VD v = KN(kr_fv)(mode, x + i + (size_t)a * VDLEN, vc);
            acc[a] = prod ? VD_MUL(acc[a], v) : VD_ADD(acc[a], v);
        }
    double lane[KR_LANES];
    for (int a = 0; a < KR_NACC; a++)
        VD_STORE(lane + a * VDLEN, acc[a]);
    for (size_t j = 0; i + j < n; j++) { /* leftovers */
        double v = KN(kr_f1)(mode, x[i + j], c);
        lane[j] = prod ? lane[j] * v : lane[j] + v;
    }
    for (int s = KR_LANES / 2; s >= 1; s /= 2)
        for (int j = 0; j < s; j++)
            lane[j] = prod ? lane[j] * lane[j + s] : lane[j] + lane[j + s];
    return lane[0];
}

static double KN(rsum_d)(int mode, size_t n, const float *x, double c)
{
    switch (mode) {
    case NNL_KRED_ABS: return KN(kr_rsum_mode)(NNL_KRED_ABS, n, x, c);
    case NNL_KRED_SQDEV: return KN(kr_rsum_mode)(NNL_KRED_SQDEV, n, x, c);
    case NNL_KRED_PROD: return KN(kr_rsum_mode)(NNL_KRED_PROD, n, x, c);
    default: return KN(kr_rsum_mode)(NNL_KRED_SUM, n, x, c);
    }
}

KINLINE void KN(kr_csum_mode)(int mode, size_t n, const float *x, const double *c, double *acc)
{
    const int prod = mode == NNL_KRED_PROD, dev = mode == NNL_KRED_SQDEV;
    size_t i = 0;
    for (; i + VDLEN <= n; i += VDLEN) {
        VD v = KN(kr_fv)(mode, x + i, dev ? VD_LOAD(c + i) : VD_ZERO());
        VD a = VD_LOAD(acc + i);
        VD_STORE(acc + i, prod ? VD_MUL(a, v) : VD_ADD(a, v));
    }
    for (; i < n; i++) { /* leftovers */
        double v = KN(kr_f1)(mode, x[i], dev ? c[i] : 0.0);
        acc[i] = prod ? acc[i] * v : acc[i] + v;
    }
}

static void KN(csum_d)(int mode, size_t n, const float *x, const double *c, double *acc)
{
    switch (mode) {
    case NNL_KRED_ABS: KN(kr_csum_mode)(NNL_KRED_ABS, n, x, c, acc); break;
    case NNL_KRED_SQDEV: KN(kr_csum_mode)(NNL_KRED_SQDEV, n, x, c, acc); break;
    case NNL_KRED_PROD: KN(kr_csum_mode)(NNL_KRED_PROD, n, x, c, acc); break;
    default: KN(kr_csum_mode)(NNL_KRED_SUM, n, x, c, acc); break;
    }
}

/* One value v (position vj) into the running extreme m (position a): a
 * strictly larger (smaller) value replaces it, and a NaN replaces it
 * while m is not NaN, so the first NaN stays. */
KINLINE void KN(kr_take)(int want_min, VF v, VI vj, VF *m, VI *a)
{
    VM better = want_min ? V_LT(v, *m) : V_GT(v, *m);
    *m = V_SEL(better, v, *m);
    *a = V_ISEL(better, vj, *a);
    /* after the compare: a NaN v was not taken, and m is NaN only if it
     * was before */
    VM nan_new = V_ISNAN(V_SEL(V_ISNAN(*m), V_SET1(0.0f), v));
    *m = V_SEL(nan_new, v, *m);
    *a = V_ISEL(nan_new, vj, *a);
}

/* The first extreme of n < 2^31 values: lanes keep their own first
 * extreme (lane l sees elements l, l + VLEN, ...), then the lane with a
 * NaN of the lowest position wins, else the extreme value of the lowest
 * position. Padding lanes hold -inf (+inf for min) at positions >= n, so
 * they never win. */
KINLINE size_t KN(kr_ext_piece)(int want_min, size_t n, const float *x)
{
    const float pad = want_min ? INFINITY : -INFINITY;
    size_t first = n < VLEN ? n : VLEN;
    VF m = first < VLEN ? KN(load_part)(x, first, pad) : V_LOAD(x);
    VI a = V_IOTA;
    size_t i = first;
    for (; i + VLEN <= n; i += VLEN)
        KN(kr_take)(want_min, V_LOAD(x + i), V_IADD(V_ISET1((int32_t)i), V_IOTA), &m, &a);
    if (i < n)
        KN(kr_take)(want_min, KN(load_part)(x + i, n - i, pad),
                    V_IADD(V_ISET1((int32_t)i), V_IOTA), &m, &a);
    float mv[VLEN];
    int32_t av[VLEN];
    V_STORE(mv, m);
    V_ISTORE(av, a);
    int best = 0;
    for (int l = 1; l < VLEN; l++) {
        int bn = isnan(mv[best]), ln = isnan(mv[l]);
        if (bn != ln) {
            if (ln)
                best = l;
            continue;
        }
        int better = bn ? 0 : want_min ? mv[l] < mv[best] : mv[l] > mv[best];
        if (better || ((bn || mv[l] == mv[best]) && av[l] < av[best]))
            best = l;
    }
    return (size_t)av[best];
}

static size_t KN(row_ext)(int want_min, size_t n, const float *x)
{
    const size_t piece = (size_t)1 << 30;
    size_t best = 0;
    for (size_t s = 0; s < n; s += piece) {
        size_t len = n - s < piece ? n - s : piece;
        size_t j = s + KN(kr_ext_piece)(want_min, len, x + s);
        if (s == 0) {
            best = j;
            continue;
        }
        float b = x[best], v = x[j];
        if (!isnan(b) && (isnan(v) || (want_min ? v < b : v > b)))
            best = j;
    }
    return best;
}

static void KN(col_ext)(int want_min, size_t n, const float *x, int32_t j, float *best,
                        int32_t *arg)
{
    const VI vj = V_ISET1(j);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        VF m = V_LOAD(best + i);
        VI a = V_ILOAD(arg + i);
        KN(kr_take)(want_min, V_LOAD(x + i), vj, &m, &a);
        V_STORE(best + i, m);
        V_ISTORE(arg + i, a);
    }
    for (; i < n; i++) { /* leftovers: the same rule on one lane */
        float v = x[i], b = best[i];
        if (!isnan(b) && (isnan(v) || (want_min ? v < b : v > b))) {
            best[i] = v;
            arg[i] = j;
        }
    }
}

static void KN(fill_reduce)(nnl_kernels *k)
{
    k->rsum_d = KN(rsum_d);
    k->csum_d = KN(csum_d);
    k->row_ext = KN(row_ext);
    k->col_ext = KN(col_ext);
}
