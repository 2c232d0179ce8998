/* nn.Tensor: reductions, softmax and matrix products (tensor/ag_reduce.h,
 * tensor/tensor_reduce.h).
 *
 * t:sum([dim [, keepdim]]) and the other reductions: dim is 1-based,
 * negative counts from the end. Without dim the result is a Lua number
 * (max/min: the value and its 1-based flat index), except when t requires
 * grad and recording is on (nnl_ag_needs): then it is a one-element tensor
 * on the tape, so that `loss = (p - y):pow(2):mean(); loss:backward()`
 * works. Indices are 1-based. Every differentiable op goes through its
 * nnl_ag_* form. */
#include <math.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "tensor/ag_reduce.h"
#include "tensor/autograd.h"

/* Reads the dim argument at idx (1-based, negative from the end) for t;
 * returns it 0-based, or NNL_DIM_ALL when absent and optional. */
static int check_dim(lua_State *L, int idx, const nnl_tensor *t, const char *fn, int optional)
{
    if (lua_isnoneornil(L, idx)) {
        if (optional)
            return NNL_DIM_ALL;
        return luaL_error(L, "%s: needs a dimension (1 to %d, or negative from the end)", fn,
                          t->ndim);
    }
    int isint;
    lua_Integer d = lua_tointegerx(L, idx, &isint);
    if (isint && d < 0)
        d += t->ndim + 1;
    if (!isint || d < 1 || d > t->ndim) {
        char sb[96];
        return luaL_error(L, "%s: dimension %s out of range for shape %s", fn,
                          luaL_tolstring(L, idx, NULL), nnl_shape_str(t, sb, sizeof sb));
    }
    return (int)d - 1;
}

/* The optional keepdim boolean at idx. */
static int opt_keepdim(lua_State *L, int idx, const char *fn)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_isboolean(L, idx))
        return luaL_error(L, "%s: keepdim must be a boolean, got %s", fn, luaL_typename(L, idx));
    return lua_toboolean(L, idx);
}

/* Pushes t (a new tensor) or raises err. */
static void push_or_raise(lua_State *L, nnl_ltensor *h, nnl_tensor *t, const nnl_error *err)
{
    if (!t)
        nnl_lua_raise(L, err);
    h->t = t;
}

/* Adds 1 to every index (C's 0-based to Lua's 1-based). */
static void one_based(nnl_tensor *ix)
{
    for (size_t i = 0; i < ix->numel; i++)
        ix->data[i] += 1.0f;
}

