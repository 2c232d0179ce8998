/* Model files: round trips of every layer kind and every optimizer (weights,
 * optimizer slots and step count, bit-identical predictions, and training
 * that resumes exactly), files without optimizer state, unbuilt models, and
 * every kind of malformed file (truncated anywhere, header length beyond the
 * file or huge, bad JSON, wrong dtype, offsets outside the data or
 * overlapping, shape/offset disagreement, unknown layer kinds, missing and
 * extra tensors, bad settings), plus saves that fail (unwritable folder,
 * file size limit) leaving the old file intact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "core/alloc.h"
#include "core/rng.h"
#include "model/fit.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/modelfile.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

static char tmpdir[256];

static void path_in_tmp(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static nnl_tensor *rand_tensor(size_t r, size_t c)
{
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new2(r, c, &err);
    assert_non_null(t);
    nnl_tensor_rand(t);
    return t;
}

static nnl_layer *dense(size_t units, int act, int use_bias)
{
    nnl_error err;
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    o.act = act;
    o.use_bias = use_bias;
    o.l2 = 0.001f;
    nnl_layer *l = nnl_dense_new(units, &o, &err);
    assert_non_null(l);
    return l;
}

static void add(nnl_model *m, nnl_layer *l)
{
    nnl_error err;
    assert_int_equal(nnl_model_add(m, l, &err), NNL_OK);
}

/* A model with every layer kind: input 2x3 -> Flatten -> Dense(8, relu)
 * -> BatchNormalization -> Dropout(0.25) -> Dense(4, no bias) ->
 * Activation(leaky_relu 0.1) -> Dense(1, sigmoid). */
static nnl_model *every_kind_model(uint64_t seed, int opt, int momentum)
{
    nnl_error err;
    nnl_rng_global_seed(seed);
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_layer *f = nnl_flatten_new(&err);
    assert_non_null(f);
    nnl_shape in = {2, {2, 3, 0, 0}};
    assert_int_equal(nnl_layer_set_input_shape(f, &in, &err), NNL_OK);
    add(m, f);
    add(m, dense(8, NNL_ACT_RELU, 1));
    nnl_bn_opts bo;
    nnl_bn_opts_default(&bo);
    bo.momentum = 0.9f;
    nnl_layer *bn = nnl_batchnorm_new(&bo, &err);
    assert_non_null(bn);
    nnl_layer_set_name(bn, "my_bn");
    add(m, bn);
    nnl_layer *d = nnl_dropout_new(0.25f, &err);
    assert_non_null(d);
    add(m, d);
    add(m, dense(4, NNL_ACT_LINEAR, 0));
    nnl_layer *a = nnl_activation_new(NNL_ACT_LEAKY_RELU, 0.1f, &err);
    assert_non_null(a);
    add(m, a);
    add(m, dense(1, NNL_ACT_SIGMOID, 1));
    if (opt >= 0) {
        nnl_optim_config c;
        nnl_optim_defaults(&c, opt);
        c.lr = 0.01;
        if (momentum) { /* 1 momentum, 2 Nesterov, 3 centered RMSprop with momentum */
            c.momentum = 0.9;
            c.nesterov = momentum == 2;
            c.centered = momentum == 3;
        }
        const char *ms[2] = {"accuracy", "mse"};
        assert_int_equal(nnl_model_compile(m, NNL_LOSS_BCE, ms, 2, &c, &err), NNL_OK);
    }
    return m;
}

static void fit(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y, size_t epochs)
{
    nnl_error err;
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = epochs;
    o.batch_size = 8;
    o.shuffle = 0;
    nnl_history h;
    assert_int_equal(nnl_model_fit(m, x, y, &o, NULL, &h, &err), NNL_OK);
    nnl_history_free(&h);
}

static void assert_same_floats(const float *a, const float *b, size_t n)
{
    assert_memory_equal(a, b, n * sizeof(float));
}

