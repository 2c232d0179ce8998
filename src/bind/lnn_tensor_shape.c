/* nn.Tensor: shapes, transposes, slicing and joins (tensor/tensor_shape.h,
 * recorded through tensor/ag_shape.h): t, transpose, permute, narrow,
 * select, index, squeeze, unsqueeze, flatten, view, split, chunk, copy_,
 * nn.cat, nn.stack, and the Torch7-style t[{...}] read and assignment that
 * the __index / __newindex of lnn_tensor.c hand over.
 *
 * Dimensions and indices are 1-based here, negative ones counting from the
 * end (-1 the last); the C core is 0-based. Every result goes into a handle
 * made before the C call, so a Lua error leaks nothing. */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "core/alloc.h"
#include "tensor/ag_shape.h"
#include "tensor/tensor_shape.h"

/* Raises err with its leading "op:" replaced by "fn:" (or fn put first). */
static int raise_as(lua_State *L, const nnl_error *err, const char *op, const char *fn)
{
    size_t n = strlen(op);
    nnl_error e;
    if (strncmp(err->msg, op, n) == 0 && err->msg[n] == ':')
        nnl_fail(&e, err->code, "%s%s", fn, err->msg + n);
    else if (strncmp(err->msg, fn, strlen(fn)) == 0)
        return nnl_lua_raise(L, err);
    else
        nnl_fail(&e, err->code, "%s: %s", fn, err->msg);
    return nnl_lua_raise(L, &e);
}

/* Fills h with t or raises err. */
static void fill(lua_State *L, nnl_ltensor *h, nnl_tensor *t, const nnl_error *err)
{
    if (!t)
        nnl_lua_raise(L, err);
    h->t = t;
}

/* The dimension argument at idx of fn for t: 1..ndim + extra, negative
 * counting from the end (-1 is dimension ndim + extra). 0-based. */
static int check_dim(lua_State *L, int idx, const nnl_tensor *t, const char *fn, int extra)
{
    char sb[96];
    int isint;
    lua_Integer d = lua_tointegerx(L, idx, &isint);
    lua_Integer top = t->ndim + extra;
    if (isint && d < 0)
        d += top + 1;
    if (!isint || d < 1 || d > top)
        luaL_error(L, "%s: dimension %s out of range for shape %s", fn,
                   lua_isnone(L, idx) ? "nil" : luaL_tolstring(L, idx, NULL),
                   nnl_shape_str(t, sb, sizeof sb));
    return (int)d - 1;
}

/* An optional dimension argument (default def, 1-based). */
static int opt_dim(lua_State *L, int idx, const nnl_tensor *t, const char *fn, int def)
{
    if (lua_isnoneornil(L, idx))
        return def - 1;
    return check_dim(L, idx, t, fn, 0);
}

/* The index argument at idx for dimension dim of t (negative from the
 * end), 0-based; `what` names it in messages. */
static size_t check_pos(lua_State *L, int idx, const nnl_tensor *t, int dim, const char *fn,
                        const char *what)
{
    char sb[96];
    int isint;
    lua_Integer i = lua_tointegerx(L, idx, &isint);
    if (!isint)
        luaL_error(L, "%s: %s must be an integer, got %s", fn, what, luaL_tolstring(L, idx, NULL));
    lua_Integer v = i < 0 ? i + (lua_Integer)t->shape[dim] + 1 : i;
    if (v < 1 || (lua_Unsigned)v > t->shape[dim])
        luaL_error(L, "%s: %s %I out of range for dimension %d of %s", fn, what, i, dim + 1,
                   nnl_shape_str(t, sb, sizeof sb));
    return (size_t)(v - 1);
}

/* t:t() */
static int m_t(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_t(t, &err), &err);
    return 1;
}

/* t:transpose(d1, d2) */
static int m_transpose(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int d1 = check_dim(L, 2, t, "transpose", 0), d2 = check_dim(L, 3, t, "transpose", 0);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_transpose(t, d1, d2, &err), &err);
    return 1;
}

/* t:permute(d1, ...) or t:permute({d1, ...}): one entry per dimension. */
static int m_permute(lua_State *L)
{
    char sb[96];
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int tab = lua_istable(L, 2);
    lua_Integer n = tab ? luaL_len(L, 2) : lua_gettop(L) - 1;
    if (n != t->ndim)
        return luaL_error(L, "permute: %I dimensions given for shape %s (needs %d)", n,
                          nnl_shape_str(t, sb, sizeof sb), t->ndim);
    int perm[NNL_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        if (tab)
            lua_geti(L, 2, i + 1);
        else
            lua_pushvalue(L, i + 2);
        perm[i] = check_dim(L, -1, t, "permute", 0);
        lua_pop(L, 1);
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_permute(t, perm, &err), &err);
    return 1;
}

