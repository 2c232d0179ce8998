/* Tests of tensor/tensor_shape.c against naive index loops: permutes and
 * transposes (the row-copy path, the tiled-transpose path, and sizes large
 * enough to be split over the threads, at every instruction set this CPU
 * has), narrow, select, index, slices (read, fill, broadcast assign,
 * overlapping source), the broadcasting copy, stack, cat, split and chunk,
 * which results share storage, and the error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/alloc.h"
#include "simd/dispatch.h"
#include "tensor/tensor.h"
#include "tensor/tensor_shape.h"

static long baseline;

static int setup(void **state)
{
    (void)state;
    baseline = nnl_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(nnl_alloc_live(), baseline);
    return 0;
}

/* A tensor whose element at flat index i holds i + 1 (so every element is
 * distinct and nonzero). */
static nnl_tensor *seq(int nd, const size_t *shape)
{
    nnl_tensor *t = nnl_tensor_new(nd, shape, NULL);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = (float)(i + 1);
    return t;
}

/* Flat offset of multi-index idx in shape. */
static size_t flat(int nd, const size_t *shape, const size_t *idx)
{
    size_t off = 0;
    for (int i = 0; i < nd; i++)
        off = off * shape[i] + idx[i];
    return off;
}

/* Advances the multi-index idx over shape; 0 at the end. */
static int next_index(int nd, const size_t *shape, size_t *idx)
{
    for (int i = nd - 1; i >= 0; i--) {
        if (++idx[i] < shape[i])
            return 1;
        idx[i] = 0;
    }
    return 0;
}

/* y must be t permuted by perm, element by element. */
static void check_permuted(const nnl_tensor *t, const int *perm, const nnl_tensor *y)
{
    assert_int_equal(y->ndim, t->ndim);
    for (int i = 0; i < t->ndim; i++)
        assert_int_equal(y->shape[i], t->shape[perm[i]]);
    size_t idx[NNL_MAX_DIMS] = {0}, src[NNL_MAX_DIMS];
    if (y->numel == 0)
        return;
    do {
        for (int i = 0; i < t->ndim; i++)
            src[perm[i]] = idx[i];
        assert_true(y->data[flat(y->ndim, y->shape, idx)] ==
                    t->data[flat(t->ndim, t->shape, src)]);
    } while (next_index(y->ndim, y->shape, idx));
}

static void check_all_perms(const nnl_tensor *t)
{
    /* every permutation of up to 4 dimensions (Heap's algorithm by hand is
     * longer than listing them through a counter) */
    int nd = t->ndim, perm[NNL_MAX_DIMS];
    int total = 1;
    for (int i = 2; i <= nd; i++)
        total *= i;
    for (int code = 0; code < total; code++) {
        int used[NNL_MAX_DIMS] = {0}, c = code;
        for (int i = 0; i < nd; i++) {
            int k = c % (nd - i);
            c /= nd - i;
            for (int j = 0; j < nd; j++)
                if (!used[j] && k-- == 0) {
                    perm[i] = j;
                    used[j] = 1;
                    break;
                }
        }
        nnl_tensor *y = nnl_tensor_permute(t, perm, NULL);
        assert_non_null(y);
        check_permuted(t, perm, y);
        nnl_tensor_free(y);
    }
}

static void test_permute_every_order(void **state)
{
    (void)state;
    size_t s4[4] = {3, 37, 45, 5}, s3[3] = {2, 33, 70}, s1[1] = {7};
    size_t sz[3] = {2, 0, 3}, sones[4] = {1, 5, 1, 9};
    nnl_tensor *ts[5] = {seq(4, s4), seq(3, s3), seq(1, s1), seq(3, sz), seq(4, sones)};
    nnl_isa best = nnl_isa_best(), was = nnl_isa_active();
    for (int l = NNL_ISA_SCALAR; l <= (int)best; l++) {
        assert_int_equal(nnl_dispatch_set((nnl_isa)l, NULL), NNL_OK);
        for (int i = 0; i < 5; i++)
            check_all_perms(ts[i]);
    }
    nnl_dispatch_set(was, NULL);
    for (int i = 0; i < 5; i++)
        nnl_tensor_free(ts[i]);
}