/* Same layers, weights, optimizer state and step count, bit for bit. */
static void assert_same_model(const nnl_model *a, const nnl_model *b)
{
    assert_int_equal(a->nlayers, b->nlayers);
    assert_int_equal(a->built, b->built);
    assert_int_equal(a->compiled, b->compiled);
    for (size_t i = 0; i < a->nlayers; i++) {
        const nnl_layer *la = a->layers[i], *lb = b->layers[i];
        assert_ptr_equal(la->ops, lb->ops);
        assert_string_equal(la->name, lb->name);
        assert_int_equal(la->act, lb->act);
        assert_true(la->act_param == lb->act_param);
        assert_true(la->l2 == lb->l2);
        assert_int_equal(la->nparams, lb->nparams);
        for (int p = 0; p < la->nparams; p++) {
            assert_string_equal(la->params[p].name, lb->params[p].name);
            assert_int_equal(la->params[p].n, lb->params[p].n);
            assert_same_floats(la->params[p].w, lb->params[p].w, la->params[p].n);
        }
    }
    if (a->compiled) {
        assert_int_equal(a->loss, b->loss);
        assert_int_equal(a->nmetrics, b->nmetrics);
        for (size_t i = 0; i < a->nmetrics; i++)
            assert_string_equal(a->metrics[i].name, b->metrics[i].name);
        const nnl_optim_config *ca = &a->opt->cfg, *cb = &b->opt->cfg;
        assert_int_equal(ca->kind, cb->kind);
        assert_int_equal(ca->nesterov, cb->nesterov);
        assert_int_equal(ca->centered, cb->centered);
        double fa[8] = {ca->lr, ca->momentum, ca->beta1, ca->beta2, ca->epsilon,
                        ca->weight_decay, ca->rho, ca->initial_accumulator};
        double fb[8] = {cb->lr, cb->momentum, cb->beta1, cb->beta2, cb->epsilon,
                        cb->weight_decay, cb->rho, cb->initial_accumulator};
        assert_memory_equal(fa, fb, sizeof fa);
        assert_int_equal(a->opt->iterations, b->opt->iterations);
        assert_int_equal(a->opt->nslots, b->opt->nslots);
        for (size_t k = 0; k < a->opt->nslots; k++) {
            const nnl_optim_slot *sa = &a->opt->slots[k], *sb = &b->opt->slots[k];
            assert_int_equal(sa->n, sb->n);
            assert_int_equal(sa->m != NULL, sb->m != NULL);
            assert_int_equal(sa->v != NULL, sb->v != NULL);
            if (sa->m)
                assert_same_floats(sa->m, sb->m, sa->n);
            if (sa->v)
                assert_same_floats(sa->v, sb->v, sa->n);
            assert_int_equal(sa->a != NULL, sb->a != NULL);
            if (sa->a)
                assert_same_floats(sa->a, sb->a, sa->n);
        }
    }
}

static void assert_same_predictions(nnl_model *a, nnl_model *b, const nnl_tensor *x)
{
    nnl_error err;
    nnl_tensor *pa = nnl_model_predict(a, x, 7, &err);
    assert_non_null(pa);
    nnl_tensor *pb = nnl_model_predict(b, x, 7, &err);
    assert_non_null(pb);
    assert_int_equal(pa->numel, pb->numel);
    assert_same_floats(pa->data, pb->data, pa->numel);
    nnl_tensor_free(pa);
    nnl_tensor_free(pb);
}

static nnl_model *load_ok(const char *path, nnl_modelfile_info *info)
{
    nnl_error err;
    nnl_model *m = nnl_modelfile_load(path, info, &err);
    if (!m)
        fail_msg("load %s: %s", path, err.msg);
    return m;
}

static void save_ok(nnl_model *m, const char *path, long epochs)
{
    nnl_error err;
    nnl_modelfile_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "round trip");
    info.epochs = epochs;
    if (nnl_modelfile_save(m, path, &info, &err) != NNL_OK)
        fail_msg("save %s: %s", path, err.msg);
}

/* Every optimizer (SGD plain, with momentum, with Nesterov; Adam, AdamW,
 * RMSprop plain, with momentum, centered; Adagrad): fit 2 epochs, save,
 * load: the same model and predictions; then 2 more epochs on the loaded model give exactly the
 * weights of 4 epochs in one go. */
static void test_round_trip_every_optimizer(void **state)
{
    (void)state;
    struct { int opt, momentum; } cases[] = {
        {NNL_OPT_SGD, 0}, {NNL_OPT_SGD, 1}, {NNL_OPT_SGD, 2}, {NNL_OPT_ADAM, 0},
        {NNL_OPT_ADAMW, 0}, {NNL_OPT_RMSPROP, 0}, {NNL_OPT_RMSPROP, 1},
        {NNL_OPT_RMSPROP, 3}, {NNL_OPT_ADAGRAD, 0},
    };
    char path[512];
    path_in_tmp(path, sizeof path, "rt.safetensors");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nnl_rng_global_seed(99);
        nnl_tensor *x = rand_tensor(40, 6);
        x->ndim = 3;
        x->shape[1] = 2;
        x->shape[2] = 3;
        nnl_tensor *y = rand_tensor(40, 1);
        for (size_t i = 0; i < 40; i++)
            y->data[i] = y->data[i] > 0.5f;

        nnl_model *whole = every_kind_model(5, cases[c].opt, cases[c].momentum);
        fit(whole, x, y, 4);

        nnl_model *a = every_kind_model(5, cases[c].opt, cases[c].momentum);
        fit(a, x, y, 2);
        save_ok(a, path, 2);
        nnl_modelfile_info info;
        nnl_model *b = load_ok(path, &info);
        assert_string_equal(info.name, "round trip");
        assert_int_equal(info.epochs, 2);
        assert_same_model(a, b);
        assert_same_predictions(a, b, x);

        fit(b, x, y, 2);
        assert_same_model(whole, b);
        assert_same_predictions(whole, b, x);
        nnl_model_free(whole);
        nnl_model_free(a);
        nnl_model_free(b);
        nnl_tensor_free(x);
        nnl_tensor_free(y);
    }
}

