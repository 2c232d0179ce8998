/* nn.Tensor: making tensors (nn.randint, nn.randperm, nn.arange,
 * nn.zeros_like, nn.ones_like), filling them in place (t:fill_, t:zero_)
 * and files of named tensors (nn.save_tensors, nn.load_tensors: safetensors,
 * model/tensorfile.h). Values are 1-based where they are indices
 * (nn.randperm gives 1..n); the C core's are 0-based. */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "model/tensorfile.h"

/* The box of a loaded file while its tensors move into Lua handles: a Lua
 * error at any point (out of memory making a handle or a table) leaves
 * what is not yet moved to the box's finalizer. */
#define BOX_MT "nn.tensorfile(loading)"

/* The largest integer magnitude of nn.randint: every value exact in float32. */
#define RANDINT_MAX NNL_TENSOR_EXACT_INT

static void set_or_raise(lua_State *L, nnl_ltensor *h, nnl_tensor *t, const nnl_error *err,
                         const char *fn)
{
    if (!t)
        nnl_lua_raise_in(L, fn, err);
    h->t = t;
}

/* The C core says "arange: ..." and the like: the Lua name replaces the
 * operation's name, so the message starts once with "nn.arange:". */
static int raise_named(lua_State *L, const char *fn, const char *op, const nnl_error *err)
{
    size_t n = strlen(op);
    if (strncmp(err->msg, op, n) == 0 && err->msg[n] == ':')
        return luaL_error(L, "%s%s", fn, err->msg + n);
    return nnl_lua_raise_in(L, fn, err);
}

/* An integer argument for fn in -RANDINT_MAX..RANDINT_MAX. */
static long check_exact_int(lua_State *L, int idx, const char *fn, const char *what)
{
    return (long)nnl_lua_checkint(L, idx, fn, what, -RANDINT_MAX, RANDINT_MAX);
}

/* nn.randint(lo, hi, {shape}) or nn.randint(lo, hi, d1, ...) */
static int l_randint(lua_State *L)
{
    long lo = check_exact_int(L, 1, "nn.randint", "lo");
    long hi = check_exact_int(L, 2, "nn.randint", "hi");
    if (hi < lo)
        return luaL_error(L, "nn.randint: hi (%d) is below lo (%d); the values are "
                          "lo..hi inclusive", (int)hi, (int)lo);
    size_t shape[NNL_MAX_DIMS];
    int nd = nnl_lua_shape_args(L, 3, "nn.randint", shape);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    set_or_raise(L, h, nnl_tensor_new(nd, shape, &err), &err, "nn.randint");
    nnl_tensor_randint(h->t, lo, hi);
    return 1;
}

/* nn.randperm(n): a permutation of 1..n. */
static int l_randperm(lua_State *L)
{
    size_t n = (size_t)nnl_lua_checkint(L, 1, "nn.randperm", "n", 0, RANDINT_MAX);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    nnl_tensor *t = nnl_tensor_randperm(n, &err);
    if (!t)
        return raise_named(L, "nn.randperm", "randperm", &err);
    h->t = t;
    for (size_t i = 0; i < n; i++)
        t->data[i] += 1.0f; /* 1-based, like every index in Lua */
    return 1;
}

/* A finite number argument of nn.arange. */
static double check_finite(lua_State *L, int idx, const char *what)
{
    int isnum;
    lua_Number v = lua_tonumberx(L, idx, &isnum);
    if (!isnum || lua_type(L, idx) != LUA_TNUMBER || v != v || v - v != 0)
        luaL_error(L, "nn.arange: %s must be a finite number, got %s", what,
                   luaL_tolstring(L, idx, NULL));
    return (double)v;
}