static void test_transpose_large(void **state)
{
    (void)state;
    /* 301 x 257: more than the threading threshold, tiles with edges */
    size_t s[2] = {301, 257}, b[3] = {3, 129, 200};
    nnl_tensor *t = seq(2, s), *u = seq(3, b);
    nnl_isa best = nnl_isa_best(), was = nnl_isa_active();
    for (int l = NNL_ISA_SCALAR; l <= (int)best; l++) {
        assert_int_equal(nnl_dispatch_set((nnl_isa)l, NULL), NNL_OK);
        nnl_tensor *y = nnl_tensor_t(t, NULL);
        int p2[2] = {1, 0}, p3[3] = {0, 2, 1};
        check_permuted(t, p2, y);
        nnl_tensor_free(y);
        y = nnl_tensor_transpose(u, 2, 1, NULL);
        check_permuted(u, p3, y);
        nnl_tensor_free(y);
    }
    nnl_dispatch_set(was, NULL);
    nnl_tensor_free(t);
    nnl_tensor_free(u);
}

static void test_transpose_errors(void **state)
{
    (void)state;
    size_t s[3] = {2, 3, 4};
    nnl_tensor *t = seq(3, s);
    nnl_error err;
    assert_null(nnl_tensor_t(t, &err));
    assert_string_equal(err.msg, "t: needs a 1-D or 2-D tensor, got [2x3x4] (use transpose)");
    assert_null(nnl_tensor_transpose(t, 0, 3, &err));
    assert_string_equal(err.msg, "transpose: dimension 4 out of range for shape [2x3x4]");
    int bad[3] = {0, 0, 1};
    assert_null(nnl_tensor_permute(t, bad, &err));
    assert_string_equal(err.msg, "permute: dimension 1 repeated for shape [2x3x4] (each of 1..3 once)");
    nnl_tensor_free(t);
}

