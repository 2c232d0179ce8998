/* Sequential models: layers, building, compiling, buffers, one training
 * step, prediction and evaluation. The epoch loop is in fit.c. */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/rng.h"
#include "model/grad_sync.h"
#include "model/loss.h"
#include "simd/kernels.h"

nnl_model *nnl_model_new(nnl_error *err)
{
    nnl_model *m = nnl_calloc(1, sizeof *m);
    if (!m)
        nnl_fail(err, NNL_ERR_NOMEM, "out of memory for a model");
    else
        m->comm = nnl_comm_default();
    return m;
}

static void free_set(float **acts, size_t n, float *gbuf[2]);

static void free_buffers(nnl_model *m)
{
    free_set(m->acts, m->acts ? m->nlayers + 1 : 0, m->gbuf);
    nnl_free(m->grads);
    nnl_free(m->ybuf);
    m->acts = m->grads = NULL;
    m->gbuf[0] = m->gbuf[1] = NULL;
    m->ybuf = NULL;
    m->batch_cap = 0;
    m->ybuf_cap = 0;
}

void nnl_model_free(nnl_model *m)
{
    if (!m)
        return;
    free_buffers(m);
    for (size_t i = 0; i < m->nlayers; i++)
        nnl_layer_free(m->layers[i]);
    nnl_free(m->layers);
    nnl_optim_free(m->opt);
    nnl_free(m->sync_buf);
    nnl_free(m);
}

const nnl_shape *nnl_model_out_shape(const nnl_model *m)
{
    return m->nlayers ? &m->layers[m->nlayers - 1]->out_shape : &m->in_shape;
}

int nnl_model_busy(const nnl_model *m)
{
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i]->busy)
            return 1;
    return 0;
}

void nnl_model_set_busy(nnl_model *m, nnl_layer *l, int delta)
{
    if (!m) {
        l->busy += delta;
        return;
    }
    for (size_t i = 0; i < m->nlayers; i++)
        m->layers[i]->busy += delta;
}

#define BUSY_MSG "a loss, metric or layer function of the model cannot run, change or " \
                 "compile the model (it is in the middle of a step)"

nnl_status nnl_model_add(nnl_model *m, nnl_layer *l, nnl_error *err)
{
    if (nnl_model_busy(m))
        return nnl_fail(err, NNL_ERR_ARG, BUSY_MSG);
    /* Every check and build comes before the layer is stored, so a failed
     * add leaves the model as it was and the layer with its caller. */
    if (!m->built && m->nlayers > 0 && l->has_input_shape)
        return nnl_fail(err, NNL_ERR_ARG, "%s declares an input shape but only the "
                        "first layer may", l->name);
    if (m->nlayers == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        nnl_layer **ls = nnl_malloc(cap * sizeof *ls);
        if (!ls)
            return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the layer list");
        if (m->nlayers)
            memcpy(ls, m->layers, m->nlayers * sizeof *ls);
        nnl_free(m->layers);
        m->layers = ls;
        m->cap = cap;
    }
    int first_built = !m->built && m->nlayers == 0 && l->has_input_shape;
    if (m->built || first_built) {
        const nnl_shape *in = m->built ? nnl_model_out_shape(m) : &l->in_shape;
        nnl_status st = nnl_layer_build(l, in, nnl_rng_global(), err);
        if (st != NNL_OK)
            return st;
    }
    /* The buffers are per layer: drop them, reserve sizes them again. */
    free_buffers(m);
    if (m->nlayers)
        m->layers[m->nlayers - 1]->act_fused = 0;
    m->layers[m->nlayers++] = l;
    l->owner = m;
    m->compiled = 0;
    if (first_built) {
        m->in_shape = l->in_shape;
        m->built = 1;
    }
    return NNL_OK;
}

nnl_status nnl_model_build(nnl_model *m, const nnl_shape *in, nnl_error *err)
{
    if (m->nlayers == 0)
        return nnl_fail(err, NNL_ERR_ARG, "model has no layers: add some with model:add");
    const nnl_shape *cur = in;
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_status st = nnl_layer_build(m->layers[i], cur, nnl_rng_global(), err);
        if (st != NNL_OK) {
            /* Undo the layers built here: the model stays unbuilt, ready
             * for another input shape. An unbuilt model has no built
             * layers (add builds only into a built model). */
            for (size_t j = 0; j < i && !m->built; j++)
                nnl_layer_unbuild(m->layers[j]);
            return st;
        }
        cur = &m->layers[i]->out_shape;
    }
    m->in_shape = *in;
    m->built = 1;
    return NNL_OK;
}

void nnl_model_unbuild(nnl_model *m)
{
    free_buffers(m);
    for (size_t i = 0; i < m->nlayers; i++)
        nnl_layer_unbuild(m->layers[i]); /* a declared input shape stays */
    m->built = 0;
    memset(&m->in_shape, 0, sizeof m->in_shape);
}

