/* Custom losses and metrics: Lua functions of (y_true, y_pred) given to
 * compile, called by the C training and evaluation steps through the
 * model's host hook (model.h nnl_model_host_fn).
 *
 * Each call is protected (lua_pcall) and sees copies: y_pred as a tensor
 * of the batch's predictions (a leaf requiring grad, for the loss),
 * y_true as the batch's targets. A loss's result must be a one-element
 * tensor computed from y_pred; its backward gives dL/dy_pred, which the C
 * backward takes from there. While a function runs, the model's layers
 * refuse to run (model.c), and compile/fit/add are refused (in_fit). */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "tensor/autograd.h"

typedef struct host_args {
    nnl_lhost *hc;
    int which;
    size_t n, ycols;
    const float *pred, *target;
    float *grad;
    double value;
} host_args;

/* Pushes a new tensor of n samples of shape s (NULL: ycols columns)
 * holding a copy of data. */
static nnl_tensor *push_copy(lua_State *L, size_t n, const nnl_shape *s, size_t ycols,
                             const float *data)
{
    size_t shape[NNL_MAX_DIMS] = {n};
    int nd = 2;
    if (s) {
        for (int d = 0; d < s->ndim; d++)
            shape[d + 1] = s->d[d];
        nd = s->ndim + 1;
    } else {
        shape[1] = ycols;
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    if (!(h->t = nnl_tensor_new(nd, shape, &err)))
        nnl_lua_raise(L, &err);
    memcpy(h->t->data, data, h->t->numel * sizeof(float));
    return h->t;
}

static int host_body(lua_State *L)
{
    host_args *a = lua_touserdata(L, 1); /* and the model at 2 */
    nnl_lmodel *h = nnl_lua_checkmodel(L, 2);
    nnl_model *m = h->m;
    lua_getiuservalue(L, 2, 2);
    if (a->which < 0) {
        lua_getfield(L, -1, "loss");
    } else {
        lua_getfield(L, -1, "_metric_fns");
        if (lua_istable(L, -1))
            lua_geti(L, -1, a->which + 1);
        else
            lua_pushnil(L);
    }
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "its function is gone (compile the model again)");
    int fn = lua_gettop(L);
    nnl_tensor *yt = push_copy(L, a->n, NULL, a->ycols, a->target);
    (void)yt;
    nnl_tensor *yp = push_copy(L, a->n, nnl_model_out_shape(m), 0, a->pred);
    nnl_error err;
    if (a->grad && nnl_ag_requires_grad(yp, 1, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_pushvalue(L, fn);
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 1);
    /* Without recording (evaluate, metrics) a full reduction such as
     * ((y_pred - y_true) ^ 2):mean() is a plain number: that is the value. */
    if (!a->grad && lua_type(L, -1) == LUA_TNUMBER) {
        a->value = lua_tonumber(L, -1);
        return 0;
    }
    nnl_tensor *r = nnl_lua_totensor(L, -1);
    if (!r || r->numel != 1)
        return luaL_error(L, "returned %s; it must return a one-element tensor computed from "
                          "y_pred with tensor operations (for example ((y_pred - y_true) ^ "
                          "2):mean())",
                          r ? "a tensor of more than one element"
                            : lua_type(L, -1) == LUA_TNUMBER ? "a number" : luaL_typename(L, -1));
    a->value = r->data[0];
    if (!a->grad)
        return 0;
    if (!r->node)
        return luaL_error(L, "returned a tensor that does not depend on y_pred (no gradient "
                          "reaches the model)");
    if (nnl_ag_backward(r, NULL, 0, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    const nnl_tensor *g = nnl_ag_grad(yp);
    if (g)
        memcpy(a->grad, g->data, g->numel * sizeof(float));
    else
        memset(a->grad, 0, yp->numel * sizeof(float));
    return 0;
}

static nnl_status host_fn(void *ctx, int which, size_t n, const float *pred, const float *target,
                          size_t ycols, float *grad, double *value, nnl_error *err)
{
    nnl_lhost *hc = ctx;
    lua_State *L = hc->L;
    nnl_lmodel *h = lua_touserdata(L, hc->model);
    host_args a = {hc, which, n, ycols, pred, target, grad, 0.0};
    int in_fit = h->in_fit;
    h->in_fit = 1;
    /* The loss is recorded whatever the caller's mode (fit inside
     * nn.no_grad still trains); metrics are not. */
    int was = nnl_ag_set_enabled(grad != NULL);
    char name[NNL_METRIC_NAME_MAX + 16] = "loss function: ";
    nnl_model *m = h->m ? h->m : h->held;
    if (which >= 0 && m && (size_t)which < m->nmetrics)
        snprintf(name, sizeof name, "metric '%s': ", m->metrics[which].name);
    lua_pushcfunction(L, host_body);
    lua_pushlightuserdata(L, &a);
    lua_pushvalue(L, hc->model); /* an index of the caller's frame */
    nnl_status st = nnl_lua_pcall_err(L, 2, name, err);
    nnl_ag_set_enabled(was);
    h->in_fit = in_fit;
    if (st == NNL_OK)
        *value = a.value;
    return st;
}

void nnl_lua_host_begin(lua_State *L, int model, nnl_lhost *hc)
{
    nnl_model *m = nnl_lua_checkmodel(L, model)->m;
    hc->L = L;
    hc->model = lua_absindex(L, model);
    hc->prev_fn = m->host;
    hc->prev_ctx = m->host_ctx;
    m->host = host_fn;
    m->host_ctx = hc;
    hc->saved = nnl_lua_layers_enter(L, m); /* a userdata left on the stack */
}

void nnl_lua_host_end(nnl_model *m, nnl_lhost *hc)
{
    m->host = hc->prev_fn;
    m->host_ctx = hc->prev_ctx;
    nnl_lua_layers_leave(m, hc->saved);
}