static void test_narrow_select(void **state)
{
    (void)state;
    size_t s[3] = {4, 6, 5};
    nnl_tensor *t = seq(3, s);
    nnl_error err;
    /* dim 0: a view */
    nnl_tensor *v = nnl_tensor_narrow(t, 0, 1, 2, NULL);
    assert_ptr_equal(v->data, t->data + 30);
    assert_int_equal(v->shape[0], 2);
    nnl_tensor_free(v);
    /* dim 1 and 2: copies with the right values */
    for (int dim = 1; dim < 3; dim++) {
        nnl_tensor *y = nnl_tensor_narrow(t, dim, 2, 3, NULL);
        assert_true(y->storage != t->storage);
        size_t idx[3] = {0}, src[3];
        do {
            memcpy(src, idx, sizeof src);
            src[dim] += 2;
            assert_true(y->data[flat(3, y->shape, idx)] == t->data[flat(3, s, src)]);
        } while (next_index(3, y->shape, idx));
        nnl_tensor_free(y);
        nnl_tensor *z = nnl_tensor_select_dim(t, dim, 3, NULL);
        assert_int_equal(z->ndim, 2);
        assert_true(z->storage != t->storage);
        size_t j[2] = {0};
        do {
            size_t full[3] = {j[0], dim == 1 ? 3 : j[1], dim == 1 ? j[1] : 3};
            assert_true(z->data[flat(2, z->shape, j)] == t->data[flat(3, s, full)]);
        } while (next_index(2, z->shape, j));
        nnl_tensor_free(z);
    }
    nnl_tensor *r = nnl_tensor_select_dim(t, 0, 2, NULL);
    assert_ptr_equal(r->data, t->data + 60);
    nnl_tensor_free(r);
    assert_null(nnl_tensor_narrow(t, 1, 4, 3, &err));
    assert_string_equal(err.msg, "narrow: start 5 + length 3 out of range for dimension 2 of [4x6x5]");
    assert_null(nnl_tensor_select_dim(t, 2, 5, &err));
    assert_string_equal(err.msg, "select: index 6 out of range for dimension 3 of [4x6x5]");
    assert_null(nnl_tensor_narrow(t, -1, 0, 1, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    nnl_tensor_free(t);
}

static void test_index(void **state)
{
    (void)state;
    size_t s[3] = {3, 4, 2};
    nnl_tensor *t = seq(3, s);
    size_t idx[5] = {3, 0, 3, 1, 2};
    nnl_tensor *y = nnl_tensor_index(t, 1, idx, 5, NULL);
    assert_int_equal(y->shape[1], 5);
    size_t i[3] = {0};
    do {
        size_t src[3] = {i[0], idx[i[1]], i[2]};
        assert_true(y->data[flat(3, y->shape, i)] == t->data[flat(3, s, src)]);
    } while (next_index(3, y->shape, i));
    nnl_tensor_free(y);
    nnl_error err;
    size_t bad[2] = {0, 4};
    assert_null(nnl_tensor_index(t, 1, bad, 2, &err));
    assert_string_equal(err.msg, "index: index 5 (entry 2) out of range for dimension 2 of [3x4x2]");
    nnl_tensor_free(t);
}

static void test_slices(void **state)
{
    (void)state;
    size_t s[3] = {4, 5, 3};
    nnl_tensor *t = seq(3, s);
    nnl_error err;
    /* rows 2..3 of dim 0, the rest whole: a view */
    nnl_slice a = {1, {1}, {2}, {0}};
    nnl_tensor *v = nnl_tensor_slice(t, &a, NULL);
    assert_ptr_equal(v->data, t->data + 15);
    assert_int_equal(v->ndim, 3);
    nnl_tensor_free(v);
    /* an index of dim 0: a view without that dimension */
    nnl_slice b = {1, {2}, {0}, {1}};
    v = nnl_tensor_slice(t, &b, NULL);
    assert_int_equal(v->ndim, 2);
    assert_ptr_equal(v->data, t->data + 30);
    nnl_tensor_free(v);
    /* {1..3}, 4, {2..3}: a copy of shape [3x2] */
    nnl_slice c = {3, {0, 3, 1}, {3, 0, 2}, {0, 1, 0}};
    nnl_tensor *y = nnl_tensor_slice(t, &c, NULL);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->shape[0], 3);
    assert_int_equal(y->shape[1], 2);
    assert_true(y->storage != t->storage);
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < 2; k++) {
            size_t src[3] = {i, 3, k + 1};
            assert_true(y->data[i * 2 + k] == t->data[flat(3, s, src)]);
        }
    /* fill the region, then assign a broadcast [2] row to it */
    unsigned long ver = t->storage->version;
    assert_int_equal(nnl_tensor_slice_fill(t, &c, -1.0f, NULL), NNL_OK);
    assert_true(t->storage->version > ver);
    size_t idx[3] = {0};
    do {
        int in = idx[0] < 3 && idx[1] == 3 && idx[2] >= 1;
        float want = in ? -1.0f : (float)(flat(3, s, idx) + 1);
        assert_true(t->data[flat(3, s, idx)] == want);
    } while (next_index(3, s, idx));
    size_t two = 2;
    nnl_tensor *row = nnl_tensor_new(1, &two, NULL);
    row->data[0] = 7;
    row->data[1] = 8;
    assert_int_equal(nnl_tensor_slice_assign(t, &c, row, NULL), NNL_OK);
    for (size_t i = 0; i < 3; i++) {
        size_t p1[3] = {i, 3, 1}, p2[3] = {i, 3, 2};
        assert_true(t->data[flat(3, s, p1)] == 7 && t->data[flat(3, s, p2)] == 8);
    }
    /* a source of the wrong shape changes nothing */
    size_t three = 3;
    nnl_tensor *bad = nnl_tensor_new(1, &three, NULL);
    float before = t->data[flat(3, s, (size_t[3]){0, 3, 1})];
    assert_int_not_equal(nnl_tensor_slice_assign(t, &c, bad, &err), NNL_OK);
    assert_string_equal(err.msg, "slice: shape [3] does not broadcast to [3x2]");
    assert_true(t->data[flat(3, s, (size_t[3]){0, 3, 1})] == before);
    /* out of range */
    nnl_slice d = {2, {0, 4}, {4, 2}, {0, 0}};
    assert_null(nnl_tensor_slice(t, &d, &err));
    assert_string_equal(err.msg, "slice: range 5..6 out of range for dimension 2 of [4x5x3]");
    nnl_slice e = {1, {4}, {0}, {1}};
    assert_null(nnl_tensor_slice(t, &e, &err));
    assert_string_equal(err.msg, "slice: index 5 out of range for dimension 1 of [4x5x3]");
    /* every dimension an index: one element, shape [1] */
    nnl_slice f = {3, {1, 2, 0}, {0, 0, 0}, {1, 1, 1}};
    y->data[0] = 0;
    nnl_tensor_free(y);
    y = nnl_tensor_slice(t, &f, NULL);
    assert_int_equal(y->ndim, 1);
    assert_int_equal(y->numel, 1);
    assert_true(y->data[0] == t->data[1 * 15 + 2 * 3]);
    nnl_tensor_free(y);
    nnl_tensor_free(row);
    nnl_tensor_free(bad);
    nnl_tensor_free(t);
}

