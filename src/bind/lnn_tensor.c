/* nn.Tensor: the Lua face of src/tensor/tensor.c. Constructors (nn.tensor,
 * nn.zeros, ...), methods and indexing. Arithmetic is in lnn_tensor_math.c,
 * reductions and products in lnn_tensor_reduce.c, printing in
 * lnn_tensor_print.c.
 *
 * Every tensor made here goes into a handle created first
 * (nnl_lua_newtensor), so a Lua error at any point leaks nothing. Indices
 * are 1-based in Lua and 0-based in C; the conversion happens here. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "tensor/ag_shape.h"

/* Fills h with a new tensor, or raises err. */
static void fill_or_raise(lua_State *L, nnl_ltensor *h, nnl_tensor *t, const nnl_error *err)
{
    if (!t)
        nnl_lua_raise(L, err);
    h->t = t;
}

/* As fill_or_raise for the module function fn ("nn.eye"): the message
 * names fn, whether the core said "eye: ..." or something else. */
static void fill_or_raise_in(lua_State *L, nnl_ltensor *h, nnl_tensor *t,
                             const nnl_error *err, const char *fn)
{
    if (t) {
        h->t = t;
        return;
    }
    const char *base = strncmp(fn, "nn.", 3) == 0 ? fn + 3 : fn;
    size_t n = strlen(base);
    nnl_error e;
    if (strncmp(err->msg, base, n) == 0 && err->msg[n] == ':')
        nnl_fail(&e, err->code, "%s%s", fn, err->msg + n);
    else
        nnl_fail(&e, err->code, "%s: %s", fn, err->msg);
    nnl_lua_raise(L, &e);
}

/* Reads a size at stack index idx for function fn; `what` names it in
 * the message ("dimension 2", "count"). Sizes too large to allocate are
 * refused later by nnl_tensor_new with the whole shape in the message. */
static size_t check_size(lua_State *L, int idx, const char *fn, const char *what)
{
    int isint;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint || v < 0)
        luaL_error(L, "%s: %s must be a non-negative integer, got %s", fn, what,
                   luaL_tolstring(L, idx, NULL));
    return (size_t)v;
}

/* check_size for dimension `which` (1-based) of a shape. */
static size_t check_dim(lua_State *L, int idx, const char *fn, int which)
{
    char what[32];
    snprintf(what, sizeof what, "dimension %d", which);
    return check_size(L, idx, fn, what);
}

int nnl_lua_shape_args(lua_State *L, int first, const char *fn, size_t *shape)
{
    int top = lua_gettop(L);
    int n = 0;
    if (lua_istable(L, first)) {
        /* Compared as lua_Integer: a __len of 2^32 + 2 must not pass as 2. */
        lua_Integer len = luaL_len(L, first);
        if (len < 1 || len > NNL_MAX_DIMS)
            luaL_error(L, "%s: a shape needs 1 to %d dimensions, got %I", fn, NNL_MAX_DIMS, len);
        n = (int)len;
        for (int i = 0; i < n; i++) {
            lua_geti(L, first, i + 1);
            shape[i] = check_dim(L, -1, fn, i + 1);
            lua_pop(L, 1);
        }
        return n;
    }
    n = top - first + 1;
    if (n < 1 || n > NNL_MAX_DIMS)
        luaL_error(L, "%s: needs 1 to %d dimensions, got %d", fn, NNL_MAX_DIMS, n < 0 ? 0 : n);
    for (int i = 0; i < n; i++)
        shape[i] = check_dim(L, first + i, fn, i + 1);
    return n;
}

/* Makes a tensor of the shape given by arguments from `first` on. */
static nnl_ltensor *new_from_args(lua_State *L, int first, const char *fn, int *nargs_used)
{
    size_t shape[NNL_MAX_DIMS];
    int nd = nnl_lua_shape_args(L, first, fn, shape);
    if (nargs_used)
        *nargs_used = nd;
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise_in(L, h, nnl_tensor_new(nd, shape, &err), &err, fn);
    return h;
}

static int l_zeros(lua_State *L)
{
    new_from_args(L, 1, "nn.zeros", NULL);
    return 1;
}

static int l_ones(lua_State *L)
{
    nnl_ltensor *h = new_from_args(L, 1, "nn.ones", NULL);
    nnl_tensor_fill(h->t, 1.0f);
    return 1;
}

/* nn.full({shape}, v) */
static int l_full(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    float v = (float)luaL_checknumber(L, 2);
    lua_settop(L, 1);
    nnl_ltensor *h = new_from_args(L, 1, "nn.full", NULL);
    nnl_tensor_fill(h->t, v);
    return 1;
}