/* nn.arange(n): 0..n-1; nn.arange(start, stop [, step]): stop excluded. */
static int l_arange(lua_State *L)
{
    nnl_error err;
    nnl_tensor *t;
    if (lua_gettop(L) <= 1) {
        int isint;
        lua_Integer n = lua_tointegerx(L, 1, &isint);
        if (!isint || n < 0 || lua_type(L, 1) != LUA_TNUMBER)
            return luaL_error(L, "nn.arange: count must be a non-negative integer, got %s",
                              luaL_tolstring(L, 1, NULL));
        nnl_ltensor *h = nnl_lua_newtensor(L);
        t = nnl_tensor_arange((size_t)n, &err);
        if (!t)
            return raise_named(L, "nn.arange", "arange", &err);
        h->t = t;
        return 1;
    }
    double start = check_finite(L, 1, "start"), stop = check_finite(L, 2, "stop");
    double step = lua_isnoneornil(L, 3) ? 1.0 : check_finite(L, 3, "step");
    nnl_ltensor *h = nnl_lua_newtensor(L);
    t = nnl_tensor_arange_step(start, stop, step, &err);
    if (!t)
        return raise_named(L, "nn.arange", "arange", &err);
    h->t = t;
    return 1;
}

static int like(lua_State *L, const char *fn, float v)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    set_or_raise(L, h, nnl_tensor_new_like(t, &err), &err, fn);
    if (v != 0.0f)
        nnl_tensor_fill(h->t, v);
    return 1;
}

static int l_zeros_like(lua_State *L) { return like(L, "nn.zeros_like", 0.0f); }
static int l_ones_like(lua_State *L) { return like(L, "nn.ones_like", 1.0f); }

/* t:fill_(v) -> t; t:zero_() -> t */
static int m_fill_(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int isnum;
    lua_Number v = lua_tonumberx(L, 2, &isnum);
    if (!isnum || lua_type(L, 2) != LUA_TNUMBER)
        return luaL_error(L, "fill_: the value must be a number, got %s",
                          luaL_typename(L, 2));
    nnl_tensor_fill(t, (float)v);
    nnl_tensor_bump_version(t);
    lua_settop(L, 1);
    return 1;
}

static int m_zero_(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_tensor_fill(t, 0.0f);
    nnl_tensor_bump_version(t);
    lua_settop(L, 1);
    return 1;
}

/* ---- files --------------------------------------------------------------- */

/* Counts the entries of the table at idx, checking every key is a string
 * (a tensor name) and every value `kind` ("tensor" or "string"). */
static size_t check_pairs(lua_State *L, int idx, const char *fn, const char *what, int tensors)
{
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            const char *type = luaL_typename(L, -2); /* before tolstring pushes */
            return (size_t)luaL_error(L, "%s: %s keys must be strings, got the %s key %s", fn,
                                      what, type, luaL_tolstring(L, -2, NULL));
        }
        const char *key = lua_tostring(L, -2);
        if (strlen(key) != lua_rawlen(L, -2))
            return (size_t)luaL_error(L, "%s: %s key '%s...' contains a NUL byte", fn, what,
                                      key);
        if (tensors) {
            if (!luaL_testudata(L, -1, NNL_TENSOR_MT))
                return (size_t)luaL_error(L, "%s: '%s' is %s, not an nn.Tensor", fn, key,
                                          luaL_typename(L, -1));
            if (!nnl_lua_totensor(L, -1))
                return (size_t)luaL_error(L, "%s: '%s' is a closed nn.Tensor", fn, key);
        } else if (lua_type(L, -1) != LUA_TSTRING) {
            return (size_t)luaL_error(L, "%s: metadata '%s' must be a string, got %s", fn,
                                      key, luaL_typename(L, -1));
        } else if (strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1)) {
            return (size_t)luaL_error(L, "%s: metadata '%s' contains a NUL byte", fn, key);
        }
        n++;
        lua_pop(L, 1);
    }
    return n;
}

