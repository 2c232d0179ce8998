/* Numerical gradient checks of layers, shared by the layer tests (each
 * layer kind's tests include this): central differences of f = sum(r * y)
 * for a fixed random r, accumulated in double, against the analytic dx and
 * parameter gradients of backward; and nnl_test_layer(), which makes a
 * layer of any kind from "key=value;..." text, as a script would.
 *
 * Layers compute in float32, so h is 1e-2 (truncation error O(h^2) stays
 * far below the tolerance, rounding error about 1e-4). Inputs can be kept
 * away from the kinks of relu-like functions. Include it once per test
 * program, after cmocka.h. */
#ifndef NNL_TESTS_GRADCHECK_H
#define NNL_TESTS_GRADCHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/rng.h"
#include "model/layer.h"

#define H 1e-2
#define ATOL 2e-3
#define RTOL 2e-2

static nnl_rng rng; /* seed it in each test */

/* Values in [-2, 2] at least 0.1 away from 0 (relu kinks). */
static inline void fill_away(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = 0.1f + 1.9f * nnl_rng_uniform(&rng);
        x[i] = nnl_rng_uniform(&rng) < 0.5f ? -v : v;
    }
}

/* Distinct values 0.05 apart, shuffled: no two inputs of a window are
 * within a finite difference of each other (max pooling's ties). */