/* t:narrow(dim, start, len) */
static int m_narrow(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, "narrow", 0);
    int isint;
    lua_Integer a = lua_tointegerx(L, 3, &isint);
    if (!isint)
        return luaL_error(L, "narrow: start must be an integer, got %s",
                          luaL_tolstring(L, 3, NULL));
    lua_Integer len = lua_tointegerx(L, 4, &isint);
    if (!isint || len < 0)
        return luaL_error(L, "narrow: length must be a non-negative integer, got %s",
                          luaL_tolstring(L, 4, NULL));
    if (a < 0)
        a += (lua_Integer)t->shape[dim] + 1;
    if (a < 1) {
        char sb[96];
        return luaL_error(L, "narrow: start %I out of range for dimension %d of %s",
                          lua_tointeger(L, 3), dim + 1, nnl_shape_str(t, sb, sizeof sb));
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_narrow(t, dim, (size_t)(a - 1), (size_t)len, &err), &err);
    return 1;
}

/* t:select(dim, i): a number for 1-D, else the tensor without dim. */
static int m_select(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, "select", 0);
    size_t i = check_pos(L, 3, t, dim, "select", "index");
    if (t->ndim == 1) {
        lua_pushnumber(L, t->data[i]);
        return 1;
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_select(t, dim, i, &err), &err);
    return 1;
}

/* t:index(dim, idx): idx a table of integers or a 1-D tensor of them. */
static int m_index(lua_State *L)
{
    char sb[96];
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, "index", 0);
    nnl_tensor *it = luaL_testudata(L, 3, NNL_TENSOR_MT) ? nnl_lua_checktensor(L, 3) : NULL;
    if (!it && !lua_istable(L, 3))
        return luaL_error(L, "index: the indices must be a table or an nn.Tensor, got %s",
                          luaL_typename(L, 3));
    if (it && it->ndim != 1)
        return luaL_error(L, "index: the indices must be a 1-D tensor, got shape %s",
                          nnl_shape_str(it, sb, sizeof sb));
    lua_Integer n = it ? (lua_Integer)it->numel : luaL_len(L, 3);
    if (n < 0 || n > ((lua_Integer)1 << 32))
        return luaL_error(L, "index: %I indices", n);
    size_t *idx = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(size_t), 0);
    for (lua_Integer k = 0; k < n; k++) {
        if (it)
            lua_pushnumber(L, it->data[k]);
        else
            lua_geti(L, 3, k + 1);
        idx[k] = check_pos(L, -1, t, dim, "index", "index");
        lua_pop(L, 1);
    }
    t = nnl_lua_checktensor(L, 1); /* the table's metamethods may have closed it */
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_index(t, dim, idx, (size_t)n, &err), &err);
    return 1;
}

/* t:squeeze([dim]) */
static int m_squeeze(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = lua_isnoneornil(L, 2) ? -1 : check_dim(L, 2, t, "squeeze", 0);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_squeeze(t, dim, &err), &err);
    return 1;
}

/* t:unsqueeze(dim): dim 1..ndim+1 (-1 appends). */
static int m_unsqueeze(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int dim = check_dim(L, 2, t, "unsqueeze", 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_unsqueeze(t, dim, &err), &err);
    return 1;
}

static int m_flatten(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill(L, h, nnl_ag_flatten(t, &err), &err);
    return 1;
}

/* t:split(size [, dim]) and t:chunk(n [, dim]): a list of tensors. The
 * handles are made first, then filled with no Lua call in between. */