/* Marks the last layer's activation as fused with the loss when they form
 * a stable pair (sigmoid + binary, softmax + categorical cross-entropy). */
static void set_fused(nnl_model *m)
{
    nnl_layer *last = m->layers[m->nlayers - 1];
    m->fused = last->ops->preact != NULL && last->act == nnl_loss_fused_act(m->loss);
    last->act_fused = m->fused;
}

nnl_status nnl_model_compile(nnl_model *m, int loss, const char *const *metrics,
                             size_t nmetrics, const nnl_optim_config *opt,
                             nnl_error *err)
{
    if (m->nlayers == 0)
        return nnl_fail(err, NNL_ERR_ARG, "the model has no layers");
    if (nnl_model_busy(m))
        return nnl_fail(err, NNL_ERR_ARG, BUSY_MSG);
    if (loss < 0 || loss > NNL_LOSS_CUSTOM)
        return nnl_fail(err, NNL_ERR_ARG, "unknown loss (valid: %s)",
                        nnl_loss_names());
    if (nmetrics > NNL_MODEL_MAX_METRICS)
        return nnl_fail(err, NNL_ERR_ARG, "at most %d metrics, got %zu",
                        NNL_MODEL_MAX_METRICS, nmetrics);
    nnl_metric ms[NNL_MODEL_MAX_METRICS];
    for (size_t i = 0; i < nmetrics; i++) {
        nnl_status st = nnl_metric_init(&ms[i], metrics[i], err);
        if (st != NNL_OK)
            return st;
        for (size_t j = 0; j < i; j++)
            if (strcmp(ms[j].name, ms[i].name) == 0)
                return nnl_fail(err, NNL_ERR_ARG, "metric '%s' listed twice",
                                ms[i].name);
    }
    nnl_optim *o = nnl_optim_new(opt, err);
    if (!o)
        return err ? err->code : NNL_ERR_ARG;
    nnl_optim_free(m->opt);
    m->opt = o;
    m->loss = loss;
    memcpy(m->metrics, ms, nmetrics * sizeof ms[0]);
    m->nmetrics = nmetrics;
    m->compiled = 1;
    set_fused(m);
    return NNL_OK;
}

/* Frees a set of batch buffers (acts has n entries; NULL entries are fine). */
static void free_set(float **acts, size_t n, float *gbuf[2])
{
    if (acts)
        for (size_t i = 0; i < n; i++)
            nnl_free(acts[i]);
    nnl_free(acts);
    nnl_free(gbuf[0]);
    nnl_free(gbuf[1]);
}

/* Which layers would absorb the next one in training steps
 * (ops->fuse_next; $NNLUA_FUSE=0: none), into each layer's fuse_want; says
 * whether that differs from the flags the gradient buffers are laid out
 * for (fuse_next). A fused pair is never part of another. */
static int plan_fusion(nnl_model *m)
{
    const char *env = getenv("NNLUA_FUSE");
    int on = !(env && strcmp(env, "0") == 0), changed = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_layer *l = m->layers[i];
        l->fuse_want = on && i + 1 < m->nlayers && l->ops->fuse_next &&
                       (i == 0 || !m->layers[i - 1]->fuse_want) &&
                       l->ops->fuse_next(l, m->layers[i + 1]);
        changed |= l->fuse_want != l->fuse_next;
    }
    return changed;
}

/* The gradient buffers of a batch for the flags fuse_want: grads[i] for
 * 1 <= i <= nlayers in two new buffers gbuf. The backward pass of layer i reads grads[i + 1] and writes
 * grads[i] (a fused pair i, i + 1 reads grads[i + 2] and writes grads[i];
 * grads[i + 1] is not used: NULL), and nothing reads a gradient after the
 * layer below has used it: two buffers, taken in turn down the gradients
 * that are used, each as large as its largest, hold them all. For the
 * Fashion-MNIST CNN that is 15 MB instead of 21 (docs/performance.md).
 * NNL_ERR_NOMEM: nothing allocated. The flags are the caller's to commit. */
static nnl_status grad_set(nnl_model *m, size_t batch, float **grads, float *gbuf[2])
{
    size_t gsize[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        int k = 0;
        for (size_t i = m->nlayers; i >= 1; i--) {
            if (m->layers[i - 1]->fuse_want) { /* the output of a pair's first layer */
                if (pass)
                    grads[i] = NULL;
                continue;
            }
            size_t sz = batch * nnl_shape_numel(&m->layers[i - 1]->out_shape);
            if (!pass && sz > gsize[k])
                gsize[k] = sz;
            if (pass)
                grads[i] = gbuf[k];
            k ^= 1;
        }
        if (!pass)
            for (int b = 0; b < 2; b++)
                if (gsize[b] && !(gbuf[b] = nnl_malloc(gsize[b] * sizeof(float)))) {
                    nnl_free(gbuf[0]);
                    gbuf[0] = gbuf[1] = NULL;
                    return NNL_ERR_NOMEM;
                }
    }
    return NNL_OK;
}

