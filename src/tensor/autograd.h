/* Autograd: reverse-mode differentiation of tensor operations, recorded by
 * the C core as they run (a graph of nodes, not a Lua table per operation).
 *
 * A tensor whose gradient is wanted (a leaf: nnl_ag_requires_grad) holds
 * an accumulator node; every differentiable operation on tensors that need
 * gradients gives its result a node that records the operation, the nodes
 * of its inputs and what its backward needs (saved tensors, arguments).
 * nnl_ag_backward walks the graph from a result back to the leaves and
 * adds dL/dleaf into each leaf's gradient.
 *
 * Writing a differentiable operation (src/tensor/ag_*.c):
 *
 *     static nnl_status exp_bwd(nnl_agnode *n, const nnl_tensor *g,
 *                               nnl_tensor **gin, nnl_error *err)
 *     {   // d exp(x) = exp(x) dx: the saved output times g
 *         gin[0] = nnl_tensor_binop(NNL_MUL, g, nnl_ag_saved(n, 0), err);
 *         return gin[0] ? NNL_OK : err->code;
 *     }
 *     static const nnl_agop op_exp = {"exp", exp_bwd, NULL};
 *
 *     nnl_tensor *nnl_ag_exp(const nnl_tensor *x, nnl_error *err)
 *     {
 *         nnl_tensor *y = nnl_tensor_exp(x, err);          // the math
 *         nnl_agnode *n;
 *         if (!y || nnl_ag_record(&op_exp, y, &x, 1, &n, err) != NNL_OK)
 *             goto fail;
 *         if (n && nnl_ag_save(n, 0, y, err) != NNL_OK)
 *             goto fail;
 *         return y;
 *     fail:
 *         nnl_tensor_free(y);
 *         return NULL;
 *     }
 *
 * Rules for an op's backward: it runs with recording off; it reads only
 * its node (saved tensors, in_shape, iarg/farg, extra) and g, the gradient
 * of its output (the output's shape); it sets gin[i] to a new tensor of
 * input i's shape for every i with n->next[i] != NULL (the others may be
 * left NULL) and returns NNL_OK, or frees what it made and fails. An
 * input that was broadcast gets its gradient summed back to its shape.
 * Ops that are not differentiable (comparisons, argmax, floor) record
 * nothing: their result is a constant.
 *
 * Memory: a node holds a reference to the nodes of its inputs, so the
 * graph lives as long as a tensor that needs it. A backward (unless told
 * to retain the graph) frees every saved tensor of the nodes it walked and
 * drops their input references, so repeated steps do not grow memory; a
 * second backward through them is a clear error.
 *
 * Errors never leave half a result: a backward that fails changes no
 * leaf's gradient and frees nothing. */
#ifndef NNL_AUTOGRAD_H
#define NNL_AUTOGRAD_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

#define NNL_AG_MAXIN 4      /* inputs of one recorded operation */
#define NNL_AG_MAXSAVED 4   /* tensors one operation saves */

typedef struct nnl_agnode nnl_agnode;

/* One kind of recorded operation, declared once where the op is. */
typedef struct nnl_agop {
    const char *name;       /* "mul", "matmul": t.grad_fn, nn.plot.graph */
    nnl_status (*backward)(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                           nnl_error *err);
    void (*destroy)(nnl_agnode *n); /* frees n->extra; NULL: nothing */
} nnl_agop;

struct nnl_agnode {
    long refcount;
    const nnl_agop *op;     /* NULL for a leaf's accumulator */
    int nin;
    /* The node of each input (its maker or its leaf accumulator), or NULL
     * when that input needs no gradient. One reference each. Arrays of nin
     * entries: the inline ones below, or for an op of more inputs (a model
     * call and its weights: nnl_ag_record_n) one heap block. */
    nnl_agnode **next;
    int *in_ndim;
    size_t (*in_shape)[NNL_MAX_DIMS];
    nnl_agnode *next_inline[NNL_AG_MAXIN];
    int in_ndim_inline[NNL_AG_MAXIN];
    size_t in_shape_inline[NNL_AG_MAXIN][NNL_MAX_DIMS];
    int out_ndim;
    size_t out_shape[NNL_MAX_DIMS];
    /* Saved tensors (views sharing storage) and the storage versions they
     * had when saved. */
    nnl_tensor *saved[NNL_AG_MAXSAVED];
    unsigned long saved_version[NNL_AG_MAXSAVED];
    /* Arguments of the op (dims, exponents): the op's own use. */
    long iarg[NNL_MAX_DIMS + 4];
    double farg[4];
    void *extra;            /* op-owned, freed by op->destroy */
    int released;           /* a backward freed the saved tensors */
    /* A leaf that is a layer's weight (model/layer.c): its tensors always
     * require grad, since the layer keeps this node. */
    int pinned;
    /* Leaf accumulators: the gradient summed so far (NULL until the first
     * backward reaches it), of the leaf's shape. */
    nnl_tensor *grad;
    /* Engine scratch during one backward. */
    nnl_tensor *gacc;
    unsigned long visit;
    nnl_agnode *link;       /* nnl_agnode_release's queue */
    /* nn.plot.graph: the norm of the last gradient that flowed out of the
     * node (NaN before any backward). */
    double gnorm;
};