/* Uncompiled and compiled-but-never-fit models; an unbuilt model (no input
 * shape) keeps its layers and builds on first use. */
static void test_uncompiled_and_unbuilt(void **state)
{
    (void)state;
    char path[512];
    path_in_tmp(path, sizeof path, "plain.safetensors");
    nnl_model *a = every_kind_model(3, -1, 0);
    save_ok(a, path, 0);
    nnl_model *b = load_ok(path, NULL);
    assert_false(b->compiled);
    assert_same_model(a, b);
    nnl_model_free(a);
    nnl_model_free(b);

    a = every_kind_model(3, NNL_OPT_ADAM, 0); /* compiled, no slots yet */
    save_ok(a, path, 0);
    b = load_ok(path, NULL);
    assert_true(b->compiled);
    assert_int_equal(b->opt->nslots, 0);
    assert_same_model(a, b);
    nnl_model_free(a);
    nnl_model_free(b);

    nnl_error err;
    a = nnl_model_new(&err);
    add(a, dense(3, NNL_ACT_TANH, 1));
    add(a, dense(2, NNL_ACT_SOFTMAX, 1));
    save_ok(a, path, 0);
    b = load_ok(path, NULL);
    assert_false(b->built);
    assert_int_equal(b->nlayers, 2);
    assert_int_equal(nnl_layer_value(b->layers[0], "units")->num, 3);
    assert_int_equal(b->layers[1]->act, NNL_ACT_SOFTMAX);
    nnl_tensor *x = rand_tensor(5, 4);
    nnl_tensor *p = nnl_model_predict(b, x, 32, &err);
    assert_non_null(p);
    assert_int_equal(p->shape[1], 2);
    nnl_tensor_free(p);
    nnl_tensor_free(x);
    nnl_model_free(a);
    nnl_model_free(b);

    a = nnl_model_new(&err);
    assert_int_equal(nnl_modelfile_save(a, path, NULL, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "no layers"));
    nnl_model_free(a);
}

/* ---- malformed files ------------------------------------------------------ */

typedef struct blob {
    unsigned char *b;
    size_t n;
} blob;

static blob read_all(const char *path)
{
    blob r = {NULL, 0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    r.n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    r.b = malloc(r.n ? r.n : 1);
    assert_non_null(r.b);
    assert_int_equal(fread(r.b, 1, r.n, f), r.n);
    fclose(f);
    return r;
}

/* A valid file of a small trained model with Adam state, in memory. */
static blob valid_file(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "valid.safetensors");
    nnl_model *m = every_kind_model(11, NNL_OPT_ADAM, 0);
    nnl_tensor *x = rand_tensor(16, 6);
    x->ndim = 3;
    x->shape[1] = 2;
    x->shape[2] = 3;
    nnl_tensor *y = rand_tensor(16, 1);
    fit(m, x, y, 1);
    save_ok(m, path, 1);
    nnl_model_free(m);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
    return read_all(path);
}

static uint64_t header_len(const blob *f)
{
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--)
        n = (n << 8) | f->b[k];
    return n;
}

/* Loads from memory and requires failure with code and text in the
 * message. */
static void expect_fail(const void *data, size_t n, nnl_status code, const char *text)
{
    nnl_error err;
    nnl_model *m = nnl_modelfile_load_mem(data, n, "test.safetensors", NULL, &err);
    if (m) {
        nnl_model_free(m);
        fail_msg("a malformed file loaded (expected '%s')", text);
    }
    assert_int_equal(err.code, code);
    if (text && !strstr(err.msg, text))
        fail_msg("message '%s' does not contain '%s'", err.msg, text);
    assert_non_null(strstr(err.msg, "test.safetensors"));
}