/* The flags the new gradient buffers are laid out for. */
static void commit_fusion(nnl_model *m)
{
    for (size_t i = 0; i < m->nlayers; i++)
        m->layers[i]->fuse_next = m->layers[i]->fuse_want;
}

/* Before a training step: after an instruction-set change (tests force
 * levels) or a change of $NNLUA_FUSE a pair may fuse or no longer fuse,
 * and the gradient buffers follow the flags. */
static nnl_status refuse(nnl_model *m, nnl_error *err)
{
    if (!plan_fusion(m))
        return NNL_OK;
    float *gbuf[2] = {NULL, NULL};
    if (grad_set(m, m->batch_cap, m->grads, gbuf) != NNL_OK)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the gradients of a batch "
                        "of %zu", m->batch_cap);
    nnl_free(m->gbuf[0]);
    nnl_free(m->gbuf[1]);
    m->gbuf[0] = gbuf[0];
    m->gbuf[1] = gbuf[1];
    commit_fusion(m);
    return NNL_OK;
}

nnl_status nnl_model_reserve(nnl_model *m, size_t batch, size_t ycols, nnl_error *err)
{
    if (nnl_model_busy(m)) /* its buffers are the running step's */
        return nnl_fail(err, NNL_ERR_ARG, BUSY_MSG);
    if (!m->built)
        return nnl_fail(err, NNL_ERR_ARG, "model is not built");
    if (batch == 0)
        batch = 1;
    if (batch > m->batch_cap || !m->acts) {
        /* The new set is built beside the old one and replaces it only
         * when every allocation worked: a failed reserve (a predict with a
         * batch too large for memory, perhaps from a fit callback) leaves
         * the model with the buffers it had, which a running fit uses. */
        const size_t n = m->nlayers + 1;
        float *gbuf[2] = {NULL, NULL};
        float **acts = nnl_calloc(n, sizeof *acts);
        float **grads = nnl_calloc(n, sizeof *grads);
        if (!acts || !grads)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            const nnl_shape *s = i == 0 ? &m->in_shape : &m->layers[i - 1]->out_shape;
            if (!(acts[i] = nnl_malloc(batch * nnl_shape_numel(s) * sizeof(float))))
                goto nomem;
        }
        plan_fusion(m);
        if (grad_set(m, batch, grads, gbuf) != NNL_OK)
            goto nomem;
        /* A layer's reserve replaces its scratch only when it succeeds, and
         * scratch for a larger batch also serves the old one. */
        for (size_t i = 0; i < m->nlayers; i++) {
            nnl_status st = nnl_layer_reserve(m->layers[i], batch, err);
            if (st != NNL_OK) {
                free_set(acts, n, gbuf);
                nnl_free(grads);
                return st;
            }
        }
        free_set(m->acts, n, m->gbuf);
        nnl_free(m->grads);
        m->acts = acts;
        m->grads = grads;
        m->gbuf[0] = gbuf[0];
        m->gbuf[1] = gbuf[1];
        commit_fusion(m);
        m->batch_cap = batch;
        goto ybuf;
    nomem:
        free_set(acts, n, gbuf);
        nnl_free(grads);
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the buffers of a batch "
                        "of %zu", batch);
    }
ybuf:
    if (batch * ycols > m->ybuf_cap) {
        float *y = nnl_malloc(batch * ycols * sizeof *y);
        if (!y)
            return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the targets of a batch "
                            "of %zu", batch);
        nnl_free(m->ybuf);
        m->ybuf = y;
        m->ybuf_cap = batch * ycols;
    }
    return NNL_OK;
}