static inline void fill_distinct(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.05f * (float)i - 0.025f * (float)n;
    for (size_t i = n; i > 1; i--) {
        size_t j = nnl_rng_below(&rng, (uint32_t)i);
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

static inline void fill_normal(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = nnl_rng_normal(&rng);
}

typedef struct probe {
    nnl_layer *l;
    size_t batch, nin, nout;
    float *x, *y, *r, *dy, *dx;
    int train;
    uint64_t seed;   /* reseeds Dropout before every forward */
} probe;

static inline double objective(probe *p)
{
    nnl_error err;
    nnl_layer_seed(p->l, p->seed);
    assert_int_equal(nnl_layer_forward(p->l, p->batch, p->x, p->y, p->train, &err), NNL_OK);
    double f = 0.0;
    for (size_t i = 0; i < p->nout; i++)
        f += (double)p->r[i] * p->y[i];
    return f;
}

static inline void check_close(const char *what, size_t i, double analytic, double numeric)
{
    double tol = ATOL + RTOL * fmax(fabs(analytic), fabs(numeric));
    if (fabs(analytic - numeric) > tol) {
        fprintf(stderr, "%s[%zu]: analytic %.6g numeric %.6g\n", what, i, analytic, numeric);
        fail();
    }
}

/* Checks dx and every trainable parameter's gradient of layer l built for
 * per-sample shape in. away_from_kinks: 0 normal inputs, 1 at least 0.1
 * from 0 (relu), 2 distinct values 0.05 apart (max pooling). */
static inline void gradcheck_layer(nnl_layer *l, const nnl_shape *in, size_t batch, int train,
                            int away_from_kinks)
{
    nnl_error err;
    nnl_rng init;
    nnl_rng_seed(&init, 7);
    assert_int_equal(nnl_layer_build(l, in, &init, &err), NNL_OK);
    probe p = {l, batch, batch * nnl_shape_numel(in), batch * nnl_shape_numel(&l->out_shape),
               NULL, NULL, NULL, NULL, NULL, train, 99};
    p.x = nnl_malloc(p.nin * sizeof(float));
    p.dx = nnl_malloc(p.nin * sizeof(float));
    p.y = nnl_malloc(p.nout * sizeof(float));
    p.r = nnl_malloc(p.nout * sizeof(float));
    p.dy = nnl_malloc(p.nout * sizeof(float));
    assert_non_null(p.x && p.dx && p.y && p.r && p.dy);
    if (away_from_kinks == 2)
        fill_distinct(p.x, p.nin);
    else if (away_from_kinks)
        fill_away(p.x, p.nin);
    else
        fill_normal(p.x, p.nin);
    fill_normal(p.r, p.nout);
    /* Perturb parameters so gamma/beta are not trivially 1/0. */
    for (int k = 0; k < l->nparams; k++)
        if (l->params[k].trainable)
            for (size_t j = 0; j < l->params[k].n; j++)
                l->params[k].w[j] += 0.3f * nnl_rng_normal(&rng);

    objective(&p);
    memcpy(p.dy, p.r, p.nout * sizeof(float));
    assert_int_equal(nnl_layer_backward(l, batch, p.x, p.y, p.dy, p.dx, &err), NNL_OK);

    char what[96];
    snprintf(what, sizeof what, "%s d/dx", l->name);
    for (size_t i = 0; i < p.nin; i++) {
        float keep = p.x[i];
        p.x[i] = keep + (float)H;
        double fp = objective(&p);
        p.x[i] = keep - (float)H;
        double fm = objective(&p);
        p.x[i] = keep;
        check_close(what, i, p.dx[i], (fp - fm) / (2 * H));
    }
    for (int k = 0; k < l->nparams; k++) {
        nnl_param *pr = &l->params[k];
        if (!pr->trainable)
            continue;
        snprintf(what, sizeof what, "%s d/d%s", l->name, pr->name);
        for (size_t j = 0; j < pr->n; j++) {
            float keep = pr->w[j];
            pr->w[j] = keep + (float)H;
            double fp = objective(&p);
            pr->w[j] = keep - (float)H;
            double fm = objective(&p);
            pr->w[j] = keep;
            check_close(what, j, pr->g[j], (fp - fm) / (2 * H));
        }
    }
    nnl_free(p.x);
    nnl_free(p.dx);
    nnl_free(p.y);
    nnl_free(p.r);
    nnl_free(p.dy);
}


/* A layer of kind `type` from "key=value;key=v1,v2;...", as nn.<type>{...}
 * would make it (values as Lua would give them: numbers, true/false, names,
 * lists of integers); fails the test on a bad spec. */
static inline nnl_layer *nnl_test_layer(const char *type, const char *spec)
{
    const nnl_layer_ops *k = nnl_layer_kind(type);
    assert_non_null(k);
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *save = NULL, *item = strtok_r(buf, ";", &save); item;
         item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        assert_non_null(eq);
        *eq = '\0';
        int i = nnl_option_find(k->options, k->noptions, item);
        if (i < 0)
            fail_msg("%s has no option %s", type, item);
        const nnl_option *o = &k->options[i];
        const char *val = eq + 1;
        v[i].given = 1;
        switch (o->type) {
        case NNL_OPTION_BOOL:
            v[i].num = strcmp(val, "true") == 0;
            break;
        case NNL_OPTION_CHOICE:
            v[i].num = o->choice->from_name(val);
            break;
        case NNL_OPTION_SIZES:
        case NNL_OPTION_SHAPE: {
            v[i].nints = 0;
            for (const char *p = val; *p && v[i].nints < NNL_VALUE_INTS_MAX;) {
                char *end;
                v[i].ints[v[i].nints++] = strtol(p, &end, 10);
                p = *end == ',' ? end + 1 : end;
                if (end == p && *p)
                    break;
            }
            if (o->type == NNL_OPTION_SIZES && v[i].nints == 1)
                for (int j = (v[i].nints = o->count, 1); j < o->count; j++)
                    v[i].ints[j] = v[i].ints[0];
            break;
        }
        case NNL_OPTION_REGULARIZER:
            v[i].l2 = strtod(val, NULL);
            break;
        default:
            v[i].num = strtod(val, NULL);
            break;
        }
    }
    nnl_error err;
    nnl_layer *l = nnl_layer_create(k, v, &err);
    if (!l)
        fail_msg("%s{%s}: %s", type, spec, err.msg);
    return l;
}

#endif
