/* The training loop: see fit.h. */
#include "model/fit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/alloc.h"
#include "core/threads.h"
#include "core/interrupt.h"
#include "core/rng.h"
#include "model/loss.h"

void nnl_fit_opts_default(nnl_fit_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->batch_size = 32;
    o->shuffle = 1;
}

void nnl_history_init(nnl_history *h)
{
    memset(h, 0, sizeof *h);
}

void nnl_history_free(nnl_history *h)
{
    nnl_free(h->values);
    nnl_free(h->epochs);
    h->values = NULL;
    h->epochs = NULL;
    h->nepochs = h->cap = 0;
}

int nnl_history_key(const nnl_history *h, const char *key)
{
    for (size_t i = 0; i < h->nkeys; i++)
        if (strcmp(h->keys[i], key) == 0)
            return (int)i;
    return -1;
}

static nnl_status history_add(nnl_history *h, size_t epoch, const nnl_logs *logs,
                              nnl_error *err)
{
    if (h->nepochs == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        double *v = nnl_malloc(cap * h->nkeys * sizeof *v + sizeof *v);
        size_t *e = nnl_malloc(cap * sizeof *e);
        if (!v || !e) {
            nnl_free(v);
            nnl_free(e);
            return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the history");
        }
        if (h->nepochs) {
            memcpy(v, h->values, h->nepochs * h->nkeys * sizeof *v);
            memcpy(e, h->epochs, h->nepochs * sizeof *e);
        }
        nnl_free(h->values);
        nnl_free(h->epochs);
        h->values = v;
        h->epochs = e;
        h->cap = cap;
    }
    for (size_t k = 0; k < h->nkeys && k < logs->n; k++)
        h->values[h->nepochs * h->nkeys + k] = logs->values[k];
    h->epochs[h->nepochs++] = epoch;
    return NNL_OK;
}

/* Copies the rows idx[first..first+b) of x and y into the model's batch
 * buffers. The rows are scattered over a large tensor (a shuffle), so the
 * copy waits on memory: large batches are split over the thread pool,
 * whose threads otherwise idle between products (a Fashion-MNIST batch of
 * 128 rows is 400 KB from 128 places). */
#define GATHER_PARALLEL_MIN ((size_t)1 << 16) /* floats per batch */

typedef struct gather_job {
    nnl_model *m;
    const nnl_tensor *x, *y;
    const size_t *idx;
    size_t xs, ycols, first, b, chunk;
} gather_job;

static void gather_rows(const gather_job *g, size_t i0, size_t i1)
{
    for (size_t i = i0; i < i1; i++) {
        size_t r = g->idx[g->first + i];
        memcpy(g->m->acts[0] + i * g->xs, g->x->data + r * g->xs, g->xs * sizeof(float));
        memcpy(g->m->ybuf + i * g->ycols, g->y->data + r * g->ycols,
               g->ycols * sizeof(float));
    }
}

static void gather_task(void *ctx, int t)
{
    const gather_job *g = ctx;
    size_t i0 = (size_t)t * g->chunk, i1 = i0 + g->chunk < g->b ? i0 + g->chunk : g->b;
    if (i0 < i1)
        gather_rows(g, i0, i1);
}

static void gather(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                   size_t ycols, const size_t *idx, size_t first, size_t b)
{
    gather_job g = {m, x, y, idx, nnl_shape_numel(&m->in_shape), ycols, first, b, b};
    int nt = nnl_threads_get();
    if (nt < 2 || b < 2 || b * g.xs < GATHER_PARALLEL_MIN) {
        gather_rows(&g, 0, b);
        return;
    }
    g.chunk = (b + (size_t)nt - 1) / (size_t)nt;
    nnl_parallel_for((int)((b + g.chunk - 1) / g.chunk), gather_task, &g);
}

static void fill_logs(nnl_model *m, nnl_logs *logs, const nnl_history *h,
                      size_t base, double loss)
{
    logs->values[base] = loss;
    for (size_t i = 0; i < m->nmetrics; i++)
        logs->values[base + 1 + i] = nnl_metric_value(&m->metrics[i]);
    (void)h;
}

static int over_ranks(const nnl_model *m)
{
    return nnl_comm_active(m->comm);
}

/* The loss total, the rows and every metric's totals summed over the
 * ranks into v (2 + 2 * nmetrics doubles), the rank's own left as they
 * are (they go on accumulating over the epoch). */
