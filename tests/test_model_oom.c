/* Out-of-memory walks of the model API: model creation, compile, fit,
 * predict, evaluate, save and load run with the allocator failing its
 * k-th allocation and every one after it (core/alloc.h's hook), for
 * k = 0, 1, 2, ... until the operation succeeds with no failure left to
 * inject. Each failed run must return an error status with a message,
 * free everything it allocated (live allocation count, and LeakSanitizer
 * in the ASan build), and leave its objects as they were: a failed compile
 * leaves the model compiled as before, a failed fit leaves finite weights
 * and a model that fits again, a failed save leaves the old file and no
 * temporary, a failed load leaves nothing.
 *
 * cJSON (model file headers) allocates through its own hooks: the save
 * and load walks are run a second time failing cJSON's k-th allocation.
 *
 * The walk lengths are printed (tests/README or docs/building.md). */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "model/fit.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/modelfile.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

/* ---- cJSON's allocations, with a failing countdown like nnl_alloc's:
 * the k-th fails and then every one after it, or (cj_single) the k-th
 * only, so code that goes on after an unchecked failure is seen. ---- */
static long cj_countdown = -1;
static int cj_single, cj_fired;
static void *cj_malloc(size_t n)
{
    if (cj_countdown == 0) {
        cj_fired = 1;
        if (cj_single)
            cj_countdown = -1;
        return NULL;
    }
    if (cj_countdown > 0)
        cj_countdown--;
    return malloc(n);
}
static void cj_free(void *p) { free(p); }

enum { HOOK_NNL, HOOK_CJSON, HOOK_CJSON_SINGLE };
static const char *const hook_names[] = {"nnl", "cjson", "cjson1"};
static void arm(int which, long k)
{
    if (which == HOOK_NNL) {
        nnl_alloc_fail_after(k);
    } else {
        cj_countdown = k;
        cj_single = which == HOOK_CJSON_SINGLE;
        cj_fired = 0;
    }
}
static void disarm(void)
{
    nnl_alloc_fail_reset();
    cj_countdown = -1;
}

/* ---- the objects the operations work on ---- */
static nnl_model *M;          /* the model of the current run */
static nnl_tensor *X, *Y;     /* 16 x 3 inputs, 16 class indices 1..3 */
static nnl_tensor *XV, *YV;   /* validation data, 4 rows */
static char dir[256], path[320];
static nnl_tensor *ref_pred;  /* predictions of the model before the op */
static double ref_loss;

static nnl_layer *dense(size_t units, int act, size_t input_dim, nnl_error *err)
{
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    o.act = act;
    nnl_layer *l = nnl_dense_new(units, &o, err);
    if (l && input_dim) {
        nnl_shape s = {1, {input_dim, 0, 0, 0}};
        if (nnl_layer_set_input_shape(l, &s, err) != NNL_OK) {
            nnl_layer_free(l);
            return NULL;
        }
    }
    return l;
}

/* Adds l (NULL: its constructor failed, err is filled) to m. On failure
 * the model must be as before (same layer count) and the layer the
 * caller's: it is freed here. */
static nnl_status add_checked(nnl_model *m, nnl_layer *l, nnl_error *err)
{
    if (!l)
        return err->code;
    size_t before = m->nlayers;
    int built = m->built;
    nnl_status st = nnl_model_add(m, l, err);
    if (st != NNL_OK) {
        assert_int_equal(m->nlayers, before);
        assert_int_equal(m->built, built);
        nnl_layer_free(l);
    }
    return st;
}

/* Bugs recorded in /work/notes/bugs-hostile.md whose fix is under way in
 * files this test's author does not own: the walks avoid the path while
 * the flag is 1 (and say so). Set to 0 when the bug is fixed. */
#define KNOWN_H4_FIRST_LAYER_ADD 0 /* a failed build in the first add frees twice */
#define KNOWN_H5_LOAD_OOM_AS_FORMAT 0 /* cJSON out of memory is "not valid JSON" */
#define KNOWN_H6_SAVE_CJSON_LEAKS 0   /* failed cJSON_AddItemToObject leaks the item */

