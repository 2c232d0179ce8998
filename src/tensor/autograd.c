/* Autograd engine: nodes, recording, and the backward walk (autograd.h). */
#include "tensor/autograd.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "simd/kernels.h"

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
    /* A worklist instead of recursion: a graph thousands of ops deep must
     * not take thousands of stack frames to free. A node is queued once,
     * when its count reaches zero; past the array, queued nodes are linked
     * through their own `link` field. */
    if (!n || --n->refcount > 0)
        return;
    nnl_agnode *stack[64];
    size_t top = 0;
    nnl_agnode *spill = NULL;
    stack[top++] = n;
    for (;;) {
        nnl_agnode *x;
        if (top)
            x = stack[--top];
        else if (spill) {
            x = spill;
            spill = x->link;
        } else
            break;
        node_drop_buffers(x);
        nnl_tensor_free(x->grad);
        if (x->op && x->op->destroy)
            x->op->destroy(x);
        for (int i = 0; i < x->nin; i++) {
            nnl_agnode *c = x->next[i];
            if (!c || --c->refcount > 0)
                continue;
            if (top < sizeof stack / sizeof *stack)
                stack[top++] = c;
            else {
                c->link = spill;
                spill = c;
            }
        }
        if (x->next != x->next_inline)
            nnl_free(x->next);
        nnl_free(x);
    }
}

static nnl_agnode *node_new(nnl_error *err)
{
    nnl_agnode *n = nnl_calloc(1, sizeof *n);
    if (!n) {
        nnl_fail(err, NNL_ERR_NOMEM, "autograd: out of memory");
        return NULL;
    }
    n->refcount = 1;
    n->gnorm = NAN;
    n->next = n->next_inline;
    n->in_ndim = n->in_ndim_inline;
    n->in_shape = n->in_shape_inline;
    return n;
}

static void shape_copy(int ndim, const size_t *from, int *nd, size_t *to)
{
    *nd = ndim;
    for (int d = 0; d < ndim; d++)
        to[d] = from[d];
}

nnl_status nnl_ag_requires_grad(nnl_tensor *t, int flag, nnl_error *err)
{
    if (t->node && t->node->op)
        return nnl_fail(err, NNL_ERR_ARG,
                        "requires_grad: only a leaf can change it; this tensor was made by '%s' "
                        "(use t:detach() for a new leaf)",
                        t->node->op->name);
    if (!flag && t->node && t->node->pinned)
        return nnl_fail(err, NNL_ERR_ARG,
                        "requires_grad: this tensor is a layer's weight, whose gradient the "
                        "layer keeps; it always requires grad (use nn.no_grad to change it "
                        "without recording)");
    if (!flag) {
        nnl_agnode_release(t->node);
        t->node = NULL;
        return NNL_OK;
    }
    if (t->node)
        return NNL_OK;
    nnl_agnode *n = node_new(err);
    if (!n)
        return err->code;
    shape_copy(t->ndim, t->shape, &n->out_ndim, n->out_shape);
    t->node = n;
    return NNL_OK;
}

int nnl_ag_is_leaf(const nnl_tensor *t) { return t->node && !t->node->op; }

nnl_tensor *nnl_ag_grad(const nnl_tensor *t)
{
    return nnl_ag_is_leaf(t) ? t->node->grad : NULL;
}

static int same_shape(int nd, const size_t *s, const nnl_tensor *t)
{
    if (nd != t->ndim)
        return 0;
    for (int d = 0; d < nd; d++)
        if (s[d] != t->shape[d])
            return 0;
    return 1;
}

nnl_status nnl_ag_set_grad(nnl_tensor *t, const nnl_tensor *g, nnl_error *err)
{
    char a[96], b[96];
    if (!nnl_ag_is_leaf(t))
        return nnl_fail(err, NNL_ERR_ARG, "grad: only a tensor that requires grad (a leaf) has one");
    if (g && !same_shape(t->ndim, t->shape, g))
        return nnl_fail(err, NNL_ERR_ARG, "grad: shape %s does not match the tensor's %s",
                        nnl_shape_str(g, a, sizeof a), nnl_shape_str(t, b, sizeof b));
    nnl_tensor *c = NULL;
    if (g && !(c = nnl_tensor_clone(g, err)))
        return err->code;
    nnl_tensor_free(t->node->grad);
    t->node->grad = c;
    return NNL_OK;
}

const char *nnl_ag_op_name(const nnl_tensor *t)
{
    return !t->node ? NULL : t->node->op ? t->node->op->name : "leaf";
}