/* A file from a header text and data bytes. */
static blob make_file(const char *header, const unsigned char *data, size_t ndata)
{
    size_t h = strlen(header);
    blob r;
    r.n = 8 + h + ndata;
    r.b = malloc(r.n);
    assert_non_null(r.b);
    for (int k = 0; k < 8; k++)
        r.b[k] = (unsigned char)((uint64_t)h >> (8 * k));
    memcpy(r.b + 8, header, h);
    if (ndata)
        memcpy(r.b + 8 + h, data, ndata);
    return r;
}

/* The header of a valid file as JSON (to edit), and its data. */
static cJSON *header_of(const blob *f, const unsigned char **data, size_t *ndata)
{
    uint64_t h = header_len(f);
    cJSON *j = cJSON_ParseWithLength((const char *)f->b + 8, (size_t)h);
    assert_non_null(j);
    *data = f->b + 8 + h;
    *ndata = f->n - 8 - (size_t)h;
    return j;
}

/* The file for an edited header: tensors packed again in header order
 * from their old offsets in `data` (so removing or adding entries keeps
 * the data covered), or kept as they are when relayout is 0. */
static blob rebuild(cJSON *j, const unsigned char *data, int relayout)
{
    unsigned char *out = malloc(1 << 20);
    assert_non_null(out);
    size_t at = 0;
    if (relayout)
        for (cJSON *e = j->child; e; e = e->next) {
            if (strcmp(e->string, "__metadata__") == 0)
                continue;
            cJSON *o = cJSON_GetObjectItem(e, "data_offsets");
            size_t b = (size_t)cJSON_GetArrayItem(o, 0)->valuedouble;
            size_t n = (size_t)cJSON_GetArrayItem(o, 1)->valuedouble - b;
            memcpy(out + at, data + b, n);
            cJSON_ReplaceItemInArray(o, 0, cJSON_CreateNumber((double)at));
            cJSON_ReplaceItemInArray(o, 1, cJSON_CreateNumber((double)(at + n)));
            at += n;
        }
    char *text = cJSON_PrintUnformatted(j);
    blob r = make_file(text, out, at);
    cJSON_free(text);
    free(out);
    return r;
}

/* rebuild() without relayout keeps the old data as it was. */
static blob rebuild_same(cJSON *j, const blob *orig)
{
    const unsigned char *data;
    size_t ndata;
    cJSON *tmp = header_of(orig, &data, &ndata);
    cJSON_Delete(tmp);
    char *text = cJSON_PrintUnformatted(j);
    blob r = make_file(text, data, ndata);
    cJSON_free(text);
    return r;
}

static void set_offsets(cJSON *j, const char *name, double b, double e)
{
    cJSON *t = cJSON_GetObjectItem(j, name);
    assert_non_null(t);
    cJSON *o = cJSON_GetObjectItem(t, "data_offsets");
    cJSON_ReplaceItemInArray(o, 0, cJSON_CreateNumber(b));
    cJSON_ReplaceItemInArray(o, 1, cJSON_CreateNumber(e));
}

/* Edits a metadata JSON string: replaces the first `from` by `to`. */
static void edit_meta(cJSON *j, const char *key, const char *from, const char *to)
{
    cJSON *meta = cJSON_GetObjectItem(j, "__metadata__");
    cJSON *s = cJSON_GetObjectItem(meta, key);
    assert_non_null(s);
    const char *v = s->valuestring, *at = strstr(v, from);
    assert_non_null(at);
    size_t n = strlen(v) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - v), v, to, at + strlen(from));
    cJSON_ReplaceItemInObject(meta, key, cJSON_CreateString(out));
    free(out);
}