static int split_common(lua_State *L, int chunk)
{
    const char *fn = chunk ? "chunk" : "split";
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int isint;
    lua_Integer k = lua_tointegerx(L, 2, &isint);
    if (!isint || k < 1)
        return luaL_error(L, "%s: %s must be a positive integer, got %s", fn,
                          chunk ? "the number of chunks" : "size", luaL_tolstring(L, 2, NULL));
    int dim = opt_dim(L, 3, t, fn, 1);
    size_t len = t->shape[dim];
    size_t size = chunk ? (len == 0 ? 1 : len / (size_t)k + (len % (size_t)k != 0)) : (size_t)k;
    size_t count = len == 0 ? 1 : len / size + (len % size != 0);
    if (count > (1u << 26))
        return luaL_error(L, "%s: %zu pieces are too many", fn, count);
    lua_createtable(L, (int)count, 0);
    nnl_ltensor **hs = lua_newuserdatauv(L, count * sizeof *hs, 0);
    for (size_t i = 0; i < count; i++) {
        hs[i] = nnl_lua_newtensor(L);
        lua_rawseti(L, -3, (lua_Integer)i + 1);
    }
    size_t n;
    nnl_error err;
    nnl_tensor **ps = nnl_ag_split(t, size, dim, &n, &err);
    if (!ps)
        return nnl_lua_raise(L, &err);
    for (size_t i = 0; i < n && i < count; i++)
        hs[i]->t = ps[i];
    for (size_t i = count; i < n; i++) /* cannot happen: the same count */
        nnl_tensor_free(ps[i]);
    nnl_free(ps);
    lua_pop(L, 1);
    return 1;
}

static int m_split(lua_State *L) { return split_common(L, 0); }
static int m_chunk(lua_State *L) { return split_common(L, 1); }