#if KNOWN_H6_SAVE_CJSON_LEAKS
/* LeakSanitizer: ignore the leaks of H6 only (every other leak still fails). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    /* cJSON_CreateRaw: the metadata strings of add_json_string, whose stacks
     * LeakSanitizer cannot walk through libcjson. */
    return "leak:make_header\nleak:nnl_modelfile_save\nleak:cJSON_CreateRaw\n";
}
#endif

/* Dense(8, relu, input 3) -> BatchNormalization -> Dropout(0.25) ->
 * Dense(3, softmax): every layer kind that allocates. */
static nnl_model *make_model(nnl_error *err)
{
    nnl_model *m = nnl_model_new(err);
    if (!m)
        return NULL;
    nnl_status st;
    if (KNOWN_H4_FIRST_LAYER_ADD) {
        /* The same model, built by nnl_model_build after the adds. */
        nnl_shape in = {1, {3, 0, 0, 0}};
        if ((st = add_checked(m, dense(8, NNL_ACT_RELU, 0, err), err)) != NNL_OK ||
            (st = add_checked(m, nnl_batchnorm_new(NULL, err), err)) != NNL_OK ||
            (st = add_checked(m, nnl_dropout_new(0.25f, err), err)) != NNL_OK ||
            (st = add_checked(m, dense(3, NNL_ACT_SOFTMAX, 0, err), err)) != NNL_OK ||
            (st = nnl_model_build(m, &in, err)) != NNL_OK) {
            if (m->nlayers) /* a failed build leaves the layers unbuilt */
                assert_false(m->built);
            nnl_model_free(m);
            return NULL;
        }
        return m;
    }
    if ((st = add_checked(m, dense(8, NNL_ACT_RELU, 3, err), err)) != NNL_OK ||
        (st = add_checked(m, nnl_batchnorm_new(NULL, err), err)) != NNL_OK ||
        (st = add_checked(m, nnl_dropout_new(0.25f, err), err)) != NNL_OK ||
        (st = add_checked(m, dense(3, NNL_ACT_SOFTMAX, 0, err), err)) != NNL_OK) {
        nnl_model_free(m);
        return NULL;
    }
    return m;
}

static nnl_status compile(nnl_model *m, int opt, nnl_error *err)
{
    nnl_optim_config c;
    nnl_optim_defaults(&c, opt);
    const char *ms[] = {"accuracy"};
    return nnl_model_compile(m, NNL_LOSS_SCCE, ms, 1, &c, err);
}

static nnl_status fit(nnl_model *m, nnl_history *h, nnl_error *err)
{
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = 2;
    o.batch_size = 4;
    o.val_x = XV;
    o.val_y = YV;
    return nnl_model_fit(m, X, Y, &o, NULL, h, err);
}

static void make_data(void)
{
    nnl_error err;
    X = nnl_tensor_new2(16, 3, &err);
    Y = nnl_tensor_new1(16, &err);
    XV = nnl_tensor_new2(4, 3, &err);
    YV = nnl_tensor_new1(4, &err);
    assert_true(X && Y && XV && YV);
    nnl_tensor_rand(X);
    nnl_tensor_rand(XV);
    for (size_t i = 0; i < 16; i++)
        Y->data[i] = (float)(1 + i % 3);
    for (size_t i = 0; i < 4; i++)
        YV->data[i] = (float)(1 + (i + 1) % 3);
}

static int weights_finite(const nnl_model *m)
{
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            for (size_t j = 0; j < m->layers[i]->params[p].n; j++)
                if (!isfinite(m->layers[i]->params[p].w[j]))
                    return 0;
    return 1;
}

/* Files in dir (the temporary folder of save and load). */
static int count_files(const char *prefix_skip)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && (!prefix_skip || strcmp(e->d_name, prefix_skip) != 0))
            n++;
    closedir(d);
    return n;
}