nnl_status nnl_model_check_x(nnl_model *m, const nnl_tensor *x, const char *who,
                             nnl_error *err)
{
    char a[64], b[64];
    if (m->nlayers == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%sthe model has no layers", who);
    nnl_shape s = {0, {0}};
    if (x->ndim == 1) {
        s.ndim = 1;
        s.d[0] = 1;
    } else {
        s.ndim = x->ndim - 1;
        for (int i = 1; i < x->ndim; i++)
            s.d[i - 1] = x->shape[i];
    }
    if (!m->built) {
        nnl_error e2;
        if (nnl_model_build(m, &s, &e2) != NNL_OK)
            return nnl_fail(err, e2.code, "%sx of shape %s: %s", who,
                            nnl_shape_str(x, a, sizeof a), e2.msg);
        return NNL_OK;
    }
    int same = s.ndim == m->in_shape.ndim;
    for (int i = 0; same && i < s.ndim; i++)
        same = s.d[i] == m->in_shape.d[i];
    if (!same)
        return nnl_fail(err, NNL_ERR_SHAPE, "%sx has shape %s but the model "
                        "expects input %s (first layer %s)", who,
                        nnl_shape_str(x, a, sizeof a),
                        nnl_shape_keras(&m->in_shape, b, sizeof b), m->layers[0]->name);
    return NNL_OK;
}

nnl_status nnl_model_check_y(const nnl_model *m, const nnl_tensor *x,
                             const nnl_tensor *y, const char *who, size_t *ycols,
                             nnl_error *err)
{
    char a[64], b[64];
    size_t n = x->shape[0];
    if (y->shape[0] != n)
        return nnl_fail(err, NNL_ERR_SHAPE, "%sx has %zu samples but y has %zu "
                        "(x %s, y %s)", who, n, y->shape[0],
                        nnl_shape_str(x, a, sizeof a), nnl_shape_str(y, b, sizeof b));
    const nnl_shape *os = nnl_model_out_shape(m);
    const nnl_layer *last = m->layers[m->nlayers - 1];
    size_t out = nnl_shape_numel(os), cols = os->d[os->ndim - 1];
    size_t per = n ? y->numel / n : (y->ndim == 1 ? 1 : y->numel);
    if (n == 0)
        per = 1;
    for (int i = 1; n == 0 && i < y->ndim; i++)
        per *= y->shape[i];
    *ycols = per;
    if (m->loss == NNL_LOSS_CUSTOM) /* the function decides what y means */
        return NNL_OK;
    if (m->loss == NNL_LOSS_SCCE) {
        size_t rows = out / cols;
        if (per != rows)
            return nnl_fail(err, NNL_ERR_SHAPE, "%ssparse_categorical_crossentropy "
                            "takes one class index per sample, but y has shape %s "
                            "(for one-hot targets use categorical_crossentropy)",
                            who, nnl_shape_str(y, a, sizeof a));
        return nnl_loss_check_targets(m->loss, y->data, y->numel, cols, who, err);
    }
    if (per != out) {
        if (m->loss == NNL_LOSS_CCE && per * cols == out)
            return nnl_fail(err, NNL_ERR_SHAPE, "%scategorical_crossentropy needs "
                            "one-hot targets of %zu columns, y has shape %s (use "
                            "sparse_categorical_crossentropy for class indices, or "
                            "nn.data.one_hot(y, %zu))", who, cols,
                            nnl_shape_str(y, a, sizeof a), cols);
        return nnl_fail(err, NNL_ERR_SHAPE, "%sy has shape %s but the model "
                        "outputs %s per sample (last layer %s)", who,
                        nnl_shape_str(y, a, sizeof a), nnl_shape_keras(os, b, sizeof b),
                        last->name);
    }
    return nnl_loss_check_targets(m->loss, y->data, y->numel / cols, cols, who, err);
}

nnl_status nnl_model_forward(nnl_model *m, size_t n, int train, nnl_error *err)
{
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_layer *l = m->layers[i];
        nnl_status st;
        if (l->busy)
            return nnl_fail(err, NNL_ERR_ARG, "%s: a loss or metric function of its model "
                            "cannot run the model (it is in the middle of a step)", l->name);
        if (train && l->fuse_next) { /* the pair's forward; acts[i + 1] is not written */
            l->gen++;
            m->layers[i + 1]->gen++;
            st = l->ops->fused_forward(l, m->layers[i + 1], n, m->acts[i], m->acts[i + 2], err);
            i++;
        } else {
            st = nnl_layer_forward(l, n, m->acts[i], m->acts[i + 1], train, err);
        }
        if (st != NNL_OK)
            return st;
    }
    return NNL_OK;
}

double nnl_model_reg_loss(const nnl_model *m)
{
    double pen = 0.0;
    for (size_t i = 0; i < m->nlayers; i++) {
        const nnl_layer *l = m->layers[i];
        if (l->l1 == 0.0f && l->l2 == 0.0f)
            continue;
        for (int p = 0; p < l->nparams; p++) {
            const nnl_param *pr = &l->params[p];
            if (!pr->regularized)
                continue;
            double s1 = 0.0, s2 = 0.0;
            for (size_t j = 0; j < pr->n; j++) {
                s1 += fabs(pr->w[j]);
                s2 += (double)pr->w[j] * pr->w[j];
            }
            pen += l->l1 * s1 + l->l2 * s2;
        }
    }
    return pen;
}

/* Loss of the batch in acts[nlayers] against ybuf; gradient into
 * grads[nlayers] when want_grad. */
