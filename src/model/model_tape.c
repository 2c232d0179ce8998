/* Layer and model calls recorded on the autograd tape (model_tape.h). */
#include "model/model_tape.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "tensor/autograd.h"

/* What a recorded layer call keeps: the layer (through its life), the
 * forward count and the weights' versions at the call, and its mode. */
typedef struct call_rec {
    nnl_life *life;
    unsigned long gen;
    int train;
    int nparams;
    unsigned long version[NNL_LAYER_MAX_PARAMS];
    int param_of_input[NNL_LAYER_MAX_PARAMS + 1]; /* input k -> params index */
} call_rec;

static void call_destroy(nnl_agnode *n)
{
    call_rec *r = n->extra;
    if (r) {
        nnl_life_release(r->life);
        nnl_free(r);
    }
    n->extra = NULL;
}

static nnl_status call_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    call_rec *r = n->extra;
    nnl_layer *l = r->life->obj;
    if (!l)
        return nnl_fail(err, NNL_ERR_ARG, "backward: the layer of this %s call was freed",
                        n->op->name);
    if (l->gen != r->gen)
        return nnl_fail(err, NNL_ERR_ARG,
                        "backward: layer '%s' ran again after this call (a model call, fit, "
                        "predict or evaluate); call backward before running it again",
                        l->name);
    if (!r->train && l->ops->train_differs)
        return nnl_fail(err, NNL_ERR_ARG,
                        "backward: layer '%s' (%s) was called in inference mode, which has no "
                        "gradient here; call it with {training = true}",
                        l->name, l->ops->type);
    for (int p = 0; p < l->nparams && p < r->nparams; p++)
        if (l->params[p].wt && l->params[p].wt->storage->version != r->version[p])
            return nnl_fail(err, NNL_ERR_ARG,
                            "backward: the %s of layer '%s' changed after this call (an "
                            "optimizer step?); run the forward again",
                            l->params[p].name, l->name);
    if (l->nparams != r->nparams)
        return nnl_fail(err, NNL_ERR_ARG, "backward: layer '%s' was rebuilt after this call",
                        l->name);
    const nnl_tensor *x = nnl_ag_saved(n, 0), *y = nnl_ag_saved(n, 1);
    size_t batch = x->shape[0];
    nnl_tensor *dy = nnl_tensor_clone(g, err); /* backward may use dy as scratch */
    if (!dy)
        return err->code;
    if (n->next[0] && !(gin[0] = nnl_tensor_new_like(x, err))) {
        nnl_tensor_free(dy);
        return err->code;
    }
    /* The loss of a compiled model may be fused with its last activation
     * (fit hands the last layer dL/dz); a gradient from the tape is dL/dy. */
    int fused = l->act_fused;
    l->act_fused = 0;
    nnl_status st = nnl_layer_backward(l, batch, x->data, y->data, dy->data,
                                       gin[0] ? gin[0]->data : NULL, err);
    l->act_fused = fused;
    nnl_tensor_free(dy);
    if (st != NNL_OK)
        return st;
    for (int k = 1; k < n->nin; k++) {
        if (!n->next[k])
            continue;
        const nnl_param *p = &l->params[r->param_of_input[k]];
        if (!(gin[k] = nnl_tensor_new(p->wt->ndim, p->wt->shape, err)))
            return err->code;
        memcpy(gin[k]->data, p->g, p->n * sizeof(float));
    }
    return NNL_OK;
}

/* The node's name is the layer kind's ("Dense"): t.grad_fn and the graph
 * plot show which layer made a tensor. One op per kind, made on first use
 * (the kinds are a fixed table, so at most that many). */
static const nnl_agop *call_op(const nnl_layer_ops *kind)
{
    enum { MAXK = 64 };
    static nnl_agop ops[MAXK];
    static const nnl_layer_ops *kinds[MAXK];
    static const nnl_agop generic = {"layer", call_bwd, call_destroy};
    for (int i = 0; i < MAXK; i++) {
        if (kinds[i] == kind)
            return &ops[i];
        if (!kinds[i]) {
            kinds[i] = kind;
            ops[i] = (nnl_agop){kind->type, call_bwd, call_destroy};
            return &ops[i];
        }
    }
    return &generic;
}