static nnl_status reduce_totals(nnl_model *m, double total, double seen, double *v,
                                nnl_error *err)
{
    v[0] = total;
    v[1] = seen;
    return nnl_model_sum_totals(m, v, 2, err);
}

/* logs[base..] from totals over the ranks (reduce_totals' v). */
static void fill_logs_from(nnl_model *m, nnl_logs *logs, size_t base, const double *v,
                           double extra)
{
    logs->values[base] = (v[1] > 0.0 ? v[0] / v[1] : 0.0) + extra;
    for (size_t i = 0; i < m->nmetrics; i++) {
        nnl_metric t = m->metrics[i];
        t.num = v[2 + 2 * i];
        t.den = v[3 + 2 * i];
        logs->values[base + 1 + i] = nnl_metric_value(&t);
    }
}

/* A callback that failed on this rank over ranks: fit goes on to the
 * next point where the ranks agree (agree_stop), so that every rank
 * leaves fit there instead of the others waiting for it in a step. */
typedef struct cb_failure {
    int failed;
    nnl_status st;
    nnl_error e;
} cb_failure;

/* Whether any rank wants to stop (a callback, stop_training, Ctrl-C):
 * they stop together, or the others would wait for it forever. A callback
 * that failed on any rank fails fit on every rank: the failed rank with
 * its own error, the others naming the lowest failed rank. */
static nnl_status agree_stop(nnl_model *m, int *stop, int *interrupted, const cb_failure *f,
                             nnl_error *err)
{
    int size = m->comm->size;
    double v[3] = {*stop, *interrupted, f->failed ? (double)(size - m->comm->rank) : 0.0};
    nnl_status st = m->comm->allreduce(m->comm, v, 3, NNL_COMM_DOUBLE, NNL_COMM_MAX, err);
    if (st != NNL_OK)
        return st;
    *stop = v[0] > 0.0;
    *interrupted = v[1] > 0.0;
    if (v[2] == 0.0)
        return NNL_OK;
    if (f->failed) {
        if (err)
            *err = f->e;
        return f->st;
    }
    return nnl_fail(err, NNL_ERR_ARG, "rank %d failed in a callback (its message says why): "
                    "fit stops on every rank", size - (int)v[2]);
}

/* Every rank must train on the same data with the same options: each
 * takes its rows of every batch by the same shuffled order. */
static nnl_status check_same(nnl_model *m, const double *mine, size_t n, nnl_error *err)
{
    double lo[8], hi[8];
    nnl_status st = nnl_comm_range(m->comm, mine, n, lo, hi, err);
    if (st != NNL_OK)
        return st;
    static const char *what[] = {"training samples", "validation samples", "batch_size",
                                 "epochs", "initial_epoch", "trainable weights",
                                 "values of x (a sample of them)",
                                 "values of y (a sample of them)"};
    for (size_t i = 0; i < n; i++)
        if (lo[i] != hi[i])
            return nnl_fail(err, NNL_ERR_ARG, i < 6 ? "the ranks disagree on the %s (%.0f to "
                            "%.0f): every rank must call fit with the same data, options and "
                            "model (fit gives each rank its share of every batch)"
                            : "the ranks disagree on the %s (%g to %g): every rank must call "
                            "fit with the same data, options and model (fit gives each rank "
                            "its share of every batch)", what[i], lo[i], hi[i]);
    return NNL_OK;
}

/* Rank 0's weights, moving statistics and optimizer state to every rank,
 * so that training starts from the same point even when the ranks built
 * their models from different random streams. */
static nnl_status share_state(nnl_model *m, nnl_error *err)
{
    nnl_status st = NNL_OK;
    for (size_t i = 0; i < m->nlayers && st == NNL_OK; i++)
        for (int p = 0; p < m->layers[i]->nparams && st == NNL_OK; p++) {
            nnl_param *pr = &m->layers[i]->params[p];
            st = m->comm->bcast(m->comm, pr->w, pr->n * sizeof(float), 0, err);
            nnl_tensor_bump_version(pr->wt);
        }
    /* Each rank its own dropout masks: the layers' streams are alike on
     * every rank (the same seed), which would drop the same units for the
     * i-th row of every rank's share. Rank 0 keeps its stream, as one
     * process would have it. */
    if (m->comm->rank > 0)
        for (size_t i = 0; i < m->nlayers; i++) {
            nnl_layer *l = m->layers[i];
            nnl_rng *r = l->ops->rng ? l->ops->rng(l) : NULL;
            if (r) {
                uint64_t seed = ((uint64_t)nnl_rng_u32(r) << 32) | nnl_rng_u32(r);
                nnl_rng_seed(r, seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)m->comm->rank));
            }
        }
    nnl_optim *o = m->opt;
    if (st == NNL_OK)
        st = m->comm->bcast(m->comm, &o->iterations, sizeof o->iterations, 0, err);
    for (size_t i = 0; i < o->nslots && st == NNL_OK; i++) {
        nnl_optim_slot *sl = &o->slots[i];
        float *arr[3] = {sl->m, sl->v, sl->a};
        for (int k = 0; k < 3 && st == NNL_OK; k++)
            if (arr[k])
                st = m->comm->bcast(m->comm, arr[k], sl->n * sizeof(float), 0, err);
    }
    return st;
}