/* Calls the host (which: -1 the loss, else a metric) with the model busy. */
static nnl_status host_call(nnl_model *m, int which, size_t n, size_t ycols, float *grad,
                            double *value, nnl_error *err)
{
    if (!m->host)
        return nnl_fail(err, NNL_ERR_ARG, "the model was compiled with a Lua %s function, "
                        "which is not at hand (a loaded model: compile it again with the "
                        "function)", which < 0 ? "loss" : "metric");
    nnl_model_set_busy(m, NULL, 1);
    nnl_status st = m->host(m->host_ctx, which, n, m->acts[m->nlayers], m->ybuf, ycols, grad,
                            value, err);
    nnl_model_set_busy(m, NULL, -1);
    return st;
}

static nnl_status batch_loss(nnl_model *m, size_t n, size_t ycols, int want_grad,
                             double *loss, nnl_error *err)
{
    if (m->loss == NNL_LOSS_CUSTOM)
        return host_call(m, -1, n, ycols, want_grad ? m->grads[m->nlayers] : NULL, loss, err);
    const nnl_shape *os = nnl_model_out_shape(m);
    size_t cols = os->d[os->ndim - 1], rows = n * nnl_shape_numel(os) / cols;
    const float *logits = NULL;
    if (m->fused)
        logits = nnl_layer_preact(m->layers[m->nlayers - 1], m->acts[m->nlayers - 1]);
    return nnl_loss_eval(m->loss, rows, cols, m->acts[m->nlayers], logits, m->ybuf,
                         want_grad ? m->grads[m->nlayers] : NULL, loss, err);
}

static nnl_status update_metrics(nnl_model *m, size_t n, size_t ycols, nnl_error *err)
{
    const nnl_shape *os = nnl_model_out_shape(m);
    size_t cols = os->d[os->ndim - 1], rows = n * nnl_shape_numel(os) / cols;
    size_t tcols = ycols * n / (rows ? rows : 1);
    for (size_t i = 0; i < m->nmetrics; i++) {
        nnl_metric *mt = &m->metrics[i];
        if (mt->kind != NNL_METRIC_CUSTOM) {
            nnl_metric_update(mt, rows, cols, m->acts[m->nlayers], m->ybuf, tcols);
            continue;
        }
        double v;
        nnl_status st = host_call(m, (int)i, n, ycols, NULL, &v, err);
        if (st != NNL_OK)
            return st;
        mt->num += v * (double)n; /* a batch mean, weighted by its samples */
        mt->den += (double)n;
    }
    return NNL_OK;
}

/* Adds layer l's regularization term to its gradients, times scale (the
 * rank's share of the global batch: the sum over ranks is the term once). */
static void add_reg_grads(nnl_layer *l, float scale)
{
    if (l->l1 == 0.0f && l->l2 == 0.0f)
        return;
    float l1 = l->l1 * scale, l2 = 2.0f * l->l2 * scale;
    for (int p = 0; p < l->nparams; p++) {
        nnl_param *pr = &l->params[p];
        if (!pr->trainable || !pr->regularized)
            continue;
        for (size_t j = 0; j < pr->n; j++) {
            float w = pr->w[j];
            pr->g[j] += l1 * (float)((w > 0) - (w < 0)) + l2 * w;
        }
    }
}

static int over_ranks(const nnl_model *m)
{
    return nnl_comm_active(m->comm);
}

/* The step's gradients; with sync, each layer's are handed to the ranks'
 * buckets (grad_sync.c) as soon as they are final, and scale (this rank's
 * share of the global batch) weighs the loss gradient and the
 * regularization term. */
static nnl_status grads(nnl_model *m, size_t n, size_t ycols, double *loss, int sync,
                        float scale, nnl_error *err)
{
    nnl_status st = refuse(m, err);
    if (st != NNL_OK || (st = nnl_model_forward(m, n, 1, err)) != NNL_OK)
        return st;
    if ((st = batch_loss(m, n, ycols, 1, loss, err)) != NNL_OK)
        return st;
    if (sync) {
        const nnl_shape *os = nnl_model_out_shape(m);
        float *g = m->grads[m->nlayers];
        for (size_t j = 0, k = n * nnl_shape_numel(os); j < k; j++)
            g[j] *= scale;
        nnl_sync_begin(m);
    }
    for (size_t i = m->nlayers; i-- > 0;) {
        nnl_layer *l = m->layers[i];
        size_t top = i;
        if (i > 0 && m->layers[i - 1]->fuse_next) { /* the pair (i - 1, i) */
            l = m->layers[--i];
            st = l->ops->fused_backward(l, m->layers[i + 1], n, m->acts[i], m->acts[i + 2],
                                        m->grads[i + 2], i ? m->grads[i] : NULL, err);
        } else {
            st = nnl_layer_backward(l, n, m->acts[i], m->acts[i + 1], m->grads[i + 1],
                                    i ? m->grads[i] : NULL, err);
        }
        if (st != NNL_OK) {
            if (sync)
                nnl_sync_abandon(m);
            return st;
        }
        for (size_t j = top + 1; j-- > i;) {
            add_reg_grads(m->layers[j], scale);
            if (sync && (st = nnl_sync_layer(m, j, err)) != NNL_OK)
                return st;
        }
    }
    if (sync && (st = nnl_sync_end(m, err)) != NNL_OK)
        return st;
    /* After the backward: a metric of the host runs Lua, which must find
     * the step's state complete (it only reads the output and targets). */
    if ((st = update_metrics(m, n, ycols, err)) != NNL_OK)
        return st;
    *loss += nnl_model_reg_loss(m);
    return NNL_OK;
}