/* sum, mean, prod: t:f([dim [, keepdim]]). */
static int sum_like(lua_State *L, nnl_reduce op)
{
    const char *fn = nnl_reduce_name(op);
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, fn, 1);
    int keep = opt_keepdim(L, 3, fn);
    nnl_error err;
    if (dim == NNL_DIM_ALL && !nnl_ag_needs(t)) {
        double v;
        if (nnl_tensor_reduce_all(op, t, &v, NULL, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
        lua_pushnumber(L, v);
        return 1;
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_tensor *y = op == NNL_SUM    ? nnl_ag_sum(t, dim, keep, &err)
                    : op == NNL_MEAN ? nnl_ag_mean(t, dim, keep, &err)
                                     : nnl_ag_prod(t, dim, keep, &err);
    push_or_raise(L, h, y, &err);
    return 1;
}

static int m_sum(lua_State *L) { return sum_like(L, NNL_SUM); }
static int m_mean(lua_State *L) { return sum_like(L, NNL_MEAN); }
static int m_prod(lua_State *L) { return sum_like(L, NNL_PROD); }

/* max, min: t:f() -> value, index; t:f(dim [, keepdim]) -> values, indices. */
static int extreme(lua_State *L, int want_min)
{
    const char *fn = want_min ? "min" : "max";
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, fn, 1);
    int keep = opt_keepdim(L, 3, fn);
    nnl_error err;
    if (dim == NNL_DIM_ALL && !nnl_ag_needs(t)) {
        double v;
        size_t i;
        if (nnl_tensor_reduce_all(want_min ? NNL_MIN : NNL_MAX, t, &v, &i, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
        lua_pushnumber(L, v);
        lua_pushinteger(L, (lua_Integer)i + 1);
        return 2;
    }
    nnl_ltensor *hv = nnl_lua_newtensor(L);
    nnl_ltensor *hi = nnl_lua_newtensor(L);
    nnl_tensor *v, *ix;
    if (nnl_ag_extreme(t, dim, keep, want_min, &v, &ix, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    hv->t = v;
    hi->t = ix;
    one_based(ix);
    if (dim == NNL_DIM_ALL) { /* the flat index as a number, as without grad */
        size_t i;   /* exact, where a float index would not be past 2^24 */
        if (nnl_tensor_reduce_all(want_min ? NNL_ARGMIN : NNL_ARGMAX, t, NULL, &i, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
        lua_pop(L, 1);
        lua_pushinteger(L, (lua_Integer)i + 1);
    }
    return 2;
}

static int m_max(lua_State *L) { return extreme(L, 0); }
static int m_min(lua_State *L) { return extreme(L, 1); }

/* argmax, argmin: t:f() -> 1-based flat index; t:f(dim [, keepdim]). */
static int arg_extreme(lua_State *L, int want_min)
{
    const char *fn = want_min ? "argmin" : "argmax";
    nnl_reduce op = want_min ? NNL_ARGMIN : NNL_ARGMAX;
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, fn, 1);
    int keep = opt_keepdim(L, 3, fn);
    nnl_error err;
    if (dim == NNL_DIM_ALL) {
        size_t i;
        if (nnl_tensor_reduce_all(op, t, NULL, &i, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
        lua_pushinteger(L, (lua_Integer)i + 1);
        return 1;
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    push_or_raise(L, h, nnl_tensor_reduce_dim(op, t, dim, keep, &err), &err);
    one_based(h->t);
    return 1;
}

static int m_argmax(lua_State *L) { return arg_extreme(L, 0); }
static int m_argmin(lua_State *L) { return arg_extreme(L, 1); }

/* var, std: t:f([dim [, keepdim]] [, {correction = c}]); correction 1
 * (Bessel's, PyTorch's default) unless given; {unbiased = false} is 0. */
static int var_like(lua_State *L, int take_sqrt)
{
    const char *fn = take_sqrt ? "std" : "var";
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int top = lua_gettop(L), corr = 1;
    if (top >= 2 && lua_istable(L, top)) {
        lua_getfield(L, top, "correction");
        if (!lua_isnil(L, -1))
            corr = (int)nnl_lua_checkint(L, -1, fn, "correction", 0, 1 << 30);
        lua_pop(L, 1);
        lua_getfield(L, top, "unbiased");
        if (lua_isboolean(L, -1))
            corr = lua_toboolean(L, -1);
        else if (!lua_isnil(L, -1))
            return luaL_error(L, "%s: unbiased must be a boolean, got %s", fn,
                              luaL_typename(L, -1));
        lua_pop(L, 1);
        lua_settop(L, --top);
    }
    int dim = check_dim(L, 2, t, fn, 1);
    int keep = opt_keepdim(L, 3, fn);
    nnl_error err;
    if (dim == NNL_DIM_ALL && !nnl_ag_needs(t)) {
        double v;
        if (nnl_tensor_var_all(t, corr, take_sqrt, &v, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
        lua_pushnumber(L, v);
        return 1;
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    push_or_raise(L, h, take_sqrt ? nnl_ag_std(t, dim, keep, corr, &err)
                                  : nnl_ag_var(t, dim, keep, corr, &err), &err);
    return 1;
}

static int m_var(lua_State *L) { return var_like(L, 0); }
static int m_std(lua_State *L) { return var_like(L, 1); }

/* t:norm([p [, dim [, keepdim]]]): p a number > 0 (default 2), math.huge
 * or "inf". */
static int m_norm(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    double p = 2;
    if (lua_type(L, 2) == LUA_TSTRING) {
        if (strcmp(lua_tostring(L, 2), "inf") != 0)
            return luaL_error(L, "norm: p must be a number or \"inf\", got \"%s\"",
                              lua_tostring(L, 2));
        p = INFINITY;
    } else if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TNUMBER)
            return luaL_error(L, "norm: p must be a number or \"inf\", got %s",
                              luaL_typename(L, 2));
        p = lua_tonumber(L, 2);
    }
    int dim = check_dim(L, 3, t, "norm", 1);
    int keep = opt_keepdim(L, 4, "norm");
    nnl_error err;
    if (dim == NNL_DIM_ALL && !nnl_ag_needs(t)) {
        double v;
        if (nnl_tensor_norm_all(t, p, &v, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
        lua_pushnumber(L, v);
        return 1;
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    push_or_raise(L, h, nnl_ag_norm(t, p, dim, keep, &err), &err);
    return 1;
}

/* t:logsumexp([dim [, keepdim]]) */
static int m_logsumexp(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, "logsumexp", 1);
    int keep = opt_keepdim(L, 3, "logsumexp");
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    push_or_raise(L, h, nnl_ag_logsumexp(t, dim, keep, &err), &err);
    if (dim == NNL_DIM_ALL && !nnl_ag_needs(t)) {
        lua_pushnumber(L, h->t->data[0]);
        return 1;
    }
    return 1;
}

/* t:cumsum(dim) */
static int m_cumsum(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, "cumsum", 0);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    push_or_raise(L, h, nnl_ag_cumsum(t, dim, &err), &err);
    return 1;
}

/* t:softmax([dim]), t:log_softmax([dim]): along the last dim by default. */
static int softmax_like(lua_State *L, int log_form)
{
    const char *fn = log_form ? "log_softmax" : "softmax";
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = lua_isnoneornil(L, 2) ? t->ndim - 1 : check_dim(L, 2, t, fn, 0);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    push_or_raise(L, h, log_form ? nnl_ag_log_softmax(t, dim, &err) : nnl_ag_softmax(t, dim, &err),
                  &err);
    return 1;
}

static int m_softmax(lua_State *L) { return softmax_like(L, 0); }
static int m_log_softmax(lua_State *L) { return softmax_like(L, 1); }

/* Products: (a, b) -> a new tensor. */
static int product(lua_State *L, nnl_tensor *(*f)(const nnl_tensor *, const nnl_tensor *,
                                                  nnl_error *))
{
    nnl_tensor *a = nnl_lua_checktensor(L, 1), *b = nnl_lua_checktensor(L, 2);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    push_or_raise(L, h, f(a, b, &err), &err);
    return 1;
}

static int l_matmul(lua_State *L) { return product(L, nnl_ag_matmul); }
static int l_mm(lua_State *L) { return product(L, nnl_ag_mm); }
static int l_outer(lua_State *L) { return product(L, nnl_ag_outer); }

/* nn.dot(a, b): a number, or a one-element tensor when recorded. */
static int l_dot(lua_State *L)
{
    product(L, nnl_ag_dot);
    nnl_tensor *y = nnl_lua_totensor(L, -1);
    if (!y->node)
        lua_pushnumber(L, y->data[0]);
    return 1;
}

static const luaL_Reg module_funcs[] = {
    {"matmul", l_matmul},
    {"dot", l_dot},
    {"outer", l_outer},
    {NULL, NULL},
};

static const luaL_Reg methods[] = {
    {"sum", m_sum},
    {"mean", m_mean},
    {"prod", m_prod},
    {"max", m_max},
    {"min", m_min},
    {"argmax", m_argmax},
    {"argmin", m_argmin},
    {"var", m_var},
    {"std", m_std},
    {"norm", m_norm},
    {"logsumexp", m_logsumexp},
    {"cumsum", m_cumsum},
    {"softmax", m_softmax},
    {"log_softmax", m_log_softmax},
    {"matmul", l_matmul},
    {"mm", l_mm},
    {"dot", l_dot},
    {"outer", l_outer},
    {NULL, NULL},
};

void nnl_tensor_open_reduce(lua_State *L, int nn, int ms, int mt)
{
    (void)mt;
    lua_pushvalue(L, nn);
    luaL_setfuncs(L, module_funcs, 0);
    lua_pop(L, 1);
    lua_pushvalue(L, ms);
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
}