static void test_valid_file_loads_from_memory(void **state)
{
    (void)state;
    blob f = valid_file();
    nnl_error err;
    nnl_modelfile_info info;
    nnl_model *m = nnl_modelfile_load_mem(f.b, f.n, "mem", &info, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_true(m->compiled);
    assert_int_equal(info.epochs, 1);
    assert_int_equal(header_len(&f) % 8, 0); /* padded as safetensors recommends */
    nnl_model_free(m);
    free(f.b);
}

static void test_truncated_anywhere(void **state)
{
    (void)state;
    blob f = valid_file();
    for (size_t n = 0; n < f.n; n++) {
        unsigned char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
        assert_non_null(copy);
        memcpy(copy, f.b, n);
        expect_fail(copy, n, NNL_ERR_FORMAT, NULL);
        free(copy);
    }
    expect_fail(NULL, 0, NNL_ERR_FORMAT, "too few");
    expect_fail(f.b, 7, NNL_ERR_FORMAT, "too few");
    expect_fail(f.b, 8 + 10, NNL_ERR_FORMAT, "beyond the end");
    expect_fail(f.b, f.n - 1, NNL_ERR_FORMAT, "data");
    free(f.b);
}

static void test_header_length(void **state)
{
    (void)state;
    blob f = valid_file();
    uint64_t h = header_len(&f);
    unsigned char *c = malloc(f.n);
    assert_non_null(c);
    /* beyond the file by one byte */
    memcpy(c, f.b, f.n);
    uint64_t big = f.n - 8 + 1;
    for (int k = 0; k < 8; k++)
        c[k] = (unsigned char)(big >> (8 * k));
    expect_fail(c, f.n, NNL_ERR_FORMAT, "beyond the end of the file");
    /* huge */
    memset(c, 0xff, 8);
    expect_fail(c, f.n, NNL_ERR_FORMAT, "above the limit");
    big = (uint64_t)NNL_MODELFILE_MAX_HEADER + 1;
    for (int k = 0; k < 8; k++)
        c[k] = (unsigned char)(big >> (8 * k));
    expect_fail(c, f.n, NNL_ERR_FORMAT, "above the limit");
    /* shorter than the JSON: cuts it */
    memcpy(c, f.b, f.n);
    c[0] = (unsigned char)(h - 8);
    c[1] = (unsigned char)((h - 8) >> 8);
    expect_fail(c, f.n, NNL_ERR_FORMAT, "not valid JSON");
    /* zero */
    memset(c, 0, 8);
    expect_fail(c, f.n, NNL_ERR_FORMAT, "too small");
    free(c);
    free(f.b);
}

static void test_bad_json(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"{\"a\": [1, 2", "not valid JSON"},
        {"[1, 2, 3]", "not a JSON object"},
        {"{} trailing", "text after its JSON"},
        {"{\"__metadata__\": {\"architecture\": 5}}", "is not a string"},
        {"{\"__metadata__\": [1]}", "not an object"},
        {"{\"__metadata__\": {}, \"__metadata__\": {}}", "appears twice"},
        {"{\"t\": 5}", "expected an object"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
         "\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
         "appears twice"},
        {"{\"t\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", "dtype is missing"},
        {"{\"t\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", "shape is missing"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1, -2], \"data_offsets\": [0, 4]}}",
         "shape[1] is not a size"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
         "shape[0] is not a size"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], "
         "\"data_offsets\": [0, 4]}}", "9 dimensions"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1e300], \"data_offsets\": [0, 4]}}",
         "shape[0] is not a size"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], "
         "\"data_offsets\": [0, 4]}}", "needs more bytes than the data"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}",
         "data_offsets must be"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}",
         "outside the data"},
        {"{\"t\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}",
         "no architecture"}, /* a scalar is fine; the missing architecture is not */
        {"{}", "the data has 4 bytes but the header lists no tensors"},
    };
    const unsigned char data[4] = {0, 0, 128, 63};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        blob f = make_file(cases[i][0], data, 4);
        expect_fail(f.b, f.n, NNL_ERR_FORMAT, cases[i][1]);
        free(f.b);
    }
}