static void remove_files(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
}

static nnl_tensor *predict_ok(nnl_model *m)
{
    nnl_error err;
    nnl_tensor *t = nnl_model_predict(m, X, 5, &err);
    assert_non_null(t);
    return t;
}

static void assert_same_tensor(const nnl_tensor *a, const nnl_tensor *b)
{
    assert_int_equal(a->numel, b->numel);
    assert_memory_equal(a->data, b->data, a->numel * sizeof(float));
}

/* ---- one walk ---- */
typedef struct walk_case {
    const char *name;
    int expect_nomem;                 /* the failure is reported as NNL_ERR_NOMEM */
    void (*setup)(void);              /* makes M etc. (no failures injected) */
    nnl_status (*op)(nnl_error *err); /* the operation under test */
    void (*after_fail)(void);         /* checks the objects after a failed op */
    void (*after_ok)(void);           /* checks after success */
    void (*teardown)(void);
} walk_case;

/* Returns the number of failing runs (HOOK_CJSON_SINGLE: of runs with a
 * failure injected, which may succeed: then after_ok checks the result). */
static long walk(const walk_case *c, int which)
{
    long failed_runs = 0;
    for (long k = 0; k < 1000000; k++) {
        nnl_gemm_release_workspace();
        long base = nnl_alloc_live();
        c->setup();
        nnl_gemm_release_workspace();
        nnl_error err;
        nnl_error_clear(&err);
        arm(which, k);
        nnl_status st = c->op(&err);
        int fired = cj_fired;
        disarm();
        int single = which == HOOK_CJSON_SINGLE;
        if (st == NNL_OK) {
            if (c->after_ok)
                c->after_ok();
            c->teardown();
            nnl_gemm_release_workspace();
            assert_int_equal(nnl_alloc_live(), base);
            if (single && fired)
                continue; /* survived one failed allocation: checked, go on */
            printf("oom walk: %-28s %-6s %4ld failing runs, %4ld allocations walked\n",
                   c->name, hook_names[which], single ? failed_runs : k, k);
            return k;
        }
        failed_runs++;
        int nomem_ok = err.code == NNL_ERR_NOMEM ||
                       (KNOWN_H5_LOAD_OOM_AS_FORMAT && which != HOOK_NNL &&
                        err.code == NNL_ERR_FORMAT);
        if (err.msg[0] == '\0' || (c->expect_nomem && !nomem_ok))
            fail_msg("%s (%s), failing allocation %ld: status %d (%s), message '%s'",
                     c->name, hook_names[which], k, (int)st,
                     nnl_status_name(err.code), err.msg);
        assert_int_equal(st, err.code);
        if (getenv("NNLUA_OOM_VERBOSE"))
            printf("oom walk: %s %s k=%ld: %s: %s\n", c->name, hook_names[which], k,
                   nnl_status_name(err.code), err.msg);
        if (c->after_fail)
            c->after_fail();
        c->teardown();
        nnl_gemm_release_workspace();
        if (nnl_alloc_live() != base)
            fail_msg("%s, failing allocation %ld: %ld allocations leaked (error was '%s')",
                     c->name, k, nnl_alloc_live() - base, err.msg);
    }
    fail_msg("%s never succeeded", c->name);
    return -1;
}

/* ---- the cases ---- */
static void no_setup(void) { M = NULL; }
static void free_model(void)
{
    nnl_model_free(M);
    M = NULL;
    nnl_tensor_free(ref_pred);
    ref_pred = NULL;
}

/* create */
static nnl_status op_create(nnl_error *err)
{
    M = make_model(err);
    return M ? NNL_OK : err->code;
}
static void create_failed(void) { assert_null(M); }

/* compile: the model is compiled with SGD before; a failed compile with
 * Adam leaves it compiled with SGD and able to fit. */