nnl_tensor *nnl_layer_call(nnl_layer *l, const nnl_tensor *x, int train, nnl_error *err)
{
    char a[64], b[64];
    if (l->busy) {
        nnl_fail(err, NNL_ERR_ARG, "%s: a loss, metric or layer function cannot run the model "
                 "(it is in the middle of a step)", l->name);
        return NULL;
    }
    if (x->ndim < 2) {
        nnl_fail(err, NNL_ERR_SHAPE, "%s: the input needs a batch dimension first, got shape %s",
                 l->name, nnl_shape_str(x, a, sizeof a));
        return NULL;
    }
    nnl_shape in = {x->ndim - 1, {0}};
    for (int d = 1; d < x->ndim; d++)
        in.d[d - 1] = x->shape[d];
    if (!l->built && nnl_layer_build(l, &in, nnl_rng_global(), err) != NNL_OK)
        return NULL;
    int same = in.ndim == l->in_shape.ndim;
    for (int d = 0; same && d < in.ndim; d++)
        same = in.d[d] == l->in_shape.d[d];
    if (!same) {
        nnl_fail(err, NNL_ERR_SHAPE, "%s: built for input %s, got %s", l->name,
                 nnl_shape_keras(&l->in_shape, a, sizeof a), nnl_shape_keras(&in, b, sizeof b));
        return NULL;
    }
    if (l->ops->tape_call)
        return l->ops->tape_call(l, x, train, err);
    size_t batch = x->shape[0];
    size_t shape[NNL_MAX_DIMS];
    shape[0] = batch;
    for (int d = 0; d < l->out_shape.ndim; d++)
        shape[d + 1] = l->out_shape.d[d];
    nnl_tensor *y = nnl_tensor_new(l->out_shape.ndim + 1, shape, err);
    if (!y)
        return NULL;
    if (batch && nnl_layer_forward(l, batch, x->data, y->data, train, err) != NNL_OK) {
        nnl_tensor_free(y);
        return NULL;
    }
    /* Inputs: x, then each trainable weight. */
    const nnl_tensor *in_t[NNL_LAYER_MAX_PARAMS + 1] = {x};
    int nin = 1, pidx[NNL_LAYER_MAX_PARAMS + 1] = {0};
    for (int p = 0; p < l->nparams; p++)
        if (l->params[p].trainable && l->params[p].wt) {
            pidx[nin] = p;
            in_t[nin++] = l->params[p].wt;
        }
    nnl_agnode *n;
    if (nnl_ag_record_n(call_op(l->ops), y, in_t, nin, &n, err) != NNL_OK)
        goto fail;
    if (!n)
        return y;
    call_rec *r = nnl_calloc(1, sizeof *r);
    if (!r) {
        nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", l->name);
        goto fail;
    }
    r->life = l->life;
    r->life->refs++;
    r->gen = l->gen;
    r->train = train;
    r->nparams = l->nparams;
    for (int p = 0; p < l->nparams; p++)
        r->version[p] = l->params[p].wt ? l->params[p].wt->storage->version : 0;
    memcpy(r->param_of_input, pidx, sizeof pidx);
    n->extra = r;
    if (nnl_ag_save(n, 0, x, err) != NNL_OK || nnl_ag_save(n, 1, y, err) != NNL_OK)
        goto fail;
    return y;
fail:
    nnl_tensor_free(y); /* frees the node and its record with it */
    return NULL;
}

nnl_tensor *nnl_model_call(nnl_model *m, const nnl_tensor *x, int train, nnl_error *err)
{
    if (nnl_model_check_x(m, x, "", err) != NNL_OK)
        return NULL;
    /* A 1-D x is N samples of one feature, as fit takes it. */
    nnl_tensor *x2 = NULL;
    if (x->ndim == 1) {
        if (x->node) { /* its gradient would have the other shape */
            nnl_fail(err, NNL_ERR_SHAPE, "a 1-D input that requires grad: give it as N x 1 "
                     "(x:reshape(-1, 1)) to differentiate it");
            return NULL;
        }
        if (!(x2 = nnl_tensor_reshape(x, 2, (const long[]){(long)x->numel, 1}, err)))
            return NULL;
        x = x2;
    }
    nnl_tensor *cur = NULL;
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_tensor *next = nnl_layer_call(m->layers[i], i ? cur : x, train, err);
        nnl_tensor_free(cur);
        if (!next) {
            nnl_tensor_free(x2);
            return NULL;
        }
        cur = next;
    }
    nnl_tensor_free(x2);
    return cur;
}