static void test_bad_tensors(void **state)
{
    (void)state;
    blob f = valid_file();
    const unsigned char *data;
    size_t ndata;

    /* wrong dtype */
    cJSON *j = header_of(&f, &data, &ndata);
    cJSON *t = cJSON_GetObjectItem(j, "layers.1.dense.kernel");
    cJSON_ReplaceItemInObject(t, "dtype", cJSON_CreateString("F16"));
    blob g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "'layers.1.dense.kernel' has dtype F16");
    free(g.b);
    cJSON_Delete(j);

    /* offsets outside the data */
    j = header_of(&f, &data, &ndata);
    set_offsets(j, "layers.1.dense.bias", (double)ndata, (double)ndata + 32);
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "'layers.1.dense.bias': data_offsets");
    free(g.b);
    cJSON_Delete(j);

    /* overlapping: the Adam v of the kernel on top of its m */
    j = header_of(&f, &data, &ndata);
    cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "optimizer.layers.1.dense.kernel.m"),
                                   "data_offsets");
    set_offsets(j, "optimizer.layers.1.dense.kernel.v", cJSON_GetArrayItem(m, 0)->valuedouble,
                cJSON_GetArrayItem(m, 1)->valuedouble);
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "overlap");
    free(g.b);
    cJSON_Delete(j);

    /* moved back by 4 bytes: overlaps the one before */
    j = header_of(&f, &data, &ndata);
    m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "layers.1.dense.bias"), "data_offsets");
    set_offsets(j, "layers.1.dense.bias", cJSON_GetArrayItem(m, 0)->valuedouble - 4,
                cJSON_GetArrayItem(m, 1)->valuedouble - 4);
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "tensors 'layers.1.dense.kernel' and "
                "'layers.1.dense.bias' overlap");
    free(g.b);
    cJSON_Delete(j);

    /* moved forward by 4 bytes: leaves a hole */
    j = header_of(&f, &data, &ndata);
    m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "layers.1.dense.bias"), "data_offsets");
    set_offsets(j, "layers.1.dense.bias", cJSON_GetArrayItem(m, 0)->valuedouble + 4,
                cJSON_GetArrayItem(m, 1)->valuedouble + 4);
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "belong to no tensor");
    free(g.b);
    cJSON_Delete(j);

    /* shape and offsets disagree */
    j = header_of(&f, &data, &ndata);
    t = cJSON_GetObjectItem(j, "layers.1.dense.kernel");
    cJSON *sh = cJSON_CreateArray();
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(6));
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(9));
    cJSON_ReplaceItemInObject(t, "shape", sh);
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "'layers.1.dense.kernel': shape [6, 9] needs 216 bytes");
    free(g.b);
    cJSON_Delete(j);

    /* a consistent tensor of the wrong shape for the layer */
    j = header_of(&f, &data, &ndata);
    t = cJSON_GetObjectItem(j, "layers.1.dense.kernel");
    sh = cJSON_CreateArray();
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(8));
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(6));
    cJSON_ReplaceItemInObject(t, "shape", sh);
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "has shape [8, 6] but layer 2 (Dense");
    free(g.b);
    cJSON_Delete(j);

    /* a hole: the last tensor dropped from the header, its bytes kept */
    j = header_of(&f, &data, &ndata);
    cJSON_DeleteItemFromObject(j, "optimizer.layers.6.dense.bias.v");
    g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "bytes after the last tensor");
    free(g.b);
    cJSON_Delete(j);

    /* missing tensors: a weight, an optimizer slot */
    const char *missing[] = {"layers.1.dense.bias", "layers.2.batch_normalization.moving_mean",
                             "optimizer.layers.4.dense.kernel.v"};
    for (size_t i = 0; i < 3; i++) {
        j = header_of(&f, &data, &ndata);
        cJSON_DeleteItemFromObject(j, missing[i]);
        g = rebuild(j, data, 1);
        char want[160];
        snprintf(want, sizeof want, "tensor '%s' is missing", missing[i]);
        expect_fail(g.b, g.n, NNL_ERR_FORMAT, want);
        free(g.b);
        cJSON_Delete(j);
    }

    /* an extra tensor */
    j = header_of(&f, &data, &ndata);
    cJSON *copy = cJSON_Duplicate(cJSON_GetObjectItem(j, "layers.1.dense.bias"), 1);
    cJSON_AddItemToObject(j, "layers.1.dense.extra", copy);
    g = rebuild(j, data, 1);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "'layers.1.dense.extra' is not part of the model");
    free(g.b);
    cJSON_Delete(j);
    free(f.b);
}