static int l_rand(lua_State *L)
{
    nnl_ltensor *h = new_from_args(L, 1, "nn.rand", NULL);
    nnl_tensor_rand(h->t);
    return 1;
}

static int l_randn(lua_State *L)
{
    nnl_ltensor *h = new_from_args(L, 1, "nn.randn", NULL);
    nnl_tensor_randn(h->t);
    return 1;
}

static int l_linspace(lua_State *L)
{
    double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
    size_t n = check_size(L, 3, "nn.linspace", "count");
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise_in(L, h, nnl_tensor_linspace(a, b, n, &err), &err, "nn.linspace");
    return 1;
}

static int l_eye(lua_State *L)
{
    size_t n = check_size(L, 1, "nn.eye", "size");
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise_in(L, h, nnl_tensor_eye(n, &err), &err, "nn.eye");
    return 1;
}

/* ---- nn.tensor ---- */

/* Finds the shape of a nested table by following first elements. */
static int nested_shape(lua_State *L, int idx, size_t *shape)
{
    int nd = 0;
    lua_pushvalue(L, idx);
    while (lua_istable(L, -1)) {
        if (nd == NNL_MAX_DIMS)
            luaL_error(L, "nn.tensor: nested deeper than %d levels", NNL_MAX_DIMS);
        lua_Integer len = luaL_len(L, -1);
        if (len < 0) /* only a __len metamethod can say so */
            luaL_error(L, "nn.tensor: a table has length %I", len);
        shape[nd++] = (size_t)len;
        if (shape[nd - 1] == 0)
            break;
        lua_geti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return nd;
}

/* Writes the 1-based position pos[0..depth-1] for messages: "[2][3]", or
 * just "2" for a row (row != 0) of the outer table. */
static void where(char *buf, size_t size, const size_t *pos, int depth, int row)
{
    size_t used = 0;
    buf[0] = '\0';
    if (row && depth == 1) {
        snprintf(buf, size, "%zu", pos[0] + 1);
        return;
    }
    for (int i = 0; i < depth && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "[%zu]", pos[i] + 1);
}

/* Copies the nested table at the top of the stack (level `depth`) into
 * out, checking every length and entry. */
static void fill_nested(lua_State *L, int depth, int nd, const size_t *shape, size_t *pos,
                        float **out)
{
    char w[64];
    if (!lua_istable(L, -1)) {
        where(w, sizeof w, pos, depth, 1);
        luaL_error(L, "nn.tensor: ragged nested table: row %s is a %s, expected a table", w,
                   luaL_typename(L, -1));
    }
    size_t len = (size_t)luaL_len(L, -1);
    if (len != shape[depth]) {
        where(w, sizeof w, pos, depth, 1);
        luaL_error(L, "nn.tensor: ragged nested table: row %s has %I elements, expected %I", w,
                   (lua_Integer)len, (lua_Integer)shape[depth]);
    }
    for (size_t i = 0; i < len; i++) {
        pos[depth] = i;
        lua_geti(L, -1, (lua_Integer)i + 1);
        if (depth + 1 < nd) {
            fill_nested(L, depth + 1, nd, shape, pos, out);
        } else {
            int isnum;
            lua_Number v = lua_tonumberx(L, -1, &isnum);
            if (!isnum || lua_type(L, -1) != LUA_TNUMBER) {
                where(w, sizeof w, pos, depth + 1, 0);
                luaL_error(L, "nn.tensor: expected a number at %s, got %s", w,
                           luaL_typename(L, -1));
            }
            *(*out)++ = (float)v;
        }
        lua_pop(L, 1);
    }
}

static int l_tensor(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    nnl_error err;
    if (!lua_isnoneornil(L, 2)) {
        /* nn.tensor(flat, shape) */
        size_t shape[NNL_MAX_DIMS];
        luaL_checktype(L, 2, LUA_TTABLE);
        int nd = nnl_lua_shape_args(L, 2, "nn.tensor", shape);
        lua_Integer len = luaL_len(L, 1);
        /* Count before allocating: a short table with a huge shape is a
         * mismatch, not an attempt at a huge allocation. */
        size_t numel = 1;
        int fits = 1;
        for (int i = 0; i < nd; i++) {
            if (shape[i] && numel > SIZE_MAX / shape[i])
                fits = 0;
            numel *= shape[i];
        }
        if (!fits || len < 0 || (size_t)len != numel) {
            char sb[96];
            return luaL_error(L, "nn.tensor: %I values do not fill shape %s", len,
                              nnl_shape_str_raw(nd, shape, sb, sizeof sb));
        }
        nnl_ltensor *h = nnl_lua_newtensor(L);
        nnl_tensor *t = nnl_tensor_new(nd, shape, &err);
        if (!t)
            return luaL_error(L, "nn.tensor: %s", err.msg);
        h->t = t;
        for (size_t i = 0; i < t->numel; i++) {
            lua_geti(L, 1, (lua_Integer)i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                return luaL_error(L, "nn.tensor: expected a number at [%I], got %s",
                                  (lua_Integer)i + 1,
                                  luaL_typename(L, -1));
            t->data[i] = (float)lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        return 1;
    }
    size_t shape[NNL_MAX_DIMS];
    int nd = nested_shape(L, 1, shape);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_tensor *t = nnl_tensor_new(nd, shape, &err);
    if (!t)
        return luaL_error(L, "nn.tensor: %s", err.msg);
    h->t = t;
    size_t pos[NNL_MAX_DIMS] = {0};
    float *out = t->data;
    lua_pushvalue(L, 1);
    fill_nested(L, 0, nd, shape, pos, &out);
    lua_pop(L, 1);
    return 1;
}

/* ---- element access ---- */

/* Reads a 1-based index argument for dimension dim of t; raises when it
 * is not an integer or out of range. Returns it 0-based. */
static size_t check_index(lua_State *L, int idx, const nnl_tensor *t, int dim, const char *fn)
{
    int isint;
    lua_Integer i = lua_tointegerx(L, idx, &isint);
    if (!isint)
        luaL_error(L, "%s: index for dimension %d must be an integer, got %s", fn, dim + 1,
                   luaL_tolstring(L, idx, NULL));
    if (i < 1 || (lua_Unsigned)i > t->shape[dim])
        luaL_error(L, "%s: index %I out of range for dimension %d of size %I", fn, i, dim + 1,
                   (lua_Integer)t->shape[dim]);
    return (size_t)(i - 1);
}

/* Flat offset from ndim index arguments starting at `first`. */
static size_t check_indices(lua_State *L, int first, int given, const nnl_tensor *t,
                            const char *fn)
{
    char sb[96];
    if (given != t->ndim)
        luaL_error(L, "%s: %d indices given for a tensor of shape %s (needs %d)", fn, given,
                   nnl_shape_str(t, sb, sizeof sb), t->ndim);
    size_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        int isint;
        lua_Integer i = lua_tointegerx(L, first + d, &isint);
        /* the whole shape in the message, and a hint for 0-based habits */
        if (isint && (i < 1 || (lua_Unsigned)i > t->shape[d]))
            luaL_error(L, "%s: index %I out of range for dimension %d of %s%s", fn, i, d + 1,
                       nnl_shape_str(t, sb, sizeof sb),
                       i == 0 ? " (indices start at 1)" : "");
        off = off * t->shape[d] + check_index(L, first + d, t, d, fn);
    }
    return off;
}

static int m_get(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    size_t off = check_indices(L, 2, lua_gettop(L) - 1, t, "get");
    lua_pushnumber(L, t->data[off]);
    return 1;
}

static int m_set(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int top = lua_gettop(L);
    if (top < 3)
        return luaL_error(L, "set: needs indices and a value");
    float v = (float)luaL_checknumber(L, top);
    size_t off = check_indices(L, 2, top - 2, t, "set");
    t->data[off] = v;
    lua_settop(L, 1);
    return 1;
}

/* t[i]: a number for 1-D, a view of row i otherwise (recorded for
 * autograd); t[{...}]: a Torch7-style slice (lnn_tensor_shape.c);
 * t.method. */
static int mt_index(lua_State *L)
{
    luaL_checkudata(L, 1, NNL_TENSOR_MT);
    if (lua_type(L, 2) == LUA_TTABLE)
        return nnl_tensor_slice_get(L, 1, 2);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        /* Elements need an open tensor; methods (even close) do not. */
        nnl_tensor *t = nnl_lua_checktensor(L, 1);
        size_t i = check_index(L, 2, t, 0, "t[i]");
        if (t->ndim == 1) {
            lua_pushnumber(L, t->data[i]);
            return 1;
        }
        nnl_ltensor *h = nnl_lua_newtensor(L);
        nnl_error err;
        fill_or_raise(L, h, nnl_ag_select(t, 0, i, &err), &err);
        return 1;
    }
    /* Methods live in the upvalue table; a few fields (t.grad) are not
     * methods. */
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (lua_isnil(L, -1) && lua_type(L, 2) == LUA_TSTRING) {
        nnl_tensor *t = nnl_lua_totensor(L, 1);
        if (t && nnl_tensor_property(L, t, lua_tostring(L, 2)))
            return 1;
    }
    return 1;
}

/* t[i] = v: sets an element of a 1-D tensor, or fills row i with a number
 * or copies a tensor of the row's shape into it; t[{...}] = v writes a
 * number or a broadcastable tensor into a slice (lnn_tensor_shape.c). */
static int mt_newindex(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    if (lua_type(L, 2) == LUA_TTABLE)
        return nnl_tensor_slice_set(L, 1, 2, 3);
    if (lua_type(L, 2) == LUA_TSTRING && nnl_tensor_set_property(L, t, lua_tostring(L, 2), 3))
        return 0;
    if (lua_type(L, 2) != LUA_TNUMBER)
        return luaL_error(L, "t[k] = v: cannot set field '%s' (only integer indices)",
                          luaL_tolstring(L, 2, NULL));
    size_t i = check_index(L, 2, t, 0, "t[i]");
    size_t row = t->numel / (t->shape[0] ? t->shape[0] : 1);
    float *dst = t->data + i * row;
    if (lua_type(L, 3) == LUA_TNUMBER) {
        float v = (float)lua_tonumber(L, 3);
        for (size_t k = 0; k < row; k++)
            dst[k] = v;
        nnl_tensor_bump_version(t);
        return 0;
    }
    /* A closed tensor is reported as closed, not as a wrong type. */
    nnl_tensor *src = luaL_testudata(L, 3, NNL_TENSOR_MT) ? nnl_lua_checktensor(L, 3) : NULL;
    if (!src)
        return luaL_error(L, "t[i] = v: the value must be a number or nn.Tensor, got %s",
                          luaL_typename(L, 3));
    /* The shapes must agree once leading 1s are dropped (a 1 x n tensor
     * fills a row of n); equal counts alone would let [4] fill a 2 x 2 row. */
    int sd = 0, rd = 1;
    while (sd < src->ndim && src->shape[sd] == 1)
        sd++;
    while (rd < t->ndim && t->shape[rd] == 1)
        rd++;
    int same = src->ndim - sd == t->ndim - rd;
    for (int k = 0; same && sd + k < src->ndim; k++)
        same = src->shape[sd + k] == t->shape[rd + k];
    if (!same) {
        char sb[96], rb[96];
        if (t->ndim == 1)
            return luaL_error(L, "t[i] = v: cannot assign shape %s to one element",
                              nnl_shape_str(src, sb, sizeof sb));
        return luaL_error(L, "t[i] = v: cannot assign shape %s to a row of shape %s",
                          nnl_shape_str(src, sb, sizeof sb),
                          nnl_shape_str_raw(t->ndim - 1, t->shape + 1, rb, sizeof rb));
    }
    memmove(dst, src->data, row * sizeof(float));
    nnl_tensor_bump_version(t);
    return 0;
}

static int mt_len(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    lua_pushinteger(L, (lua_Integer)t->shape[0]);
    return 1;
}

static int m_shape(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    luaL_checkstack(L, t->ndim, NULL);
    for (int i = 0; i < t->ndim; i++)
        lua_pushinteger(L, (lua_Integer)t->shape[i]);
    return t->ndim;
}

static int m_dim(lua_State *L)
{
    lua_pushinteger(L, nnl_lua_checktensor(L, 1)->ndim);
    return 1;
}

static int m_numel(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)nnl_lua_checktensor(L, 1)->numel);
    return 1;
}