/* Recording mode (nn.no_grad turns it off). Global: the library serves
 * one Lua state at a time. nnl_ag_set_enabled returns the old mode. */
int nnl_ag_enabled(void);
int nnl_ag_set_enabled(int on);

/* Whether an op on t must be recorded: recording is on and t has a node. */
int nnl_ag_needs(const nnl_tensor *t);

/* Makes t a leaf whose gradient is wanted (flag != 0): gives it an
 * accumulator node. A tensor made by a recorded op cannot be made a leaf
 * (NNL_ERR_ARG: detach it first); flag == 0 on a leaf drops its node and
 * gradient. */
nnl_status nnl_ag_requires_grad(nnl_tensor *t, int flag, nnl_error *err);
/* Whether t is a leaf with an accumulator. */
int nnl_ag_is_leaf(const nnl_tensor *t);
/* The leaf's accumulated gradient, or NULL (not a leaf, or none yet). */
nnl_tensor *nnl_ag_grad(const nnl_tensor *t);
/* Sets (a copy of g; NULL clears) the leaf's gradient; g must have t's
 * shape. */
nnl_status nnl_ag_set_grad(nnl_tensor *t, const nnl_tensor *g, nnl_error *err);
/* The name of the op that made t ("mul"), "leaf" for a leaf, or NULL. */
const char *nnl_ag_op_name(const nnl_tensor *t);

/* Records op with output out and inputs in[0..nin): when recording is on
 * and some input needs gradients, makes a node (input shapes, input
 * nodes), sets out->node and *node to it; otherwise *node = NULL and
 * nothing changes. out must not have a node yet. */
nnl_status nnl_ag_record(const nnl_agop *op, nnl_tensor *out, const nnl_tensor *const *in,
                         int nin, nnl_agnode **node, nnl_error *err);
/* As nnl_ag_record for an op of any number of inputs (up to 65536): a
 * model call records its input and every trainable weight. */
#define NNL_AG_MAXIN_N 65536
nnl_status nnl_ag_record_n(const nnl_agop *op, nnl_tensor *out, const nnl_tensor *const *in,
                           int nin, nnl_agnode **node, nnl_error *err);
/* Saves t (a view of its storage and its version) in slot of n. */
nnl_status nnl_ag_save(nnl_agnode *n, int slot, const nnl_tensor *t, nnl_error *err);
/* A saved tensor (backward only; the engine checked its version). */
const nnl_tensor *nnl_ag_saved(const nnl_agnode *n, int slot);

/* Backward from root: grad is dL/droot (root's shape), or NULL when root
 * has one element (then 1). Adds into the gradient of every leaf root
 * depends on. retain != 0 keeps the graph for another backward. */
nnl_status nnl_ag_backward(nnl_tensor *root, const nnl_tensor *grad, int retain,
                           nnl_error *err);

/* The graph behind a node, for drawing it (nn.plot.graph): up to limit
 * nodes breadth-first from root, each with a reference held, their
 * distances from root, and the edges as pairs (input's index, user's
 * index). more is set when nodes were left out. Free with
 * nnl_ag_view_free (also after a failure: then it is empty). */
typedef struct nnl_ag_view {
    nnl_agnode **nodes;
    long *depth;
    size_t n;
    size_t *edges;                /* 2 * ne entries */
    size_t ne;
    int more;
} nnl_ag_view;
nnl_status nnl_ag_collect(nnl_agnode *root, size_t limit, nnl_ag_view *v, nnl_error *err);
void nnl_ag_view_free(nnl_ag_view *v);

/* Releases one reference to n (NULL does nothing). */
void nnl_agnode_release(nnl_agnode *n);
void nnl_agnode_retain(nnl_agnode *n);

/* For backward functions: g summed over the dimensions that broadcasting
 * stretched to give an input of shape (ndim, shape); a copy of g when the
 * shapes are equal. A new tensor. */
nnl_tensor *nnl_ag_sum_to(const nnl_tensor *g, int ndim, const size_t *shape,
                          nnl_error *err);

#endif
