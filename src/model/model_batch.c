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
    memcpy(m->acts[0], x->data, x->numel * sizeof(float));
    memcpy(m->ybuf, y->data, n * ycols * sizeof(float));
    double loss;
    st = train ? nnl_model_train_step(m, n, ycols, &loss, err)
               : nnl_model_eval_step(m, n, ycols, &loss, err);
    if (st != NNL_OK)
        return st;
    /* a training step's loss already holds the penalty (as fit's) */
    nnl_model_fill_logs(m, train ? loss : loss + nnl_model_reg_loss(m), logs);
    return NNL_OK;
}
