/* Losses on the autograd tape (loss_tape.h). */
#include "model/loss_tape.h"

#include <string.h>

#include "model/loss.h"
#include "simd/kernels.h"
#include "tensor/autograd.h"

static nnl_status loss_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    const nnl_tensor *dpred = nnl_ag_saved(n, 0);
    if (!(gin[0] = nnl_tensor_new(n->in_ndim[0], n->in_shape[0], err)))
        return err->code;
    nnl_kernels_active()->scale(dpred->numel, g->data[0], dpred->data, gin[0]->data);
    return NNL_OK;
}

/* One op per loss, named as the loss (t.grad_fn, the graph plot). */
static const nnl_agop *loss_op(int loss)
{
    static nnl_agop ops[NNL_LOSS_COUNT];
    if (!ops[loss].name)
        ops[loss] = (nnl_agop){nnl_loss_name(loss), loss_bwd, NULL};
    return &ops[loss];
}

nnl_tensor *nnl_loss_call(int loss, const nnl_tensor *y_true, const nnl_tensor *y_pred,
                          nnl_error *err)
{
    char a[96], b[96];
    if (nnl_ag_needs(y_true)) {
        nnl_fail(err, NNL_ERR_ARG, "y_true requires grad; a loss differentiates y_pred "
                 "only (pass y_true:detach())");
        return NULL;
    }
    size_t cols = y_pred->ndim == 1 ? 1 : y_pred->shape[y_pred->ndim - 1];
    size_t rows = cols ? y_pred->numel / cols : 0;
    if (rows == 0 || cols == 0) {
        nnl_fail(err, NNL_ERR_SHAPE, "y_pred of shape %s has no elements",
                 nnl_shape_str(y_pred, a, sizeof a));
        return NULL;
    }
    int sparse = loss == NNL_LOSS_SCCE;
    size_t want = sparse ? rows : y_pred->numel;
    if (y_true->numel != want) {
        nnl_fail(err, NNL_ERR_SHAPE, "y_true of shape %s does not fit y_pred of shape %s "
                 "(%s)", nnl_shape_str(y_true, a, sizeof a),
                 nnl_shape_str(y_pred, b, sizeof b),
                 sparse ? "one class index per row" : "the same number of values");
        return NULL;
    }
    if (nnl_loss_check_targets(loss, y_true->data, rows, cols, "", err) != NNL_OK)
        return NULL;
    nnl_tensor *out = nnl_tensor_new1(1, err);
    nnl_tensor *grad = out ? nnl_tensor_new_like(y_pred, err) : NULL;
    if (!grad) {
        nnl_tensor_free(out);
        return NULL;
    }
    double v = 0;
    int record = nnl_ag_needs(y_pred);
    nnl_status st = nnl_loss_eval(loss, rows, cols, y_pred->data, NULL, y_true->data,
                                  record ? grad->data : NULL, &v, err);
    out->data[0] = (float)v;
    nnl_agnode *n = NULL;
    if (st == NNL_OK && record)
        st = nnl_ag_record(loss_op(loss), out, &y_pred, 1, &n, err);
    if (st == NNL_OK && n)
        st = nnl_ag_save(n, 0, grad, err);
    nnl_tensor_free(grad); /* the node keeps its own reference */
    if (st != NNL_OK) {
        nnl_tensor_free(out);
        return NULL;
    }
    return out;
}