static void test_bad_metadata(void **state)
{
    (void)state;
    blob f = valid_file();
    const unsigned char *data;
    size_t ndata;
    struct { const char *key, *from, *to, *msg; } cases[] = {
        {"architecture", "\"class\":\"Dropout\"", "\"class\":\"Lambda\"",
         "unknown layer kind 'Lambda'"},
        {"architecture", "\"class\":\"Sequential\"", "\"class\":\"Functional\"",
         "class 'Functional'"},
        {"architecture", "\"units\":8", "\"units\":0", "units must be an integer in 1..2147483647, got 0"},
        {"architecture", "\"units\":8", "\"units\":\"8\"", "'units' must be a whole number"},
        {"architecture", "\"rate\":0.25", "\"rate\":1.5", "rate must be in [0, 1)"},
        {"architecture", "\"momentum\":0.9", "\"momentum\":-1", "momentum must be in"},
        {"architecture", "\"activation\":\"relu\"", "\"activation\":\"os.execute\"",
         "unknown activation 'os.execute'"},
        {"architecture", "\"kernel_initializer\":\"glorot_uniform\"",
         "\"kernel_initializer\":\"nope\"", "unknown initializer 'nope'"},
        {"architecture", "\"input_shape\":[2,3]", "\"input_shape\":[2,0]",
         "input_shape[2] must be"},
        {"architecture", "\"input_shape\":[2,3]", "\"input_shape\":[3,3]",
         "tensor 'layers.1.dense.kernel' has shape [6, 8] but layer 2"},
        {"architecture", "\"layers\":[", "\"layers\":[{\"class\":\"Dense\"},", "units"},
        {"architecture", "{", "[", "not valid JSON"},
        {"compile", "\"loss\":\"binary_crossentropy\"", "\"loss\":\"hinge\"",
         "unknown loss 'hinge'"},
        {"compile", "\"name\":\"adam\"", "\"name\":\"lbfgs\"", "unknown optimizer 'lbfgs'"},
        {"compile", "\"learning_rate\":0.01", "\"learning_rate\":-1", "lr must be > 0"},
        {"compile", "\"accuracy\"", "\"auc\"", "auc"},
        {"training", "\"optimizer_slots\":", "\"optimizer_slots\":1", "optimizer_slots is"},
        {"training", "\"layer\":3", "\"layer\":2", "which has no generator of its own"},
        {"training", "\"layer\":3", "\"layer\":99", "dropout_rng entry"},
        {"format_version", "2", "3", "newer than this nnlua reads"},
        {"format_version", "2", "x", "is not a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = header_of(&f, &data, &ndata);
        edit_meta(j, cases[i].key, cases[i].from, cases[i].to);
        blob g = rebuild_same(j, &f);
        expect_fail(g.b, g.n, NNL_ERR_FORMAT, cases[i].msg);
        free(g.b);
        cJSON_Delete(j);
    }

    /* no architecture: a plain safetensors file */
    cJSON *j = header_of(&f, &data, &ndata);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(j, "__metadata__"), "architecture");
    blob g = rebuild_same(j, &f);
    expect_fail(g.b, g.n, NNL_ERR_FORMAT, "no architecture");
    free(g.b);
    cJSON_Delete(j);
    free(f.b);
}

/* Weights and architecture only (no compile settings, no optimizer
 * tensors, as another tool might write): an uncompiled model with the same
 * weights. */