static void setup_compiled_sgd(void)
{
    nnl_error err;
    M = make_model(&err);
    assert_non_null(M);
    assert_int_equal(compile(M, NNL_OPT_SGD, &err), NNL_OK);
}
static nnl_status op_compile(nnl_error *err) { return compile(M, NNL_OPT_ADAM, err); }
static void fit_works(void)
{
    nnl_error err;
    nnl_history h;
    assert_true(weights_finite(M));
    nnl_status st = fit(M, &h, &err);
    if (st != NNL_OK)
        fail_msg("fit after the failed operation: %s", err.msg);
    assert_int_equal(h.nepochs, 2);
    assert_true(weights_finite(M));
    nnl_history_free(&h);
}
static void compile_failed(void)
{
    assert_true(M->compiled);
    assert_int_equal(M->opt->cfg.kind, NNL_OPT_SGD);
    fit_works();
}

/* fit */
static void setup_compiled(void)
{
    nnl_error err;
    nnl_rng_global_seed(11); /* the same model every run */
    M = make_model(&err);
    assert_non_null(M);
    assert_int_equal(compile(M, NNL_OPT_ADAM, &err), NNL_OK);
}
static nnl_history fit_hist;
static nnl_status op_fit(nnl_error *err)
{
    nnl_status st = fit(M, &fit_hist, err);
    nnl_history_free(&fit_hist);
    return st;
}
static void fit_failed(void) { fit_works(); }

/* predict: the same predictions as before once memory is back */
/* The reference comes from a twin of the model (same seed), so the model
 * under test has no buffers yet: predict must allocate them. */
static void setup_predict(void)
{
    setup_compiled();
    ref_pred = predict_ok(M);
    nnl_model_free(M);
    setup_compiled();
    nnl_gemm_release_workspace();
}
static nnl_tensor *pred_out;
static nnl_status op_predict(nnl_error *err)
{
    pred_out = nnl_model_predict(M, X, 5, err);
    return pred_out ? NNL_OK : err->code;
}
static void predict_failed(void)
{
    assert_null(pred_out);
    nnl_tensor *t = predict_ok(M);
    assert_same_tensor(t, ref_pred);
    nnl_tensor_free(t);
}
static void predict_ok_check(void)
{
    assert_same_tensor(pred_out, ref_pred);
    nnl_tensor_free(pred_out);
    pred_out = NULL;
}

/* evaluate */
static void setup_evaluate(void)
{
    setup_compiled();
    nnl_error err;
    nnl_logs logs;
    assert_int_equal(nnl_model_evaluate(M, X, Y, 5, &logs, &err), NNL_OK);
    ref_loss = logs.values[0];
    nnl_model_free(M);
    setup_compiled(); /* a twin without buffers */
    nnl_gemm_release_workspace();
}
static nnl_logs eval_logs;
static nnl_status op_evaluate(nnl_error *err)
{
    return nnl_model_evaluate(M, X, Y, 5, &eval_logs, err);
}
static void evaluate_again(void)
{
    nnl_error err;
    nnl_logs logs;
    assert_int_equal(nnl_model_evaluate(M, X, Y, 5, &logs, &err), NNL_OK);
    assert_true(logs.values[0] == ref_loss);
}
static void evaluate_ok_check(void) { assert_true(eval_logs.values[0] == ref_loss); }

/* save: over an existing file, which must survive a failed save intact,
 * with no temporary left in the folder */