nnl_status nnl_model_compute_grads(nnl_model *m, size_t n, size_t ycols, double *loss,
                                   nnl_error *err)
{
    return grads(m, n, ycols, loss, 0, 1.0f, err);
}

nnl_status nnl_model_compute_grads_over(nnl_model *m, size_t n, size_t total, size_t ycols,
                                        double *loss, nnl_error *err)
{
    if (!over_ranks(m))
        return grads(m, n, ycols, loss, 0, 1.0f, err);
    nnl_status st = nnl_sync_reserve(m, err);
    if (st != NNL_OK)
        return st;
    if (n > 0)
        return grads(m, n, ycols, loss, 1, (float)((double)n / (double)total), err);
    /* No rows here (a last batch smaller than the ranks): this rank adds
     * nothing but takes part in every bucket, in the same order. */
    if ((st = refuse(m, err)) != NNL_OK)
        return st;
    nnl_sync_begin(m);
    for (size_t i = m->nlayers; i-- > 0;) {
        nnl_layer *l = m->layers[i];
        for (int p = 0; p < l->nparams; p++)
            if (l->params[p].trainable)
                memset(l->params[p].g, 0, l->params[p].n * sizeof(float));
        if ((st = nnl_sync_layer(m, i, err)) != NNL_OK)
            return st;
    }
    *loss = 0.0;
    return nnl_sync_end(m, err);
}

static void optimizer_step(nnl_model *m)
{
    nnl_optim_begin_step(m->opt);
    size_t slot = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_layer *l = m->layers[i];
        for (int p = 0; p < l->nparams; p++) {
            nnl_param *pr = &l->params[p];
            if (pr->trainable) {
                nnl_optim_update(m->opt, slot++, pr->w, pr->g, pr->n);
                nnl_tensor_bump_version(pr->wt);
            }
        }
    }
}

nnl_status nnl_model_train_step(nnl_model *m, size_t n, size_t ycols, double *loss,
                                nnl_error *err)
{
    nnl_status st = nnl_model_compute_grads(m, n, ycols, loss, err);
    if (st == NNL_OK)
        optimizer_step(m);
    return st;
}

nnl_status nnl_model_train_step_over(nnl_model *m, size_t n, size_t total, size_t ycols,
                                     double *loss, nnl_error *err)
{
    nnl_status st = nnl_model_compute_grads_over(m, n, total, ycols, loss, err);
    if (st == NNL_OK)
        optimizer_step(m);
    return st;
}

nnl_status nnl_model_eval_step(nnl_model *m, size_t n, size_t ycols, double *loss,
                               nnl_error *err)
{
    nnl_status st = nnl_model_forward(m, n, 0, err);
    if (st != NNL_OK)
        return st;
    if ((st = batch_loss(m, n, ycols, 0, loss, err)) != NNL_OK)
        return st;
    return update_metrics(m, n, ycols, err);
}

/* The batch predict and evaluate run: the caller's batch_size, cut to
 * what keeps the activation buffers of one batch under INFER_FLOATS
 * floats. Inference keeps nothing between batches, so a large batch_size
 * only costs memory: evaluate(x, y, {batch_size = 1024}) on the
 * Fashion-MNIST CNN (155 KB of activations per sample, and as much again
 * of layer scratch) grew the process by 250 MB for the same result. The
 * cut depends on the model's shapes alone; models under 8192 floats (32 KB) of
 * activations per sample (MLPs) run any batch up to 1024 unchanged. */
#define INFER_FLOATS ((size_t)1 << 23)

static size_t infer_batch(const nnl_model *m, size_t batch_size)
{
    size_t per = nnl_shape_numel(&m->in_shape);
    for (size_t i = 0; i < m->nlayers; i++)
        per += nnl_shape_numel(&m->layers[i]->out_shape);
    size_t cap = per ? INFER_FLOATS / per : batch_size;
    if (cap < 1)
        cap = 1;
    return batch_size < cap ? batch_size : cap;
}