static void test_copy_bcast_overlap(void **state)
{
    (void)state;
    size_t s[2] = {3, 4};
    nnl_tensor *t = seq(2, s);
    nnl_error err;
    /* t:copy_(t[1]): the first row into every row, reading a copy */
    nnl_tensor *r0 = nnl_tensor_select(t, 0, NULL);
    assert_int_equal(nnl_tensor_copy_bcast(t, r0, NULL), NNL_OK);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++)
            assert_true(t->data[i * 4 + j] == (float)(j + 1));
    /* a [3x1] column broadcast along the rows */
    size_t cs[2] = {3, 1};
    nnl_tensor *col = seq(2, cs);
    assert_int_equal(nnl_tensor_copy_bcast(t, col, NULL), NNL_OK);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++)
            assert_true(t->data[i * 4 + j] == (float)(i + 1));
    size_t ws[1] = {3};
    nnl_tensor *w = seq(1, ws);
    assert_int_not_equal(nnl_tensor_copy_bcast(t, w, &err), NNL_OK);
    assert_string_equal(err.msg, "copy_: shape [3] does not broadcast to [3x4]");
    /* a large broadcast copy (split over the threads) */
    size_t bs[3] = {64, 33, 40}, rs[2] = {33, 40};
    nnl_tensor *big = nnl_tensor_new(3, bs, NULL), *pat = seq(2, rs);
    assert_int_equal(nnl_tensor_copy_bcast(big, pat, NULL), NNL_OK);
    for (size_t i = 0; i < big->numel; i++)
        assert_true(big->data[i] == pat->data[i % pat->numel]);
    nnl_tensor_free(big);
    nnl_tensor_free(pat);
    nnl_tensor_free(w);
    nnl_tensor_free(col);
    nnl_tensor_free(r0);
    nnl_tensor_free(t);
}

static void test_views(void **state)
{
    (void)state;
    size_t s[4] = {2, 1, 3, 1};
    nnl_tensor *t = seq(4, s);
    nnl_tensor *a = nnl_tensor_squeeze(t, -1, NULL);
    assert_int_equal(a->ndim, 2);
    assert_ptr_equal(a->data, t->data);
    nnl_tensor *b = nnl_tensor_squeeze(t, 1, NULL);
    assert_int_equal(b->ndim, 3);
    assert_int_equal(b->shape[1], 3);
    nnl_tensor *c = nnl_tensor_squeeze(t, 0, NULL); /* size 2: unchanged */
    assert_int_equal(c->ndim, 4);
    nnl_tensor *d = nnl_tensor_unsqueeze(a, 2, NULL);
    assert_int_equal(d->ndim, 3);
    assert_int_equal(d->shape[2], 1);
    nnl_tensor *e = nnl_tensor_flatten(t, NULL);
    assert_int_equal(e->ndim, 1);
    assert_int_equal(e->shape[0], 6);
    assert_ptr_equal(e->data, t->data);
    nnl_error err;
    assert_null(nnl_tensor_unsqueeze(a, 3, &err));
    assert_string_equal(err.msg, "unsqueeze: dimension 4 out of range for shape [2x3] (1..3)");
    size_t ones[2] = {1, 1};
    nnl_tensor *o = seq(2, ones), *q = nnl_tensor_squeeze(o, -1, NULL);
    assert_int_equal(q->ndim, 1);
    assert_int_equal(q->shape[0], 1);
    nnl_tensor *list[] = {a, b, c, d, e, o, q};
    for (int i = 0; i < 7; i++)
        nnl_tensor_free(list[i]);
    nnl_tensor_free(t);
}