static nnl_status record(const nnl_agop *op, nnl_tensor *out, const nnl_tensor *const *in,
                         int nin, int maxin, nnl_agnode **node, nnl_error *err)
{
    *node = NULL;
    if (!g_enabled)
        return NNL_OK;
    if (nin < 1 || nin > maxin)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d inputs (autograd records 1 to %d)", op->name,
                        nin, maxin);
    int any = 0;
    for (int i = 0; i < nin; i++)
        any |= in[i] && in[i]->node;
    if (!any)
        return NNL_OK;
    if (out->node)
        return nnl_fail(err, NNL_ERR_ARG, "%s: the result is already in a graph", op->name);
    nnl_agnode *n = node_new(err);
    if (!n)
        return err->code;
    if (nin > NNL_AG_MAXIN) {
        size_t sz = (size_t)nin * (sizeof *n->next + sizeof *n->in_shape + sizeof *n->in_ndim);
        char *blk = nnl_calloc(1, sz);
        if (!blk) {
            nnl_free(n);
            return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", op->name);
        }
        /* One block: the input pointers first (the block is freed through
         * n->next), then the shapes, then the ranks; pointers and size_t
         * share an alignment on every target we build for. */
        n->next = (nnl_agnode **)blk;
        n->in_shape = (size_t(*)[NNL_MAX_DIMS])(blk + (size_t)nin * sizeof *n->next);
        n->in_ndim = (int *)(blk + (size_t)nin * (sizeof *n->next + sizeof *n->in_shape));
    }
    n->op = op;
    n->nin = nin;
    for (int i = 0; i < nin; i++) {
        if (!in[i])
            continue;
        shape_copy(in[i]->ndim, in[i]->shape, &n->in_ndim[i], n->in_shape[i]);
        n->next[i] = in[i]->node;
        nnl_agnode_retain(n->next[i]);
    }
    shape_copy(out->ndim, out->shape, &n->out_ndim, n->out_shape);
    out->node = n;
    *node = n;
    return NNL_OK;
}

nnl_status nnl_ag_save(nnl_agnode *n, int slot, const nnl_tensor *t, nnl_error *err)
{
    if (slot < 0 || slot >= NNL_AG_MAXSAVED)
        return nnl_fail(err, NNL_ERR_ARG, "%s: saved slot %d out of range", n->op->name, slot);
    nnl_tensor *v = nnl_tensor_view(t, err);
    if (!v)
        return err->code;
    nnl_tensor_free(n->saved[slot]);
    n->saved[slot] = v;
    n->saved_version[slot] = t->storage->version;
    return NNL_OK;
}

nnl_status nnl_ag_record(const nnl_agop *op, nnl_tensor *out, const nnl_tensor *const *in,
                         int nin, nnl_agnode **node, nnl_error *err)
{
    return record(op, out, in, nin, NNL_AG_MAXIN, node, err);
}

nnl_status nnl_ag_record_n(const nnl_agop *op, nnl_tensor *out, const nnl_tensor *const *in,
                           int nin, nnl_agnode **node, nnl_error *err)
{
    return record(op, out, in, nin, NNL_AG_MAXIN_N, node, err);
}

const nnl_tensor *nnl_ag_saved(const nnl_agnode *n, int slot)
{
    return slot >= 0 && slot < NNL_AG_MAXSAVED ? n->saved[slot] : NULL;
}

/* ---- backward ---- */

/* The nodes one backward walks, each with a reference held, in an order
 * where every node comes before the nodes of its inputs. */
typedef struct walk {
    nnl_agnode **v;
    size_t n, cap;
} walk;

static int walk_push(walk *w, nnl_agnode *n)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        nnl_agnode **v = nnl_malloc(cap * sizeof *v);
        if (!v)
            return 0;
        if (w->n)
            memcpy(v, w->v, w->n * sizeof *v);
        nnl_free(w->v);
        w->v = v;
        w->cap = cap;
    }
    nnl_agnode_retain(n);
    w->v[w->n++] = n;
    return 1;
}

static void walk_free(walk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        nnl_tensor_free(w->v[i]->gacc);
        w->v[i]->gacc = NULL;
        nnl_agnode_release(w->v[i]);
    }
    nnl_free(w->v);
}

/* Depth-first post-order from root, then reversed: a topological order
 * from the output to the leaves. Iterative (frames on the heap). */
static unsigned long visit_counter; /* a fresh mark per walk of a graph */

