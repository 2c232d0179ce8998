/* Finite-difference check of autograd for the C tests (test_ag_*.c).
 *
 * agcheck(f, ctx, in, nin, eps, tol): makes every input a leaf, runs
 * y = f(in) on the tape and back-propagates R (fixed pseudo-random values
 * of y's shape), which gives the gradient of sum(y * R); then, with
 * recording off, compares every element of every input's gradient with
 * the central difference (L(x + eps) - L(x - eps)) / 2 eps of the same
 * sum, within tol relative to max(1, |analytic|, |numeric|). Returns 1 when
 * all agree; otherwise prints the first mismatch to stderr and returns 0.
 * The inputs stay leaves with their gradients (the caller frees them). */
#ifndef NNL_AGCHECK_H
#define NNL_AGCHECK_H
#include <math.h>
#include <stdio.h>
#include "tensor/autograd.h"
#include "tensor/tensor.h"

typedef nnl_tensor *(*agcheck_fn)(nnl_tensor *const *in, void *ctx, nnl_error *err);

/* sum(y * r) in double; r's values are the fixed sequence of agcheck_r. */
static float agcheck_r(size_t i)
{
    unsigned long x = (unsigned long)i * 2654435761ul + 12345ul;
    x ^= x >> 13;
    x *= 0x5bd1e995ul;
    x ^= x >> 15;
    return (float)((double)(x % 2001) / 1000.0 - 1.0);
}

static int agcheck_loss(agcheck_fn f, void *ctx, nnl_tensor *const *in, double *out)
{
    nnl_error err;
    int was = nnl_ag_set_enabled(0);
    nnl_tensor *y = f(in, ctx, &err);
    nnl_ag_set_enabled(was);
    if (!y) {
        fprintf(stderr, "agcheck: f failed: %s\n", err.msg);
        return 0;
    }
    double s = 0;
    for (size_t i = 0; i < y->numel; i++)
        s += (double)y->data[i] * agcheck_r(i);
    nnl_tensor_free(y);
    *out = s;
    return 1;
}

static int agcheck(agcheck_fn f, void *ctx, nnl_tensor **in, int nin, double eps, double tol)
{
    nnl_error err;
    for (int i = 0; i < nin; i++) {
        if (nnl_ag_requires_grad(in[i], 1, &err) != NNL_OK ||
            nnl_ag_set_grad(in[i], NULL, &err) != NNL_OK) {
            fprintf(stderr, "agcheck: input %d: %s\n", i + 1, err.msg);
            return 0;
        }
    }
    nnl_tensor *y = f(in, ctx, &err);
    if (!y) {
        fprintf(stderr, "agcheck: f failed: %s\n", err.msg);
        return 0;
    }
    nnl_tensor *r = nnl_tensor_new_like(y, &err);
    int ok = r != NULL;
    for (size_t i = 0; ok && i < r->numel; i++)
        r->data[i] = agcheck_r(i);
    if (ok && nnl_ag_backward(y, r, 0, &err) != NNL_OK) {
        fprintf(stderr, "agcheck: backward failed: %s\n", err.msg);
        ok = 0;
    }
    nnl_tensor_free(r);
    nnl_tensor_free(y);
    for (int i = 0; ok && i < nin; i++) {
        const nnl_tensor *g = nnl_ag_grad(in[i]);
        for (size_t e = 0; ok && e < in[i]->numel; e++) {
            float keep = in[i]->data[e];
            double lp, lm;
            in[i]->data[e] = keep + (float)eps;
            ok = agcheck_loss(f, ctx, in, &lp);
            in[i]->data[e] = keep - (float)eps;
            ok = ok && agcheck_loss(f, ctx, in, &lm);
            in[i]->data[e] = keep;
            if (!ok)
                break;
            double num = (lp - lm) / (2 * eps), ana = g ? g->data[e] : 0.0;
            double scale = fmax(1.0, fmax(fabs(num), fabs(ana)));
            if (!(fabs(num - ana) <= tol * scale)) {
                fprintf(stderr, "agcheck: input %d element %zu: autograd %.6g, numeric %.6g\n",
                        i + 1, e + 1, ana, num);
                ok = 0;
            }
        }
    }
    return ok;
}

#endif