/* Every rank's share of out's n rows (ys floats each) to every rank. */
static nnl_status share_rows(nnl_model *m, nnl_tensor *out, size_t n, size_t ys,
                             nnl_error *err)
{
    size_t *counts = nnl_malloc((size_t)m->comm->size * sizeof *counts);
    if (!counts)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    size_t mine = 0;
    for (int r = 0; r < m->comm->size; r++) {
        size_t f, c;
        nnl_comm_shard(n, r, m->comm->size, &f, &c);
        counts[r] = c * ys;
        if (r == m->comm->rank)
            mine = f * ys;
    }
    nnl_status st = m->comm->allgatherv(m->comm, out->data + mine, out->data, counts, err);
    nnl_free(counts);
    return st;
}

nnl_tensor *nnl_model_predict(nnl_model *m, const nnl_tensor *x, size_t batch_size,
                              nnl_error *err)
{
    return nnl_model_predict_upto(m, x, batch_size, m->nlayers, err);
}

nnl_tensor *nnl_model_predict_upto(nnl_model *m, const nnl_tensor *x, size_t batch_size,
                                   size_t upto, nnl_error *err)
{
    if (upto > m->nlayers) {
        nnl_fail(err, NNL_ERR_ARG, "layer %zu asked for, the model has %zu layers", upto,
                 m->nlayers);
        return NULL;
    }
    if (nnl_model_check_x(m, x, "", err) != NNL_OK ||
        nnl_model_check_ranks(m, x, NULL, upto, "predict", err) != NNL_OK)
        return NULL;
    size_t n = x->shape[0];
    if (batch_size == 0)
        batch_size = 32;
    if (batch_size > n)
        batch_size = n ? n : 1;
    batch_size = infer_batch(m, batch_size);
    if (nnl_model_reserve(m, batch_size, 0, err) != NNL_OK)
        return NULL;
    const nnl_shape *os = upto ? &m->layers[upto - 1]->out_shape : &m->in_shape;
    size_t shape[NNL_MAX_DIMS] = {n};
    for (int i = 0; i < os->ndim; i++)
        shape[i + 1] = os->d[i];
    nnl_tensor *out = nnl_tensor_new(os->ndim + 1, shape, err);
    if (!out)
        return NULL;
    size_t xs = nnl_shape_numel(&m->in_shape), ys = nnl_shape_numel(os);
    /* Over ranks each predicts its share of the rows, and every rank gets
     * all of them. */
    size_t lo = 0, hi = n;
    if (over_ranks(m)) {
        size_t cnt;
        nnl_comm_shard(n, m->comm->rank, m->comm->size, &lo, &cnt);
        hi = lo + cnt;
    }
    for (size_t first = lo; first < hi; first += batch_size) {
        size_t b = hi - first < batch_size ? hi - first : batch_size;
        memcpy(m->acts[0], x->data + first * xs, b * xs * sizeof(float));
        /* Inference through the first `upto` layers only: acts[upto] is
         * the output of layer upto. */
        for (size_t i = 0; i < upto; i++) {
            nnl_status st = nnl_layer_forward(m->layers[i], b, m->acts[i], m->acts[i + 1], 0,
                                              err);
            if (st != NNL_OK) {
                nnl_tensor_free(out);
                return NULL;
            }
        }
        memcpy(out->data + first * ys, m->acts[upto], b * ys * sizeof(float));
    }
    if (over_ranks(m) && share_rows(m, out, n, ys, err) != NNL_OK) {
        nnl_tensor_free(out);
        return NULL;
    }
    return out;
}

double nnl_model_sample_sum(const nnl_tensor *t)
{
    size_t step = t->numel > 65536 ? t->numel / 65536 : 1;
    double s = 0.0;
    for (size_t i = 0; i < t->numel; i += step)
        if (isfinite(t->data[i]))
            s += (double)t->data[i] * (double)(1 + i % 7);
    return s;
}

/* Each rank takes its share of the rows it was given: a rank given fewer
 * rows would read past them, and one given other rows makes a result of
 * nobody's data. */
nnl_status nnl_model_check_ranks(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                                 size_t upto, const char *what, nnl_error *err)
{
    if (!over_ranks(m))
        return NNL_OK;
    enum { K = 4 };
    double v[K] = {(double)x->shape[0], nnl_model_sample_sum(x),
                   y ? nnl_model_sample_sum(y) : 0.0, (double)upto};
    double lo[K], hi[K];
    nnl_status st = nnl_comm_range(m->comm, v, K, lo, hi, err);
    if (st != NNL_OK)
        return st;
    static const char *names[K] = {"number of samples", "values of x (a sample of them)",
                                   "values of y (a sample of them)", "layer (upto)"};
    for (int i = 0; i < K; i++)
        if (lo[i] != hi[i])
            return nnl_fail(err, NNL_ERR_ARG, "the ranks disagree on the %s (%.10g to %.10g): "
                            "every rank must call %s with the same data (each takes its "
                            "share of the rows)", names[i], lo[i], hi[i], what);
    return NNL_OK;
}