static nnl_status walk_build(nnl_agnode *root, walk *out, nnl_error *err)
{
    unsigned long mark = ++visit_counter;
    typedef struct frame {
        nnl_agnode *n;
        int i;
    } frame;
    frame *st = NULL;
    size_t top = 0, cap = 0;
    walk post = {0};
    nnl_status rc = NNL_OK;

#define PUSH(node)                                                                          \
    do {                                                                                    \
        if (top == cap) {                                                                   \
            size_t nc = cap ? 2 * cap : 64;                                                 \
            frame *ns = nnl_malloc(nc * sizeof *ns);                                        \
            if (!ns) {                                                                      \
                rc = nnl_fail(err, NNL_ERR_NOMEM, "backward: out of memory");               \
                goto done;                                                                  \
            }                                                                               \
            if (top)                                                                        \
                memcpy(ns, st, top * sizeof *ns);                                           \
            nnl_free(st);                                                                   \
            st = ns;                                                                        \
            cap = nc;                                                                       \
        }                                                                                   \
        (node)->visit = mark;                                                               \
        st[top].n = (node);                                                                 \
        st[top].i = 0;                                                                      \
        top++;                                                                              \
    } while (0)

    PUSH(root);
    while (top) {
        frame *f = &st[top - 1];
        nnl_agnode *n = f->n;
        if (n->released) {
            rc = nnl_fail(err, NNL_ERR_ARG,
                          "backward: the graph through '%s' was freed by an earlier backward "
                          "(pass {retain_graph = true} to the first backward to go through it "
                          "again)",
                          n->op ? n->op->name : "leaf");
            goto done;
        }
        if (f->i < n->nin) {
            nnl_agnode *c = n->next[f->i++];
            if (c && c->visit != mark)
                PUSH(c);
            continue;
        }
        top--;
        if (!walk_push(&post, n)) {
            rc = nnl_fail(err, NNL_ERR_NOMEM, "backward: out of memory");
            goto done;
        }
    }
#undef PUSH
    /* Reverse the post-order into out. */
    for (size_t i = 0; i < post.n / 2; i++) {
        nnl_agnode *t = post.v[i];
        post.v[i] = post.v[post.n - 1 - i];
        post.v[post.n - 1 - i] = t;
    }
    *out = post;
    post.v = NULL;
    post.n = 0;
done:
    nnl_free(st);
    walk_free(&post);
    return rc;
}

static double norm2(const nnl_tensor *t)
{
    return sqrt((double)nnl_kernels_active()->dot(t->numel, t->data, t->data));
}

/* acc += g (same shape), or acc takes a copy of g. */
static nnl_status accumulate(nnl_tensor **acc, nnl_tensor *g, nnl_error *err)
{
    if (!*acc) {
        *acc = g;
        return NNL_OK;
    }
    nnl_kernels_active()->add((*acc)->numel, (*acc)->data, g->data, (*acc)->data);
    nnl_tensor_free(g);
    (void)err;
    return NNL_OK;
}