/* The class of row r of targets y (ycols floats per row) by what the
 * loss's targets are (its table entry), or -1 when they are no classes
 * (regression, several binary labels). */
static long row_class(nnl_loss_targets t, const float *y, size_t ycols, size_t r)
{
    const float *v = y + r * ycols;
    if (t == NNL_TARGETS_CLASS)
        return (long)v[0] - 1;
    if (t == NNL_TARGETS_PROB && ycols == 1)
        return v[0] >= 0.5f;
    if (t == NNL_TARGETS_DIST) {
        size_t best = 0;
        for (size_t c = 1; c < ycols; c++)
            if (v[c] > v[best])
                best = c;
        return (long)best;
    }
    return -1;
}

/* Keras's validation_split holds out the last rows as they are: on data
 * sorted by class (iris, spiral and the other shipped sets are) that is
 * one class, and val_accuracy reads 0.05 for a model that learnt well.
 * Writes a warning into msg (size bytes) when some class is only in one
 * of the two parts; returns 1 then. k: the number of classes. */
static int split_classes_differ(const nnl_model *m, const nnl_tensor *y, size_t ycols,
                                size_t ntrain, size_t n, size_t k, double split, char *msg,
                                size_t size, nnl_error *err, nnl_status *st)
{
    *st = NNL_OK;
    const nnl_loss_desc *d = nnl_loss_desc_of(m->loss);
    if (!d || k == 0 || row_class(d->targets, y->data, ycols, 0) < 0)
        return 0;
    int binary = d->targets == NNL_TARGETS_PROB; /* classes 0 and 1 */
    unsigned char *seen = nnl_calloc(k, 1); /* bit 1: training, bit 2: validation */
    if (!seen) {
        *st = nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
        return 0;
    }
    for (size_t r = 0; r < n; r++) {
        long c = row_class(d->targets, y->data, ycols, r);
        if (c >= 0 && (size_t)c < k)
            seen[c] |= r < ntrain ? 1 : 2;
    }
    char only_val[96] = "", only_train[96] = "";
    size_t nv = 0, nt = 0;
    for (size_t c = 0; c < k; c++) {
        char *list = seen[c] == 2 ? only_val : seen[c] == 1 ? only_train : NULL;
        size_t *cnt = seen[c] == 2 ? &nv : &nt;
        if (!list)
            continue;
        size_t len = strlen(list);
        if (*cnt < 6 && len + 24 < sizeof only_val)
            snprintf(list + len, sizeof only_val - len, "%s%zu", *cnt ? ", " : "",
                     binary ? c : c + 1);
        else if (*cnt == 6)
            snprintf(list + len, sizeof only_val - len, ", ...");
        (*cnt)++;
    }
    nnl_free(seen);
    if (nv == 0 && nt == 0)
        return 0;
    char parts[256];
    snprintf(parts, sizeof parts, "%s%s%s%s%s%s%s%s", nv ? (nv == 1 ? "class " : "classes ") : "",
             nv ? only_val : "", nv ? (nv == 1 ? " is" : " are") : "",
             nv ? " only in the validation rows" : "", nv && nt ? ", and " : "",
             nt ? (nt == 1 ? "class " : "classes ") : "", nt ? only_train : "",
             nt ? (nt == 1 ? " is only in the training rows" : " are only in the training rows")
                : "");
    snprintf(msg, size, "validation_split %g holds out the last %zu rows as they are: %s; "
             "the data looks sorted by class, so validation measures something else "
             "(shuffle first: x, y = nn.data.shuffle(x, y))", split, n - ntrain, parts);
    return 1;
}

/* Validation loss and metrics over rows [first, first+n) of vx, vy, in
 * inference mode, into logs[base..]; the metrics are reset first. Over
 * ranks, each validates its share of the rows and the totals are summed. */