static unsigned char *old_bytes;
static long old_size;
static unsigned char *read_all(const char *p, long *size)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*size + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return b;
}
static void setup_save(void)
{
    remove_files();
    nnl_error err;
    /* The old file: another model. */
    nnl_model *old = make_model(&err);
    assert_non_null(old);
    assert_int_equal(nnl_modelfile_save(old, path, NULL, &err), NNL_OK);
    nnl_model_free(old);
    free(old_bytes);
    old_bytes = read_all(path, &old_size);
    assert_non_null(old_bytes);
    setup_compiled();
    nnl_history h;
    assert_int_equal(fit(M, &h, &err), NNL_OK); /* optimizer state to save too */
    nnl_history_free(&h);
}
static nnl_status op_save(nnl_error *err) { return nnl_modelfile_save(M, path, NULL, err); }
static void save_failed(void)
{
    long size;
    unsigned char *now = read_all(path, &size);
    assert_non_null(now);
    assert_int_equal(size, old_size);
    assert_memory_equal(now, old_bytes, (size_t)size);
    free(now);
    if (count_files(NULL) != 1)
        fail_msg("a failed save left %d files in %s (a temporary?)", count_files(NULL), dir);
}
static void save_ok_check(void)
{
    assert_int_equal(count_files(NULL), 1);
    nnl_error err;
    nnl_model *m = nnl_modelfile_load(path, NULL, &err);
    if (!m)
        fail_msg("save reported success but the file does not load: %s", err.msg);
    nnl_tensor *a = predict_ok(M), *b = predict_ok(m);
    assert_same_tensor(a, b);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
    nnl_model_free(m);
}

/* load: a failed load leaves nothing (the live count) */
static void setup_load(void)
{
    remove_files();
    setup_compiled();
    nnl_error err;
    nnl_history h;
    assert_int_equal(fit(M, &h, &err), NNL_OK);
    nnl_history_free(&h);
    assert_int_equal(nnl_modelfile_save(M, path, NULL, &err), NNL_OK);
    ref_pred = predict_ok(M);
    nnl_gemm_release_workspace();
}
static nnl_model *loaded;
static nnl_status op_load(nnl_error *err)
{
    loaded = nnl_modelfile_load(path, NULL, err);
    return loaded ? NNL_OK : err->code;
}
static void load_failed(void) { assert_null(loaded); }
static void load_ok_check(void)
{
    nnl_tensor *t = predict_ok(loaded);
    assert_same_tensor(t, ref_pred);
    nnl_tensor_free(t);
    /* and it trains on from its optimizer state */
    nnl_model *keep = M;
    M = loaded;
    fit_works();
    M = keep;
    nnl_model_free(loaded);
    loaded = NULL;
}

static const walk_case cases[] = {
    {"create (4 layers)", 1, no_setup, op_create, create_failed, NULL, free_model},
    {"compile (sgd -> adam)", 1, setup_compiled_sgd, op_compile, compile_failed, NULL,
     free_model},
    {"fit (2 epochs, validation)", 1, setup_compiled, op_fit, fit_failed, fit_works,
     free_model},
    {"predict", 1, setup_predict, op_predict, predict_failed, predict_ok_check, free_model},
    {"evaluate", 1, setup_evaluate, op_evaluate, evaluate_again, evaluate_ok_check,
     free_model},
    {"save (over a file)", 1, setup_save, op_save, save_failed, save_ok_check, free_model},
    {"load", 1, setup_load, op_load, load_failed, load_ok_check, free_model},
};

static int group_setup(void **state)
{
    (void)state;
    cJSON_Hooks hooks = {cj_malloc, cj_free};
    cJSON_InitHooks(&hooks);
    nnl_rng_global_seed(7);
    if (KNOWN_H4_FIRST_LAYER_ADD)
        printf("oom walk: known bug H4: the first layer gets its input shape from "
               "nnl_model_build, not input_dim\n");
    make_data();
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nnlua-oom-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    /* Warm-up (thread pool, kernels) so the walks see only the operation. */
    nnl_error err;
    nnl_model *m = make_model(&err);
    assert_non_null(m);
    assert_int_equal(compile(m, NNL_OPT_ADAM, &err), NNL_OK);
    nnl_history h;
    assert_int_equal(fit(m, &h, &err), NNL_OK);
    nnl_history_free(&h);
    nnl_model_free(m);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    remove_files();
    rmdir(dir);
    nnl_tensor_free(X);
    nnl_tensor_free(Y);
    nnl_tensor_free(XV);
    nnl_tensor_free(YV);
    free(old_bytes);
    nnl_gemm_release_workspace();
    cJSON_InitHooks(NULL);
    return 0;
}