nnl_status nnl_ag_backward(nnl_tensor *root, const nnl_tensor *grad, int retain, nnl_error *err)
{
    char a[96], b[96];
    if (!root->node)
        return nnl_fail(err, NNL_ERR_ARG,
                        "backward: the tensor does not require grad (nothing it was computed "
                        "from requires grad)");
    if (!grad && root->numel != 1)
        return nnl_fail(err, NNL_ERR_ARG,
                        "backward: the gradient can be left out only for a one-element tensor; "
                        "this one has shape %s (pass y:backward(grad) with a tensor of that "
                        "shape)",
                        nnl_shape_str(root, a, sizeof a));
    if (grad && !same_shape(root->ndim, root->shape, grad))
        return nnl_fail(err, NNL_ERR_ARG, "backward: the gradient has shape %s, the tensor %s",
                        nnl_shape_str(grad, a, sizeof a), nnl_shape_str(root, b, sizeof b));
    walk w = {0};
    nnl_status rc = walk_build(root->node, &w, err);
    if (rc != NNL_OK)
        return rc;
    /* Every saved tensor still holds what it held when saved: checked
     * before anything is computed, so a refusal changes nothing. */
    for (size_t i = 0; i < w.n; i++) {
        nnl_agnode *n = w.v[i];
        for (int s = 0; s < NNL_AG_MAXSAVED; s++)
            if (n->saved[s] && n->saved[s]->storage->version != n->saved_version[s]) {
                rc = nnl_fail(err, NNL_ERR_ARG,
                              "backward: a tensor that '%s' needs was changed in place after "
                              "it was used (version %lu, saved at %lu); clone it before "
                              "changing it, or change it under nn.no_grad before the forward",
                              n->op->name, n->saved[s]->storage->version, n->saved_version[s]);
                goto fail;
            }
    }
    nnl_tensor *seed = grad ? nnl_tensor_clone(grad, err) : nnl_tensor_new_like(root, err);
    if (!seed) {
        rc = err->code;
        goto fail;
    }
    if (!grad)
        seed->data[0] = 1.0f;
    w.v[0]->gacc = seed;

    int was = nnl_ag_set_enabled(0);
    for (size_t i = 0; i < w.n; i++) {
        nnl_agnode *n = w.v[i];
        if (!n->op || !n->gacc)
            continue; /* a leaf waits for the commit; no gradient reached n */
        nnl_tensor *gin_inline[NNL_AG_MAXIN] = {0}, **gin = gin_inline;
        if (n->nin > NNL_AG_MAXIN && !(gin = nnl_calloc((size_t)n->nin, sizeof *gin))) {
            rc = nnl_fail(err, NNL_ERR_NOMEM, "backward: out of memory");
            break;
        }
        rc = n->op->backward(n, n->gacc, gin, err);
        n->gnorm = norm2(n->gacc);
        for (int k = 0; k < n->nin && rc == NNL_OK; k++) {
            if (!n->next[k])
                continue;
            if (!gin[k] || !same_shape(n->in_ndim[k], n->in_shape[k], gin[k])) {
                rc = nnl_fail(err, NNL_ERR_ARG,
                              "backward: '%s' gave %s %s for its input %d of shape %s", n->op->name,
                              gin[k] ? "a gradient of shape" : "no gradient",
                              gin[k] ? nnl_shape_str(gin[k], a, sizeof a) : "", k + 1,
                              nnl_shape_str_raw(n->in_ndim[k], n->in_shape[k], b, sizeof b));
                break;
            }
            rc = accumulate(&n->next[k]->gacc, gin[k], err);
            gin[k] = NULL;
        }
        for (int k = 0; k < (n->nin > NNL_AG_MAXIN ? n->nin : NNL_AG_MAXIN); k++)
            nnl_tensor_free(gin[k]);
        if (gin != gin_inline)
            nnl_free(gin);
        nnl_tensor_free(n->gacc);
        n->gacc = NULL;
        if (rc != NNL_OK)
            break;
    }
    nnl_ag_set_enabled(was);
    if (rc != NNL_OK)
        goto fail;
    /* Commit: every leaf's gradient gets its sum (nothing here can fail). */
    for (size_t i = 0; i < w.n; i++) {
        nnl_agnode *n = w.v[i];
        if (n->op || !n->gacc)
            continue;
        n->gnorm = norm2(n->gacc);
        nnl_tensor *g = n->gacc;
        n->gacc = NULL;
        accumulate(&n->grad, g, err);
    }
    if (!retain)
        for (size_t i = 0; i < w.n; i++) {
            nnl_agnode *n = w.v[i];
            if (!n->op)
                continue;
            node_drop_buffers(n);
            for (int k = 0; k < n->nin; k++) {
                nnl_agnode_release(n->next[k]);
                n->next[k] = NULL;
            }
            n->released = 1;
        }
    walk_free(&w);
    return NNL_OK;
fail:
    walk_free(&w);
    return rc;
}

/* ---- a view of the graph, for drawing ---- */

void nnl_ag_view_free(nnl_ag_view *v)
{
    for (size_t i = 0; i < v->n; i++)
        nnl_agnode_release(v->nodes[i]);
    nnl_free(v->nodes);
    nnl_free(v->depth);
    nnl_free(v->edges);
    memset(v, 0, sizeof *v);
}