static nnl_status validate(nnl_model *m, const nnl_tensor *vx, const nnl_tensor *vy,
                           size_t first, size_t n, size_t ycols, size_t bs,
                           nnl_logs *logs, size_t base, nnl_error *err)
{
    size_t xs = nnl_shape_numel(&m->in_shape);
    double total = 0.0;
    size_t count = n;
    if (over_ranks(m)) {
        size_t off;
        nnl_comm_shard(n, m->comm->rank, m->comm->size, &off, &count);
        first += off;
    }
    for (size_t i = 0; i < m->nmetrics; i++)
        nnl_metric_reset(&m->metrics[i]);
    for (size_t s = 0; s < count; s += bs) {
        size_t b = count - s < bs ? count - s : bs;
        double l;
        memcpy(m->acts[0], vx->data + (first + s) * xs, b * xs * sizeof(float));
        memcpy(m->ybuf, vy->data + (first + s) * ycols, b * ycols * sizeof(float));
        nnl_status st = nnl_model_eval_step(m, b, ycols, &l, err);
        if (st != NNL_OK)
            return st;
        total += l * (double)b;
    }
    double v[2 + 2 * NNL_MODEL_MAX_METRICS];
    if (over_ranks(m)) {
        nnl_status st = reduce_totals(m, total, (double)count, v, err);
        if (st != NNL_OK)
            return st;
        fill_logs_from(m, logs, base, v, nnl_model_reg_loss(m));
    } else {
        fill_logs(m, logs, NULL, base, total / (double)n + nnl_model_reg_loss(m));
    }
    return NNL_OK;
}

/* Runs a callback; maps its result to continue (0), stop (1) or an error
 * status (negative: err filled). */
#define RUN_CB(call)                                                   \
    do {                                                               \
        nnl_cb_result r_ = (call);                                     \
        if (r_ == NNL_CB_ERROR) {                                      \
            st = err && err->code != NNL_OK ? err->code : NNL_ERR_ARG; \
            if (!over)                                                 \
                goto done;                                             \
            if (!fail.failed) { /* to the next agree_stop */           \
                fail.failed = 1;                                       \
                fail.st = st;                                          \
                if (err)                                               \
                    fail.e = *err;                                     \
            }                                                          \
            st = NNL_OK;                                               \
        }                                                              \
        if (r_ == NNL_CB_STOP)                                         \
            stop = 1;                                                  \
    } while (0)