/* t:rows(a [, b]): view of rows a..b (b defaults to a). */
static int m_rows(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    lua_Integer a = luaL_checkinteger(L, 2);
    lua_Integer b = luaL_optinteger(L, 3, a);
    if (a < 1 || b < a - 1 || (lua_Unsigned)b > t->shape[0]) {
        char sb[96];
        return luaL_error(L, "rows: rows %I..%I out of range for shape %s", a, b,
                          nnl_shape_str(t, sb, sizeof sb));
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise(L, h, nnl_ag_rows(t, (size_t)(a - 1), (size_t)(b - a + 1), &err), &err);
    return 1;
}

static int m_clone(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise(L, h, nnl_tensor_clone(t, &err), &err);
    return 1;
}

/* t:reshape(d1, ...) or t:reshape({d1, ...}); one entry may be -1. */
static int m_reshape(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    long shape[NNL_MAX_DIMS];
    int nd;
    int tab = lua_istable(L, 2);
    lua_Integer count = tab ? luaL_len(L, 2) : lua_gettop(L) - 1;
    if (count < 1 || count > NNL_MAX_DIMS)
        return luaL_error(L, "reshape: needs 1 to %d dimensions, got %I", NNL_MAX_DIMS, count);
    nd = (int)count;
    for (int i = 0; i < nd; i++) {
        if (tab)
            lua_geti(L, 2, i + 1);
        else
            lua_pushvalue(L, i + 2);
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < -1 || v > (lua_Integer)1 << 40)
            return luaL_error(L, "reshape: dimension %d must be a non-negative integer or -1", i + 1);
        shape[i] = (long)v;
        lua_pop(L, 1);
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise(L, h, nnl_ag_reshape(t, nd, shape, &err), &err);
    return 1;
}

/* Pushes the nested table of dims d.. of data. */
static void push_nested(lua_State *L, const nnl_tensor *t, int d, const float *data)
{
    /* ndim is 1..NNL_MAX_DIMS; the bound tells gcc -O3 so (-Warray-bounds) */
    int nd = t->ndim < NNL_MAX_DIMS ? t->ndim : NNL_MAX_DIMS;
    if (d >= nd) {
        lua_newtable(L);
        return;
    }
    size_t stride = 1;
    for (int i = d + 1; i < nd; i++)
        stride *= t->shape[i];
    luaL_checkstack(L, 3, NULL);
    lua_createtable(L, t->shape[d] < 1u << 26 ? (int)t->shape[d] : 0, 0);
    for (size_t i = 0; i < t->shape[d]; i++) {
        if (d + 1 == nd)
            lua_pushnumber(L, data[i]);
        else
            push_nested(L, t, d + 1, data + i * stride);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int m_totable(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    push_nested(L, t, 0, t->data);
    return 1;
}

/* ---- map / apply ---- */

/* Calls f (at stack index 2) on every element of src (the tensor at stack
 * index 1), writing results to dst. f may close the tensor it is mapping
 * over; that is checked after every call, before memory is touched. */
static void map_into(lua_State *L, const char *fn, const nnl_tensor *src, float *dst)
{
    for (size_t i = 0; i < src->numel; i++) {
        lua_pushvalue(L, 2);
        lua_pushnumber(L, src->data[i]);
        lua_call(L, 1, 1);
        if (nnl_lua_totensor(L, 1) != src)
            luaL_error(L, "%s: the tensor was closed by the function", fn);
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "%s: function returned %s for element %I (a number is needed)", fn,
                       luaL_typename(L, -1), (lua_Integer)i + 1);
        dst[i] = (float)lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
}

static int m_map(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    fill_or_raise(L, h, nnl_tensor_new_like(t, &err), &err);
    map_into(L, "map", t, h->t->data);
    return 1;
}

static int m_apply(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    map_into(L, "apply", t, t->data);
    lua_settop(L, 1);
    return 1;
}

static const luaL_Reg module_funcs[] = {
    {"tensor", l_tensor},
    {"zeros", l_zeros},
    {"ones", l_ones},
    {"full", l_full},
    {"rand", l_rand},
    {"randn", l_randn},
    {"linspace", l_linspace},
    {"eye", l_eye},
    {NULL, NULL},
};

static const luaL_Reg methods[] = {
    {"shape", m_shape},
    {"dim", m_dim},
    {"numel", m_numel},
    {"get", m_get},
    {"set", m_set},
    {"rows", m_rows},
    {"clone", m_clone},
    {"reshape", m_reshape},
    {"totable", m_totable},
    {"map", m_map},
    {"apply", m_apply},
    {"close", nnl_lua_tensor_close},
    {NULL, NULL},
};

static const luaL_Reg metamethods[] = {
    {"__newindex", mt_newindex},
    {"__len", mt_len},
    {"__tostring", nnl_tensor_tostring},
    {NULL, NULL},
};

void nnl_open_tensor(lua_State *L)
{
    luaL_setfuncs(L, module_funcs, 0);
    luaL_getmetatable(L, NNL_TENSOR_MT);
    luaL_setfuncs(L, metamethods, 0);
    /* Methods: a table that __index consults, also exposed as
     * nn.Tensor so scripts can add their own. */
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    {
        int nn = lua_absindex(L, -3), mt = lua_absindex(L, -2), ms = lua_absindex(L, -1);
        nnl_tensor_open_math(L, nn, ms, mt);
        nnl_tensor_open_shape(L, nn, ms, mt);
        nnl_tensor_open_reduce(L, nn, ms, mt);
        nnl_tensor_open_io(L, nn, ms, mt);
        nnl_tensor_open_autograd(L, nn, ms, mt);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -4, "Tensor");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods"); /* for REPL completion */
    lua_pushcclosure(L, mt_index, 1);
    lua_setfield(L, -2, "__index");
    nnl_lua_protect_metatable(L, -1);
    lua_pop(L, 1);
}