static void test_stack_split_chunk(void **state)
{
    (void)state;
    size_t s[2] = {2, 3};
    nnl_tensor *a = seq(2, s), *b = nnl_tensor_new(2, s, NULL);
    for (size_t i = 0; i < 6; i++)
        b->data[i] = -(float)(i + 1);
    const nnl_tensor *ab[2] = {a, b};
    nnl_error err;
    for (int dim = 0; dim <= 2; dim++) {
        nnl_tensor *y = nnl_tensor_stack(ab, 2, dim, NULL);
        assert_int_equal(y->ndim, 3);
        assert_int_equal(y->shape[dim], 2);
        size_t idx[3] = {0};
        do {
            size_t k = idx[dim], sub[2];
            int n = 0;
            for (int d = 0; d < 3; d++)
                if (d != dim)
                    sub[n++] = idx[d];
            assert_true(y->data[flat(3, y->shape, idx)] == ab[k]->data[sub[0] * 3 + sub[1]]);
        } while (next_index(3, y->shape, idx));
        nnl_tensor_free(y);
    }
    assert_null(nnl_tensor_stack(ab, 2, 3, &err));
    assert_string_equal(err.msg, "stack: dimension 4 out of range for shape [2x3] (1..3)");
    size_t s3[1] = {3};
    nnl_tensor *c = seq(1, s3);
    const nnl_tensor *ac[2] = {a, c};
    assert_null(nnl_tensor_stack(ac, 2, 0, &err));
    assert_string_equal(err.msg, "stack: tensor 2 has shape [3], tensor 1 [2x3]");

    /* split 7 along dim 1 by 3: 3, 3, 1 (copies); along dim 0: views */
    size_t s7[2] = {5, 7};
    nnl_tensor *t = seq(2, s7);
    size_t n;
    nnl_tensor **ps = nnl_tensor_split(t, 3, 1, &n, NULL);
    assert_int_equal(n, 3);
    size_t widths[3] = {3, 3, 1};
    for (size_t p = 0; p < n; p++) {
        assert_int_equal(ps[p]->shape[1], widths[p]);
        assert_true(ps[p]->storage != t->storage);
        for (size_t i = 0; i < 5; i++)
            for (size_t j = 0; j < widths[p]; j++)
                assert_true(ps[p]->data[i * widths[p] + j] == t->data[i * 7 + p * 3 + j]);
        nnl_tensor_free(ps[p]);
    }
    nnl_free(ps);
    ps = nnl_tensor_chunk(t, 2, 0, &n, NULL); /* 5 rows in 2: 3 and 2 */
    assert_int_equal(n, 2);
    assert_int_equal(ps[0]->shape[0], 3);
    assert_int_equal(ps[1]->shape[0], 2);
    assert_ptr_equal(ps[1]->data, t->data + 21);
    nnl_tensor_free(ps[0]);
    nnl_tensor_free(ps[1]);
    nnl_free(ps);
    ps = nnl_tensor_chunk(t, 4, 1, &n, NULL); /* 7 in 4: pieces of 2 -> 2, 2, 2, 1 */
    assert_int_equal(n, 4);
    assert_int_equal(ps[3]->shape[1], 1);
    for (size_t p = 0; p < n; p++)
        nnl_tensor_free(ps[p]);
    nnl_free(ps);
    assert_null(nnl_tensor_split(t, 0, 0, &n, &err));
    assert_string_equal(err.msg, "split: size must be at least 1 (shape [5x7])");
    assert_null(nnl_tensor_chunk(t, 0, 1, &n, &err));
    assert_null(nnl_tensor_split(t, 1, 2, &n, &err));
    assert_string_equal(err.msg, "split: dimension 3 out of range for shape [5x7]");
    nnl_tensor_free(t);
    nnl_tensor_free(c);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_permute_every_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transpose_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transpose_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_bcast_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_split_chunk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