static void run_case(int i, int which)
{
    disarm(); /* a failed case longjmps out with the hook armed */
    long k = walk(&cases[i], which);
    assert_true(k >= 0);
}

static void test_create(void **s) { (void)s; run_case(0, HOOK_NNL); }
static void test_compile(void **s) { (void)s; run_case(1, HOOK_NNL); }
static void test_fit(void **s) { (void)s; run_case(2, HOOK_NNL); }
/* A reserve for a larger batch that runs out of memory (a predict with a
 * huge batch from a fit callback) must leave the model's buffers as they
 * were: fit goes on using them after the callback returns. Every failure
 * point of the reserve, then the forward and backward pass the old
 * buffers must still serve. */
static void test_reserve_keeps_buffers(void **s)
{
    (void)s;
    nnl_error err;
    nnl_model *m = make_model(&err);
    assert_non_null(m);
    assert_int_equal(compile(m, NNL_OPT_ADAM, &err), NNL_OK);
    assert_int_equal(nnl_model_reserve(m, 4, 1, &err), NNL_OK);
    float **acts = m->acts, *a0 = m->acts[0], *g1 = m->grads[1], *yb = m->ybuf;
    int failed = 0;
    for (long k = 0;; k++) {
        long live = nnl_alloc_live();
        nnl_alloc_fail_after(k);
        nnl_status st = nnl_model_reserve(m, 64, 1, &err);
        nnl_alloc_fail_reset();
        if (st == NNL_OK)
            break;
        failed++;
        assert_int_equal(st, NNL_ERR_NOMEM);
        assert_int_equal(nnl_alloc_live(), live);
        assert_int_equal(m->batch_cap, 4);
        assert_ptr_equal(m->acts, acts);
        assert_ptr_equal(m->acts[0], a0);
        assert_ptr_equal(m->grads[1], g1);
        assert_ptr_equal(m->ybuf, yb);
        memcpy(m->acts[0], X->data, 4 * 3 * sizeof(float));
        for (size_t i = 0; i < 4; i++)
            m->ybuf[i] = Y->data[i];
        double loss;
        assert_int_equal(nnl_model_compute_grads(m, 4, 1, &loss, &err), NNL_OK);
        assert_true(isfinite(loss));
    }
    assert_true(failed >= 4); /* the tables, the activations, the gradients, a layer */
    assert_int_equal(m->batch_cap, 64);
    nnl_model_free(m);
}

static void test_predict(void **s) { (void)s; run_case(3, HOOK_NNL); }
static void test_evaluate(void **s) { (void)s; run_case(4, HOOK_NNL); }
static void test_save(void **s) { (void)s; run_case(5, HOOK_NNL); }
static void test_load(void **s) { (void)s; run_case(6, HOOK_NNL); }
static void test_save_cjson(void **s) { (void)s; run_case(5, HOOK_CJSON); }
static void test_load_cjson(void **s) { (void)s; run_case(6, HOOK_CJSON); }
static void test_save_cjson_single(void **s)
{
    (void)s;
    if (KNOWN_H6_SAVE_CJSON_LEAKS) {
        printf("oom walk: known bug H6: save with one failed cJSON allocation reports "
               "success and writes a file that does not load: skipped\n");
        skip();
    }
    run_case(5, HOOK_CJSON_SINGLE);
}
static void test_load_cjson_single(void **s) { (void)s; run_case(6, HOOK_CJSON_SINGLE); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),   cmocka_unit_test(test_compile),
        cmocka_unit_test(test_fit),      cmocka_unit_test(test_predict),
        cmocka_unit_test(test_evaluate), cmocka_unit_test(test_save),
        cmocka_unit_test(test_load),     cmocka_unit_test(test_save_cjson),
        cmocka_unit_test(test_load_cjson),     cmocka_unit_test(test_reserve_keeps_buffers),
        cmocka_unit_test(test_save_cjson_single), cmocka_unit_test(test_load_cjson_single),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