/* t:copy_(src): src broadcast to t's shape. */
static int m_copy_(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_tensor *src = nnl_lua_checktensor(L, 2);
    nnl_error err;
    if (nnl_tensor_copy_bcast(t, src, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* The tensors of the list at stack index 1 for nn.cat / nn.stack: copied
 * into an anchor table first (reading the list may run metamethods that
 * return unanchored tensors or close earlier ones), the pointers taken
 * afterwards, when no more Lua code runs before the join. */
static const nnl_tensor **read_list(lua_State *L, const char *fn, lua_Integer *np)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 1)
        luaL_error(L, "%s: needs at least one tensor", fn);
    if (n > 1 << 20)
        luaL_error(L, "%s: too many tensors (%I)", fn, n);
    lua_createtable(L, (int)n, 0);
    int anchor = lua_gettop(L);
    for (lua_Integer i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        lua_rawseti(L, anchor, i + 1);
    }
    const nnl_tensor **ts = lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, anchor, i + 1);
        ts[i] = nnl_lua_totensor(L, -1);
        if (!ts[i] && luaL_testudata(L, -1, NNL_TENSOR_MT))
            luaL_error(L, "%s: element %I is a closed nn.Tensor", fn, i + 1);
        if (!ts[i])
            luaL_error(L, "%s: element %I is %s, not an nn.Tensor", fn, i + 1,
                       luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    *np = n;
    return ts;
}

/* nn.cat({a, b, ...} [, dim]) */
static int l_cat(lua_State *L)
{
    lua_Integer n;
    lua_settop(L, 2); /* the list's anchors go above the arguments */
    const nnl_tensor **ts = read_list(L, "nn.cat", &n);
    int dim = opt_dim(L, 2, ts[0], "nn.cat", 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    nnl_tensor *y = nnl_ag_cat(ts, (size_t)n, dim, &err);
    if (!y)
        return raise_as(L, &err, "cat", "nn.cat");
    h->t = y;
    return 1;
}

/* nn.stack({a, b, ...} [, dim]): dim 1..ndim+1 of the inputs. */
static int l_stack(lua_State *L)
{
    lua_Integer n;
    lua_settop(L, 2);
    const nnl_tensor **ts = read_list(L, "nn.stack", &n);
    int dim = lua_isnoneornil(L, 2) ? 0 : check_dim(L, 2, ts[0], "nn.stack", 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    nnl_tensor *y = nnl_ag_stack(ts, (size_t)n, dim, &err);
    if (!y)
        return raise_as(L, &err, "stack", "nn.stack");
    h->t = y;
    return 1;
}

/* ---- t[{...}] ---- */

#define SLICE_FN "t[{...}]"

/* Reads the slice table at key for t into s; returns whether every
 * dimension of t got a plain index (the result is then one number). */
static int read_slice(lua_State *L, const nnl_tensor *t, int key, nnl_slice *s)
{
    char sb[96];
    lua_Integer n = luaL_len(L, key);
    if (n > t->ndim)
        luaL_error(L, SLICE_FN ": %I entries for a tensor of shape %s", n,
                   nnl_shape_str(t, sb, sizeof sb));
    s->ndim = (int)n;
    int dropped = 0;
    for (int d = 0; d < s->ndim; d++) {
        lua_geti(L, key, d + 1);
        int e = lua_gettop(L);
        s->drop[d] = 0;
        if (lua_type(L, e) == LUA_TNUMBER) {
            s->start[d] = check_pos(L, e, t, d, SLICE_FN, "index");
            s->len[d] = 1;
            s->drop[d] = 1;
            dropped++;
        } else if (lua_istable(L, e)) {
            lua_Integer m = luaL_len(L, e);
            if (m == 0) {
                s->start[d] = 0;
                s->len[d] = t->shape[d];
            } else if (m == 1 || m == 2) {
                lua_geti(L, e, 1);
                lua_geti(L, e, m);
                int isa, isb;
                lua_Integer a = lua_tointegerx(L, -2, &isa), b = lua_tointegerx(L, -1, &isb);
                if (!isa || !isb)
                    luaL_error(L, SLICE_FN ": the range of entry %d must hold integers, got "
                               "%s and %s", d + 1, luaL_typename(L, -2), luaL_typename(L, -1));
                lua_Integer size = (lua_Integer)t->shape[d];
                lua_Integer a1 = a < 0 ? a + size + 1 : a, b1 = b < 0 ? b + size + 1 : b;
                if (a1 < 1 || b1 > size || b1 < a1 - 1)
                    luaL_error(L, SLICE_FN ": range {%I, %I} out of range for dimension %d "
                               "of %s", a, b, d + 1, nnl_shape_str(t, sb, sizeof sb));
                s->start[d] = (size_t)(a1 - 1);
                s->len[d] = (size_t)(b1 - a1 + 1);
                lua_pop(L, 2);
            } else {
                luaL_error(L, SLICE_FN ": entry %d has %I values (a range is {}, {i} or "
                           "{first, last})", d + 1, m);
            }
        } else {
            luaL_error(L, SLICE_FN ": entry %d must be an integer or a table, got %s", d + 1,
                       luaL_typename(L, e));
        }
        lua_settop(L, e - 1);
    }
    return dropped == t->ndim;
}

int nnl_tensor_slice_get(lua_State *L, int tidx, int key)
{
    nnl_tensor *t = nnl_lua_checktensor(L, tidx);
    nnl_slice s;
    if (read_slice(L, t, key, &s)) {
        size_t off = 0;
        for (int d = 0; d < t->ndim; d++)
            off = off * t->shape[d] + s.start[d];
        lua_pushnumber(L, t->data[off]);
        return 1;
    }
    t = nnl_lua_checktensor(L, tidx); /* reading the table ran no code that closed it */
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    nnl_tensor *y = nnl_ag_slice(t, &s, &err);
    if (!y)
        return raise_as(L, &err, "slice", SLICE_FN);
    h->t = y;
    return 1;
}

int nnl_tensor_slice_set(lua_State *L, int tidx, int key, int val)
{
    nnl_tensor *t = nnl_lua_checktensor(L, tidx);
    nnl_slice s;
    read_slice(L, t, key, &s);
    nnl_error err;
    nnl_status st;
    t = nnl_lua_checktensor(L, tidx);
    if (lua_type(L, val) == LUA_TNUMBER) {
        st = nnl_tensor_slice_fill(t, &s, (float)lua_tonumber(L, val), &err);
    } else if (luaL_testudata(L, val, NNL_TENSOR_MT)) {
        st = nnl_tensor_slice_assign(t, &s, nnl_lua_checktensor(L, val), &err);
    } else {
        return luaL_error(L, SLICE_FN " = v: the value must be a number or nn.Tensor, got %s",
                          luaL_typename(L, val));
    }
    if (st != NNL_OK)
        return raise_as(L, &err, "slice", SLICE_FN " = v");
    return 0;
}

static const luaL_Reg methods[] = {
    {"t", m_t},
    {"transpose", m_transpose},
    {"permute", m_permute},
    {"narrow", m_narrow},
    {"select", m_select},
    {"index", m_index},
    {"squeeze", m_squeeze},
    {"unsqueeze", m_unsqueeze},
    {"flatten", m_flatten},
    {"split", m_split},
    {"chunk", m_chunk},
    {"copy_", m_copy_},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"cat", l_cat},
    {"stack", l_stack},
    {NULL, NULL},
};

void nnl_tensor_open_shape(lua_State *L, int nn, int ms, int mt)
{
    (void)mt;
    lua_pushvalue(L, ms);
    luaL_setfuncs(L, methods, 0);
    /* view is reshape (lnn_tensor.c registered it before this runs) */
    lua_getfield(L, -1, "reshape");
    lua_setfield(L, -2, "view");
    lua_pop(L, 1);
    lua_pushvalue(L, nn);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