nnl_status nnl_ag_collect(nnl_agnode *root, size_t limit, nnl_ag_view *v, nnl_error *err)
{
    memset(v, 0, sizeof *v);
    if (limit == 0)
        limit = 1;
    size_t ecap = 2 * limit + 8;
    v->nodes = nnl_malloc(limit * sizeof *v->nodes);
    v->depth = nnl_malloc(limit * sizeof *v->depth);
    v->edges = nnl_malloc(2 * ecap * sizeof *v->edges);
    if (!v->nodes || !v->depth || !v->edges) {
        nnl_ag_view_free(v);
        return nnl_fail(err, NNL_ERR_NOMEM, "graph: out of memory");
    }
    unsigned long mark = ++visit_counter;
    /* The index of a visited node is kept in its gacc-free scratch: the
     * queue position, found by a scan (graphs drawn are small). */
    root->visit = mark;
    nnl_agnode_retain(root);
    v->nodes[v->n] = root;
    v->depth[v->n++] = 0;
    for (size_t head = 0; head < v->n; head++) {
        nnl_agnode *n = v->nodes[head];
        for (int k = 0; k < n->nin; k++) {
            nnl_agnode *c = n->next[k];
            if (!c)
                continue;
            size_t ci = 0;
            if (c->visit == mark) {
                while (ci < v->n && v->nodes[ci] != c)
                    ci++;
            } else if (v->n == limit) {
                v->more = 1;
                continue;
            } else {
                c->visit = mark;
                nnl_agnode_retain(c);
                ci = v->n;
                v->nodes[v->n] = c;
                v->depth[v->n++] = v->depth[head] + 1;
            }
            if (v->ne == ecap) {
                size_t nc = 2 * ecap;
                size_t *e = nnl_malloc(2 * nc * sizeof *e);
                if (!e) {
                    nnl_ag_view_free(v);
                    return nnl_fail(err, NNL_ERR_NOMEM, "graph: out of memory");
                }
                memcpy(e, v->edges, 2 * v->ne * sizeof *e);
                nnl_free(v->edges);
                v->edges = e;
                ecap = nc;
            }
            v->edges[2 * v->ne] = ci;
            v->edges[2 * v->ne + 1] = head;
            v->ne++;
        }
    }
    return NNL_OK;
}

/* ---- broadcasting, backwards ---- */

nnl_tensor *nnl_ag_sum_to(const nnl_tensor *g, int ndim, const size_t *shape, nnl_error *err)
{
    char a[96], b[96];
    if (same_shape(ndim, shape, g))
        return nnl_tensor_clone(g, err);
    /* shape, padded with leading 1s to g's rank, must broadcast to g. */
    int nd = g->ndim;
    size_t pad[NNL_MAX_DIMS];
    int ok = ndim <= nd;
    for (int d = 0; ok && d < nd; d++) {
        int s = d - (nd - ndim);
        pad[d] = s < 0 ? 1 : shape[s];
        ok = pad[d] == g->shape[d] || pad[d] == 1;
    }
    if (!ok) {
        nnl_fail(err, NNL_ERR_ARG, "sum_to: shape %s does not broadcast to %s",
                 nnl_shape_str_raw(ndim, shape, a, sizeof a), nnl_shape_str(g, b, sizeof b));
        return NULL;
    }
    nnl_tensor *out = nnl_tensor_new(ndim, shape, err);
    if (!out)
        return NULL;
    const nnl_kernels *k = nnl_kernels_active();
    /* The common cases: the reduced dims are all leading (a bias: sum of
     * rows), or all trailing (a column: sum of each row). */
    int lead = 0;
    while (lead < nd && pad[lead] == 1 && g->shape[lead] != 1)
        lead++;
    int rest_equal = 1;
    for (int d = lead; d < nd; d++)
        rest_equal &= pad[d] == g->shape[d];
    if (rest_equal) {
        size_t cols = out->numel, rows = cols ? g->numel / cols : 0;
        if (cols)
            k->col_sum(rows, cols, g->data, cols, out->data);
        return out;
    }
    int keep = 0;
    while (keep < nd && pad[keep] == g->shape[keep])
        keep++;
    int rest_one = 1;
    for (int d = keep; d < nd; d++)
        rest_one &= pad[d] == 1;
    if (rest_one) {
        size_t rows = out->numel, cols = rows ? g->numel / rows : 0;
        if (rows)
            k->row_sum(rows, cols, g->data, cols, out->data);
        return out;
    }
    /* General: walk g with a multi-index, adding into out with stride 0
     * along the broadcast dims. */
    size_t ostride[NNL_MAX_DIMS], idx[NNL_MAX_DIMS] = {0};
    size_t st = 1;
    for (int d = nd - 1; d >= 0; d--) {
        ostride[d] = pad[d] == 1 ? 0 : st;
        st *= pad[d];
    }
    size_t off = 0;
    for (size_t i = 0; i < g->numel; i++) {
        out->data[off] += g->data[i];
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < g->shape[d]) {
                off += ostride[d];
                break;
            }
            off -= ostride[d] * (g->shape[d] - 1);
            idx[d] = 0;
        }
    }
    return out;
}
