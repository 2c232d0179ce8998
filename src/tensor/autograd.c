/* Autograd engine: nodes, recording, and the backward walk (autograd.h). */
#include "tensor/autograd.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

static int g_enabled = 1;

int nnl_ag_enabled(void) { return g_enabled; }

int nnl_ag_set_enabled(int on)
{
    int old = g_enabled;
    g_enabled = on != 0;
    return old;
}

int nnl_ag_needs(const nnl_tensor *t) { return g_enabled && t && t->node; }

void nnl_agnode_retain(nnl_agnode *n)
{
    if (n)
        n->refcount++;
}

/* Frees what a node holds besides its input references. */
static void node_drop_buffers(nnl_agnode *n)
{
    for (int i = 0; i < NNL_AG_MAXSAVED; i++) {
        nnl_tensor_free(n->saved[i]);
        n->saved[i] = NULL;
    }
    nnl_tensor_free(n->gacc);
    n->gacc = NULL;
}

void nnl_agnode_release(nnl_agnode *n)
{
    /* Iterative over chains of last references: a graph thousands of ops
     * deep must not recurse thousands of frames deep. */
    while (n && --n->refcount == 0) {
        nnl_agnode *chain = NULL;
        node_drop_buffers(n);
        nnl_tensor_free(n->grad);
        if (n->op && n->op->destroy)
            n->op->destroy(n);
        for (int i = 0; i < n->nin; i++) {
            if (!n->next[i])
                continue;
            if (!chain)
                chain = n->next[i];
            else
                nnl_agnode_release(n->next[i]);
        }
        nnl_free(n);
        n = chain;
    }
}

/* The rest of the engine is being written (session 13); these keep the
 * tree linking. */
nnl_status nnl_ag_requires_grad(nnl_tensor *t, int flag, nnl_error *err)
{
    (void)t; (void)flag;
    return nnl_fail(err, NNL_ERR_ARG, "requires_grad: not yet");
}
int nnl_ag_is_leaf(const nnl_tensor *t) { return t->node && !t->node->op; }
nnl_tensor *nnl_ag_grad(const nnl_tensor *t) { return t->node ? t->node->grad : NULL; }
nnl_status nnl_ag_set_grad(nnl_tensor *t, const nnl_tensor *g, nnl_error *err)
{
    (void)t; (void)g;
    return nnl_fail(err, NNL_ERR_ARG, "grad: not yet");
}
const char *nnl_ag_op_name(const nnl_tensor *t)
{
    return !t->node ? NULL : t->node->op ? t->node->op->name : "leaf";
}
nnl_status nnl_ag_record(const nnl_agop *op, nnl_tensor *out, const nnl_tensor *const *in,
                         int nin, nnl_agnode **node, nnl_error *err)
{
    (void)op; (void)out; (void)in; (void)nin; (void)err;
    *node = NULL;
    return NNL_OK;
}
nnl_status nnl_ag_save(nnl_agnode *n, int slot, const nnl_tensor *t, nnl_error *err)
{
    (void)n; (void)slot; (void)t;
    return nnl_fail(err, NNL_ERR_ARG, "save: not yet");
}
const nnl_tensor *nnl_ag_saved(const nnl_agnode *n, int slot) { return n->saved[slot]; }
nnl_status nnl_ag_backward(nnl_tensor *root, const nnl_tensor *grad, int retain, nnl_error *err)
{
    (void)root; (void)grad; (void)retain;
    return nnl_fail(err, NNL_ERR_ARG, "backward: not yet");
}
nnl_tensor *nnl_ag_sum_to(const nnl_tensor *g, int ndim, const size_t *shape, nnl_error *err)
{
    (void)g; (void)ndim; (void)shape;
    nnl_fail(err, NNL_ERR_ARG, "sum_to: not yet");
    return NULL;
}