/* Both the batch runs (evaluate, train_on_batch/test_on_batch) start by
 * checking the pair and resetting the metrics, and end with the same logs. */
nnl_status nnl_model_check_pair(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                                size_t *ycols, nnl_error *err)
{
    if (!m->compiled)
        return nnl_fail(err, NNL_ERR_ARG, "compile the model first "
                        "(model:compile{loss = ..., optimizer = ...})");
    if (x->shape[0] == 0)
        return nnl_fail(err, NNL_ERR_SHAPE, "x has no samples (a loss over "
                        "0 samples is not a number)");
    int was_built = m->built;
    nnl_status st = nnl_model_check_x(m, x, "", err);
    if (st == NNL_OK)
        st = nnl_model_check_y(m, x, y, "", ycols, err);
    if (st != NNL_OK && !was_built && m->built) /* built from a bad pair: undo */
        nnl_model_unbuild(m);
    if (st == NNL_OK)
        st = nnl_model_check_ranks(m, x, y, 0, "evaluate, train_on_batch and test_on_batch",
                                   err);
    return st;
}

void nnl_model_reset_metrics(nnl_model *m)
{
    const nnl_shape *os = nnl_model_out_shape(m);
    for (size_t i = 0; i < m->nmetrics; i++) {
        nnl_metric_resolve(&m->metrics[i], m->loss, os->d[os->ndim - 1]);
        nnl_metric_reset(&m->metrics[i]);
    }
}

void nnl_model_fill_logs(const nnl_model *m, double loss, nnl_logs *logs)
{
    logs->n = 0;
    logs->names[logs->n] = "loss";
    logs->values[logs->n++] = loss;
    for (size_t i = 0; i < m->nmetrics; i++) {
        logs->names[logs->n] = m->metrics[i].name;
        logs->values[logs->n++] = nnl_metric_value(&m->metrics[i]);
    }
}

nnl_status nnl_model_sum_totals(const nnl_model *m, double *v, size_t lead, nnl_error *err)
{
    size_t k = lead;
    for (size_t i = 0; i < m->nmetrics; i++) {
        v[k++] = m->metrics[i].num;
        v[k++] = m->metrics[i].den;
    }
    return m->comm->allreduce(m->comm, v, k, NNL_COMM_DOUBLE, NNL_COMM_SUM, err);
}

nnl_status nnl_model_reduce_metrics(nnl_model *m, double *total, nnl_error *err)
{
    double v[1 + 2 * NNL_MODEL_MAX_METRICS] = {*total};
    nnl_status st = nnl_model_sum_totals(m, v, 1, err);
    if (st != NNL_OK)
        return st;
    *total = v[0];
    for (size_t i = 0; i < m->nmetrics; i++) {
        m->metrics[i].num = v[1 + 2 * i];
        m->metrics[i].den = v[2 + 2 * i];
    }
    return NNL_OK;
}

nnl_status nnl_model_evaluate(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                              size_t batch_size, nnl_logs *logs, nnl_error *err)
{
    size_t ycols;
    nnl_status st = nnl_model_check_pair(m, x, y, &ycols, err);
    if (st != NNL_OK)
        return st;
    size_t n = x->shape[0];
    if (batch_size == 0)
        batch_size = 32;
    if (batch_size > n)
        batch_size = n;
    batch_size = infer_batch(m, batch_size);
    if ((st = nnl_model_reserve(m, batch_size, ycols, err)) != NNL_OK)
        return st;
    nnl_model_reset_metrics(m);
    size_t xs = nnl_shape_numel(&m->in_shape);
    double total = 0.0;
    size_t lo = 0, hi = n; /* over ranks: this rank's share of the rows */
    if (over_ranks(m)) {
        size_t cnt;
        nnl_comm_shard(n, m->comm->rank, m->comm->size, &lo, &cnt);
        hi = lo + cnt;
    }
    for (size_t first = lo; first < hi; first += batch_size) {
        size_t b = hi - first < batch_size ? hi - first : batch_size;
        double l;
        memcpy(m->acts[0], x->data + first * xs, b * xs * sizeof(float));
        memcpy(m->ybuf, y->data + first * ycols, b * ycols * sizeof(float));
        if ((st = nnl_model_eval_step(m, b, ycols, &l, err)) != NNL_OK)
            return st;
        total += l * (double)b;
    }
    if (over_ranks(m) && (st = nnl_model_reduce_metrics(m, &total, err)) != NNL_OK)
        return st;
    nnl_model_fill_logs(m, total / (double)n + nnl_model_reg_loss(m), logs);
    return NNL_OK;
}

size_t nnl_model_count_params(const nnl_model *m, int trainable_only)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i]->built)
            n += nnl_layer_count_params(m->layers[i], trainable_only);
    return n;
}
