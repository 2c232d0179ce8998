/* model:train_on_batch(x, y) and model:test_on_batch(x, y): one step of
 * fit (or of evaluate) on one batch given whole, as Keras has them. */
#include <string.h>

#include "core/alloc.h"
#include "model/model.h"

nnl_status nnl_model_prepare_optim(nnl_model *m, nnl_error *err)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            n += m->layers[i]->params[p].trainable;
    size_t *sizes = nnl_malloc((n ? n : 1) * sizeof *sizes);
    if (!sizes)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            if (m->layers[i]->params[p].trainable)
                sizes[k++] = m->layers[i]->params[p].n;
    nnl_status st = nnl_optim_prepare(m->opt, n, sizes, err);
    nnl_free(sizes);
    return st;
}

nnl_status nnl_model_on_batch(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                              int train, nnl_logs *logs, nnl_error *err)
{
    size_t ycols;
    nnl_status st = nnl_model_check_pair(m, x, y, &ycols, err);
    if (st != NNL_OK)
        return st;
    size_t n = x->shape[0];
    if ((st = nnl_model_reserve(m, n, ycols, err)) != NNL_OK)
        return st;
    if (train && (st = nnl_model_prepare_optim(m, err)) != NNL_OK)
        return st;
    nnl_model_reset_metrics(m);
    /* Over ranks the batch is the global one: each rank takes its share. */
    size_t first = 0, cnt = n;
    int over = nnl_comm_active(m->comm);
    if (over)
        nnl_comm_shard(n, m->comm->rank, m->comm->size, &first, &cnt);
    size_t xs = x->numel / n;
    memcpy(m->acts[0], x->data + first * xs, cnt * xs * sizeof(float));
    memcpy(m->ybuf, y->data + first * ycols, cnt * ycols * sizeof(float));
    double loss = 0.0;
    if (train)
        st = nnl_model_train_step_over(m, cnt, n, ycols, &loss, err);
    else if (cnt > 0)
        st = nnl_model_eval_step(m, cnt, ycols, &loss, err);
    if (st != NNL_OK)
        return st;
    if (over) {
        double total = loss * (double)cnt;
        if ((st = nnl_model_reduce_metrics(m, &total, err)) != NNL_OK)
            return st;
        /* a training step's rank loss holds the penalty: once per row */
        loss = total / (double)n;
    }
    /* a training step's loss already holds the penalty (as fit's) */
    nnl_model_fill_logs(m, train ? loss : loss + nnl_model_reg_loss(m), logs);
    return NNL_OK;
}