/* nn.save_tensors(path, {name = t, ...} [, {key = "text", ...}]) */
static int l_save_tensors(lua_State *L)
{
    const char *fn = "nn.save_tensors";
    const char *path = nnl_lua_checkpath(L, 1, fn, "path");
    if (!lua_istable(L, 2))
        return luaL_error(L, "%s: the tensors must be a table of name = nn.Tensor, got %s",
                          fn, luaL_typename(L, 2));
    if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3))
        return luaL_error(L, "%s: the metadata must be a table of strings, got %s", fn,
                          luaL_typename(L, 3));
    lua_settop(L, 3);
    size_t n = check_pairs(L, 2, fn, "tensor", 1);
    size_t nm = lua_istable(L, 3) ? check_pairs(L, 3, fn, "metadata", 0) : 0;
    /* The arrays live in a userdata (freed by Lua whatever happens); the
     * names and tensors stay anchored by the tables, and no Lua code runs
     * between reading them here and the write. */
    size_t cells = n + 2 * nm;
    const void **a = lua_newuserdatauv(L, (cells ? cells : 1) * sizeof *a, 0);
    const char **names = (const char **)a;
    const nnl_tensor **ts = lua_newuserdatauv(L, (n ? n : 1) * sizeof *ts, 0);
    const char **mk = names + n, **mv = names + n + nm;
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (i < n) {
            names[i] = lua_tostring(L, -2);
            ts[i] = nnl_lua_totensor(L, -1);
        }
        i++;
        lua_pop(L, 1);
    }
    size_t j = 0;
    if (nm) {
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            if (j < nm) {
                mk[j] = lua_tostring(L, -2);
                mv[j] = lua_tostring(L, -1);
            }
            j++;
            lua_pop(L, 1);
        }
    }
    if (i != n || j != nm) /* nothing can change the tables here: defensive */
        return luaL_error(L, "%s: a table changed while it was read", fn);
    nnl_error err;
    if (nnl_tensorfile_save(path, names, ts, n, mk, mv, nm, &err) != NNL_OK)
        return nnl_lua_raise_in(L, fn, &err);
    return 0;
}

static int box_gc(lua_State *L)
{
    nnl_tensorfile *tf = luaL_checkudata(L, 1, BOX_MT);
    nnl_tensorfile_free(tf);
    return 0;
}

/* nn.load_tensors(path) -> {name = t, ...}, {key = "text", ...} */
static int l_load_tensors(lua_State *L)
{
    const char *fn = "nn.load_tensors";
    const char *path = nnl_lua_checkpath(L, 1, fn, "path");
    lua_settop(L, 1);
    nnl_tensorfile *tf = lua_newuserdatauv(L, sizeof *tf, 0); /* 2 */
    memset(tf, 0, sizeof *tf);
    luaL_setmetatable(L, BOX_MT);
    nnl_error err;
    if (nnl_tensorfile_load(path, tf, &err) != NNL_OK)
        return nnl_lua_raise_in(L, fn, &err);
    lua_createtable(L, 0, tf->n < 1u << 20 ? (int)tf->n : 0);    /* 3 */
    lua_createtable(L, 0, tf->nmeta < 1u << 20 ? (int)tf->nmeta : 0); /* 4 */
    for (size_t i = 0; i < tf->n; i++) {
        nnl_ltensor *h = nnl_lua_newtensor(L);
        h->t = tf->items[i].t; /* the handle owns it from here */
        tf->items[i].t = NULL;
        lua_setfield(L, 3, tf->items[i].name);
    }
    for (size_t i = 0; i < tf->nmeta; i++) {
        lua_pushstring(L, tf->meta_values[i]);
        lua_setfield(L, 4, tf->meta_keys[i]);
    }
    nnl_tensorfile_free(tf);
    return 2;
}

static const luaL_Reg module_funcs[] = {
    {"randint", l_randint},
    {"randperm", l_randperm},
    {"arange", l_arange},
    {"zeros_like", l_zeros_like},
    {"ones_like", l_ones_like},
    {"save_tensors", l_save_tensors},
    {"load_tensors", l_load_tensors},
    {NULL, NULL},
};

static const luaL_Reg methods[] = {
    {"fill_", m_fill_},
    {"zero_", m_zero_},
    {NULL, NULL},
};

void nnl_tensor_open_io(lua_State *L, int nn, int methods_idx, int mt)
{
    (void)mt;
    if (luaL_newmetatable(L, BOX_MT)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        nnl_lua_protect_metatable(L, -1);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, nn);
    luaL_setfuncs(L, module_funcs, 0);
    lua_pop(L, 1);
    lua_pushvalue(L, methods_idx);
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
}