static void test_weights_only_file(void **state)
{
    (void)state;
    blob f = valid_file();
    const unsigned char *data;
    size_t ndata;
    nnl_error err;
    nnl_model *full = nnl_modelfile_load_mem(f.b, f.n, "full", NULL, &err);
    assert_non_null(full);
    cJSON *j = header_of(&f, &data, &ndata);
    cJSON *meta = cJSON_GetObjectItem(j, "__metadata__");
    cJSON_DeleteItemFromObject(meta, "compile");
    cJSON_DeleteItemFromObject(meta, "training");
    cJSON_DeleteItemFromObject(meta, "format");
    cJSON_DeleteItemFromObject(meta, "format_version");
    for (cJSON *e = j->child; e;) {
        cJSON *next = e->next;
        if (strncmp(e->string, "optimizer.", 10) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(j, e));
        e = next;
    }
    blob g = rebuild(j, data, 1);
    nnl_model *m = nnl_modelfile_load_mem(g.b, g.n, "weights", NULL, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_false(m->compiled);
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            assert_same_floats(m->layers[i]->params[p].w, full->layers[i]->params[p].w,
                               m->layers[i]->params[p].n);
    nnl_model_free(m);
    nnl_model_free(full);
    free(g.b);
    cJSON_Delete(j);
    free(f.b);
}

/* ---- failing saves ---------------------------------------------------------- */

static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void test_failed_save_keeps_old_file(void **state)
{
    (void)state;
    char dir[512], path[600];
    path_in_tmp(dir, sizeof dir, "keep");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    nnl_model *small = every_kind_model(1, NNL_OPT_SGD, 0);
    save_ok(small, path, 0);
    blob before = read_all(path);

    /* a big model against a file size limit (a full disk, as far as the
     * writer can tell) */
    nnl_error err;
    nnl_model *big = nnl_model_new(&err);
    nnl_layer *l = dense(512, NNL_ACT_RELU, 1);
    nnl_shape in = {1, {256, 0, 0, 0}};
    assert_int_equal(nnl_layer_set_input_shape(l, &in, &err), NNL_OK);
    add(big, l);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nnl_status st = nnl_modelfile_save(big, path, NULL, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot write"));
    blob after = read_all(path);
    assert_int_equal(before.n, after.n);
    assert_memory_equal(before.b, after.b, before.n);
    free(after.b);
    assert_int_equal(count_tmp_files(dir), 0);

    /* a folder that does not exist */
    char nowhere[700];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/folder/m.safetensors", dir);
    assert_int_equal(nnl_modelfile_save(small, nowhere, NULL, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot create"));

    /* a read-only folder (root may write anyway: then the save succeeds) */
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0555), 0);
        assert_int_equal(nnl_modelfile_save(big, path, NULL, &err), NNL_ERR_IO);
        assert_int_equal(chmod(dir, 0755), 0);
        after = read_all(path);
        assert_int_equal(before.n, after.n);
        assert_memory_equal(before.b, after.b, before.n);
        free(after.b);
    }
    assert_int_equal(count_tmp_files(dir), 0);

    /* the old file is replaced by a good save */
    save_ok(big, path, 0);
    nnl_model *back = load_ok(path, NULL);
    assert_same_model(big, back);
    nnl_model_free(back);

    /* loading errors that are not format errors */
    assert_null(nnl_modelfile_load(nowhere, NULL, &err));
    assert_int_equal(err.code, NNL_ERR_IO);
    assert_null(nnl_modelfile_load(dir, NULL, &err));
    assert_int_equal(err.code, NNL_ERR_IO);

    unlink(path);
    rmdir(dir);
    free(before.b);
    nnl_model_free(small);
    nnl_model_free(big);
}

/* Every allocation of a save and of a load fails in turn: each failure is
 * NNL_ERR_NOMEM naming the file, frees everything it took, leaves the old
 * file as it was and no temporary behind; then the call succeeds. */
static void test_out_of_memory_in_save_and_load(void **state)
{
    (void)state;
    char dir[512], path[600];
    path_in_tmp(dir, sizeof dir, "oom");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    nnl_model *m = every_kind_model(3, NNL_OPT_ADAM, 0);
    nnl_tensor *x = rand_tensor(16, 6), *y = rand_tensor(16, 1);
    x->ndim = 3; /* 16 x 2 x 3 */
    x->shape[1] = 2;
    x->shape[2] = 3;
    for (size_t i = 0; i < 16; i++)
        y->data[i] = y->data[i] > 0.5f;
    fit(m, x, y, 1); /* optimizer slots exist: they are saved too */
    nnl_model *old = every_kind_model(4, -1, 0);
    save_ok(old, path, 0);
    blob before = read_all(path);
    size_t live = nnl_alloc_live();
    nnl_error err;
    int failures = 0;
    for (long n = 0; n < 1000; n++) {
        nnl_alloc_fail_after(n);
        nnl_status st = nnl_modelfile_save(m, path, NULL, &err);
        nnl_alloc_fail_reset();
        if (st == NNL_OK)
            break;
        failures++;
        assert_int_equal(st, NNL_ERR_NOMEM);
        assert_int_equal(nnl_alloc_live(), live);
        blob after = read_all(path);
        assert_int_equal(before.n, after.n);
        assert_memory_equal(before.b, after.b, before.n);
        free(after.b);
        assert_int_equal(count_tmp_files(dir), 0);
    }
    assert_true(failures > 0);
    blob saved = read_all(path);
    int load_failures = 0;
    for (int from_file = 0; from_file < 2; from_file++)
        for (long n = 0; n < 10000; n++) {
            nnl_alloc_fail_after(n);
            nnl_model *back = from_file ? nnl_modelfile_load(path, NULL, &err)
                                        : nnl_modelfile_load_mem(saved.b, saved.n, "mem.st",
                                                                 NULL, &err);
            nnl_alloc_fail_reset();
            if (back) {
                assert_same_model(m, back);
                nnl_model_free(back);
                break;
            }
            load_failures++;
            assert_int_equal(err.code, NNL_ERR_NOMEM);
            if (!strstr(err.msg, from_file ? path : "mem.st"))
                fail_msg("allocation %ld: '%s' does not name the file", n, err.msg);
            assert_int_equal(nnl_alloc_live(), live);
        }
    assert_true(load_failures > 10);
    free(saved.b);
    free(before.b);
    unlink(path);
    rmdir(dir);
    nnl_model_free(m);
    nnl_model_free(old);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl_modelfile_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"rt.safetensors", "plain.safetensors", "valid.safetensors"};
    for (size_t i = 0; i < 3; i++) {
        char p[512];
        path_in_tmp(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    nnl_gemm_release_workspace();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_optimizer),
        cmocka_unit_test(test_uncompiled_and_unbuilt),
        cmocka_unit_test(test_valid_file_loads_from_memory),
        cmocka_unit_test(test_truncated_anywhere),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_tensors),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_weights_only_file),
        cmocka_unit_test(test_failed_save_keeps_old_file),
        cmocka_unit_test(test_out_of_memory_in_save_and_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