nnl_status nnl_model_fit(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                         const nnl_fit_opts *o, const nnl_fit_callbacks *cb,
                         nnl_history *h, nnl_error *err)
{
    static const nnl_fit_callbacks none = {0};
    nnl_fit_opts def;
    if (!o) {
        nnl_fit_opts_default(&def);
        o = &def;
    }
    if (!cb)
        cb = &none;
    nnl_history_init(h);
    if (!m->compiled)
        return nnl_fail(err, NNL_ERR_ARG, "compile the model first "
                        "(model:compile{loss = ..., optimizer = ...})");
    if (o->batch_size == 0)
        return nnl_fail(err, NNL_ERR_ARG, "batch_size must be >= 1");
    if (!(o->validation_split >= 0.0 && o->validation_split < 1.0))
        return nnl_fail(err, NNL_ERR_ARG, "validation_split must be in [0, 1), "
                        "got %g", o->validation_split);
    if (o->val_x && o->validation_split > 0.0)
        return nnl_fail(err, NNL_ERR_ARG, "give validation_split or "
                        "validation_data, not both");
    if (x->shape[0] == 0)
        return nnl_fail(err, NNL_ERR_SHAPE, "x has no samples");
    if (o->val_x && !o->val_y)
        return nnl_fail(err, NNL_ERR_ARG, "validation_data needs {x, y}");
    if (o->val_x && o->val_x->shape[0] == 0)
        return nnl_fail(err, NNL_ERR_SHAPE, "validation_data has no samples "
                        "(give at least one, or leave validation_data out)");
    size_t ycols, vycols = 0;
    int was_built = m->built;
    nnl_status st = nnl_model_check_x(m, x, "", err);
    if (st == NNL_OK)
        st = nnl_model_check_y(m, x, y, "", &ycols, err);
    if (st == NNL_OK && o->val_x &&
        (st = nnl_model_check_x(m, o->val_x, "validation_data: ", err)) == NNL_OK)
        st = nnl_model_check_y(m, o->val_x, o->val_y, "validation_data: ", &vycols, err);
    if (st != NNL_OK) {
        if (!was_built && m->built) /* built from data it then refused: undo */
            nnl_model_unbuild(m);
        return st;
    }
    size_t n = x->shape[0], ntrain = n, nval = 0, vfirst = 0;
    const nnl_tensor *vx = o->val_x, *vy = o->val_y;
    if (o->validation_split > 0.0) {
        /* Keras: split_at = floor(n * (1 - split)); the tail validates. */
        ntrain = (size_t)floor((double)n * (1.0 - o->validation_split));
        nval = n - ntrain;
        vfirst = ntrain;
        vx = x;
        vy = y;
        vycols = ycols;
        if (ntrain == 0 || nval == 0)
            return nnl_fail(err, NNL_ERR_ARG, "validation_split %g of %zu samples "
                            "leaves %zu for training and %zu for validation",
                            o->validation_split, n, ntrain, nval);
    } else if (vx) {
        nval = vx->shape[0];
    }
    /* Over ranks the global batch is size x batch_size rows, of which each
     * rank takes its share: the same steps as one process with that batch. */
    int over = over_ranks(m);
    size_t nranks = over ? (size_t)m->comm->size : 1;
    /* batch_size * nranks < ntrain, without the product (which may wrap):
     * rounding ntrain / nranks down instead made N*B+1 rows one batch */
    size_t gbs = o->batch_size <= (ntrain - 1) / nranks ? o->batch_size * nranks : ntrain;
    size_t bs = (gbs + nranks - 1) / nranks;
    size_t vbs = nval && o->batch_size < nval ? o->batch_size : (nval ? nval : 1);
    size_t cap = bs > vbs ? bs : vbs;
    if ((st = nnl_model_reserve(m, cap, ycols > vycols ? ycols : vycols, err)) != NNL_OK)
        return st;

    /* Optimizer state for every trainable array, in layer order. */
    if ((st = nnl_model_prepare_optim(m, err)) != NNL_OK)
        return st;
    size_t *idx = nnl_malloc(ntrain * sizeof *idx);
    if (!idx)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");

    /* History keys: loss, metrics, then val_ of each. */
    nnl_logs logs;
    const nnl_shape *os = nnl_model_out_shape(m);
    snprintf(h->keys[h->nkeys++], sizeof h->keys[0], "loss");
    for (size_t i = 0; i < m->nmetrics; i++) {
        nnl_metric_resolve(&m->metrics[i], m->loss, os->d[os->ndim - 1]);
        snprintf(h->keys[h->nkeys++], sizeof h->keys[0], "%s", m->metrics[i].name);
    }
    size_t ntrain_keys = h->nkeys;
    if (nval)
        for (size_t i = 0; i < ntrain_keys; i++) {
            /* keys are sized for "val_" + a metric name; copy by hand so
             * the compiler sees no overlap or truncation */
            char *dst = h->keys[h->nkeys++];
            memcpy(dst, "val_", 4);
            size_t len = strnlen(h->keys[i], sizeof h->keys[0] - 5);
            memcpy(dst + 4, h->keys[i], len);
            dst[4 + len] = '\0';
        }
    logs.n = h->nkeys;
    for (size_t i = 0; i < h->nkeys; i++) {
        logs.names[i] = h->keys[i];
        logs.values[i] = 0.0;
    }

    nnl_rng rng;
    {
        nnl_rng *g = nnl_rng_global();
        uint64_t seed = ((uint64_t)nnl_rng_u32(g) << 32) | nnl_rng_u32(g);
        if (over) {
            double same[8] = {(double)ntrain, (double)nval, (double)o->batch_size,
                              (double)o->epochs, (double)o->initial_epoch,
                              (double)m->opt->nslots, nnl_model_sample_sum(x),
                              nnl_model_sample_sum(y)};
            /* every rank shuffles by rank 0's order */
            if ((st = check_same(m, same, 8, err)) != NNL_OK ||
                (st = m->comm->bcast(m->comm, &seed, sizeof seed, 0, err)) != NNL_OK ||
                (st = share_state(m, err)) != NNL_OK) {
                nnl_free(idx);
                return st;
            }
        }
        nnl_rng_seed(&rng, seed);
    }
    for (size_t i = 0; i < ntrain; i++)
        idx[i] = i;

    nnl_fit_info info = {o->epochs, o->initial_epoch, bs, (ntrain + gbs - 1) / gbs,
                         ntrain, nval, NULL};
    char warning[512];
    if (o->validation_split > 0.0) {
        const nnl_loss_desc *d = nnl_loss_desc_of(m->loss);
        size_t k = d && d->targets == NNL_TARGETS_PROB ? 2 : os->d[os->ndim - 1];
        if (split_classes_differ(m, y, ycols, ntrain, n, k, o->validation_split, warning,
                                 sizeof warning, err, &st))
            info.warning = warning;
        if (st != NNL_OK) {
            nnl_free(idx);
            return st;
        }
    }
    int stop = 0;
    cb_failure fail = {0};
    m->stop_training = 0;
    nnl_interrupt_clear();
    if (cb->train_begin)
        RUN_CB(cb->train_begin(cb->ud, &info, err));
    if (over && (st = agree_stop(m, &stop, &h->interrupted, &fail, err)) != NNL_OK)
        goto done;

    for (size_t epoch = o->initial_epoch + 1; epoch <= o->epochs && !stop; epoch++) {
        if (cb->epoch_begin)
            RUN_CB(cb->epoch_begin(cb->ud, epoch, err));
        if (over && (st = agree_stop(m, &stop, &h->interrupted, &fail, err)) != NNL_OK)
            goto done;
        if (stop)
            break;
        if (o->shuffle)
            for (size_t i = ntrain; i > 1; i--) {
                size_t j = nnl_rng_below(&rng, (uint32_t)i);
                size_t t = idx[i - 1];
                idx[i - 1] = idx[j];
                idx[j] = t;
            }
        for (size_t i = 0; i < m->nmetrics; i++)
            nnl_metric_reset(&m->metrics[i]);
        double total = 0.0;
        size_t seen = 0, batch = 0;
        for (size_t first = 0; first < ntrain; first += gbs, batch++) {
            size_t gb = ntrain - first < gbs ? ntrain - first : gbs, off = 0, b = gb;
            if (over)
                nnl_comm_shard(gb, m->comm->rank, m->comm->size, &off, &b);
            if (cb->batch_begin)
                RUN_CB(cb->batch_begin(cb->ud, epoch, batch + 1, err));
            gather(m, x, y, ycols, idx, first + off, b);
            double l;
            if ((st = nnl_model_train_step_over(m, b, gb, ycols, &l, err)) != NNL_OK)
                goto done;
            total += l * (double)b;
            seen += b;
            if (over) {
                double v[2 + 2 * NNL_MODEL_MAX_METRICS];
                if ((st = reduce_totals(m, total, (double)seen, v, err)) != NNL_OK)
                    goto done;
                fill_logs_from(m, &logs, 0, v, 0.0);
            } else {
                fill_logs(m, &logs, h, 0, total / (double)seen);
            }
            if (cb->batch_end)
                RUN_CB(cb->batch_end(cb->ud, epoch, batch + 1, &logs, err));
            if (m->stop_training)
                stop = 1;
            if (nnl_interrupt_requested()) {
                h->interrupted = 1;
                stop = 1;
            }
            if (over && (st = agree_stop(m, &stop, &h->interrupted, &fail, err)) != NNL_OK)
                goto done;
            if (stop)
                break;
        }
        /* An epoch cut short (stop_training, a callback's stop, Ctrl-C) is
         * still validated and recorded with the logs of the batches it ran,
         * as Keras does; the loop ends after it. */
        if (nval &&
            (st = validate(m, vx, vy, vfirst, nval, vycols, vbs, &logs, ntrain_keys, err)) != NNL_OK)
            goto done;
        if ((st = history_add(h, epoch, &logs, err)) != NNL_OK)
            goto done;
        if (cb->epoch_end)
            RUN_CB(cb->epoch_end(cb->ud, epoch, &logs, err));
        if (m->stop_training)
            stop = 1;
        if (nnl_interrupt_requested()) {
            h->interrupted = 1;
            stop = 1;
        }
        if (over && (st = agree_stop(m, &stop, &h->interrupted, &fail, err)) != NNL_OK)
            goto done;
    }
    if (cb->train_end)
        RUN_CB(cb->train_end(cb->ud, &logs, err));
    if (over && (st = agree_stop(m, &stop, &h->interrupted, &fail, err)) != NNL_OK)
        goto done;
done:
    if (stop && !h->interrupted)
        h->stopped = 1;
    if (h->interrupted)
        nnl_interrupt_clear();
    nnl_free(idx);
    return st;
}
