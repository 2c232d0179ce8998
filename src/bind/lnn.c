/* luaopen_nn: builds the nn table from the binding parts, adds the runtime
 * functions (seed, clock, threads, cpu, version) and runs the Lua sources under
 * lua/ that were compiled into the binary. Also the shared helpers of
 * lnn.h: raising C errors and boxing tensors in userdata. */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "bind/lnn.h"
#include "bind/lnn_sources.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "core/threads.h"
#include "simd/dispatch.h"

int nnl_lua_raise(lua_State *L, const nnl_error *err)
{
    /* Like luaL_error: the position of the calling Lua code first. */
    luaL_where(L, 1);
    lua_pushstring(L, err && err->msg[0] ? err->msg : nnl_status_name(err ? err->code : NNL_OK));
    lua_concat(L, 2);
    return lua_error(L);
}

int nnl_lua_raise_in(lua_State *L, const char *fn, const nnl_error *err)
{
    luaL_where(L, 1);
    lua_pushfstring(L, "%s: %s", fn,
                    err && err->msg[0] ? err->msg : nnl_status_name(err ? err->code : NNL_OK));
    lua_concat(L, 2);
    return lua_error(L);
}

int nnl_lua_collecting(lua_State *L)
{
    /* While Lua runs a finalizer (or closes the state) its collector is
     * stopped from inside (GCSTPGC): from 5.4.4 every lua_gc then returns
     * -1, before that LUA_GCISRUNNING gave 0. A script that stopped the
     * collector itself and calls __gc by hand (with the debug library)
     * also reads 0 before 5.4.4. */
    return lua_gc(L, LUA_GCISRUNNING, 0) != 1;
}

/* Whether the table at idx holds an object at address p as a value (raw
 * reads only: no metamethod runs here). C functions keep lists of tensors
 * they read in tables of their frame (nn.cat's anchor, set_weights' list);
 * a table too large to look through counts as holding it. */
static int table_holds(lua_State *L, int idx, const void *p)
{
    idx = lua_absindex(L, idx);
    int seen = 0, hit = 0;
    lua_pushnil(L);
    while (!hit && lua_next(L, idx)) {
        hit = lua_topointer(L, -1) == p || ++seen > (1 << 16);
        lua_pop(L, 1);
    }
    if (hit)
        lua_pop(L, 1); /* the key lua_next left */
    return hit;
}

int nnl_lua_in_use(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (!lua_pushthread(L)) {
        lua_pop(L, 1);
        return 1;
    }
    lua_pop(L, 1);
    const void *p = lua_topointer(L, idx);
    lua_Debug ar;
    /* Level 0 is the closing function itself; Lua frames hold no C
     * pointers (and a to-be-closed variable is in its own frame). */
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "S", &ar) || ar.what[0] != 'C')
            continue;
        for (int n = 1;; n++) {
            if (!lua_checkstack(L, 4))
                return 1; /* cannot look: assume the worst */
            if (!lua_getlocal(L, &ar, n))
                break;
            int hit = lua_topointer(L, -1) == p ||
                      (lua_type(L, -1) == LUA_TTABLE && table_holds(L, -1, p));
            lua_pop(L, 1);
            if (hit)
                return 1;
        }
    }
    return 0;
}

/* Frees what the handle holds, or moves it to held when C code may still
 * use it. */
static void tensor_release(lua_State *L, nnl_ltensor *h, int in_use)
{
    if (in_use) {
        if (h->t) {
            if (h->held) /* one held at a time: a handle is closed once per fill */
                nnl_tensor_free(h->held);
            h->held = h->t;
            h->t = NULL;
        }
        return;
    }
    nnl_tensor_free(h->t);
    nnl_tensor_free(h->held);
    h->t = h->held = NULL;
    (void)L;
}

int nnl_lua_tensor_close(lua_State *L)
{
    nnl_ltensor *h = luaL_checkudata(L, 1, NNL_TENSOR_MT);
    if (h->t || h->held)
        tensor_release(L, h, nnl_lua_in_use(L, 1));
    return 0;
}

/* __gc of nn.Tensor: by the collector, frees everything; by hand, a close. */
static int tensor_gc(lua_State *L)
{
    nnl_ltensor *h = luaL_checkudata(L, 1, NNL_TENSOR_MT);
    if (h->t || h->held)
        tensor_release(L, h, !nnl_lua_collecting(L) && nnl_lua_in_use(L, 1));
    return 0;
}

/* Makes the collector do the work it would for the tensor data allocated
 * since the last call, as if Lua had allocated it: dead tensors are then
 * freed at the pace new ones are made (2000 products of 128x784 by
 * 784x256 at the REPL: 184 MB of garbage and 71 GFLOP/s before, 5 MB and
 * 175 GFLOP/s after). Called when a handle is made, with it anchored.
 * Needs the incremental collector: the generational one's minor
 * collections did not finalize the dead handles, and its major ones wait
 * for Lua's own memory to double, so luaopen_nn selects incremental. */
void nnl_lua_pace_collector(lua_State *L)
{
    size_t bytes = nnl_alloc_take_new_bytes((size_t)64 << 10);
    if (bytes) {
        size_t kb = bytes >> 10;
        lua_gc(L, LUA_GCSTEP, kb > (size_t)INT_MAX ? INT_MAX : (int)kb);
    }
}

nnl_ltensor *nnl_lua_newtensor(lua_State *L)
{
    nnl_ltensor *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->t = h->held = NULL;
    luaL_setmetatable(L, NNL_TENSOR_MT);
    nnl_lua_pace_collector(L);
    return h;
}

void nnl_lua_pushtensor(lua_State *L, nnl_tensor *t, const nnl_error *err)
{
    if (!t)
        nnl_lua_raise(L, err);
    /* Callers that can should use nnl_lua_newtensor before making t: if
     * Lua cannot allocate the handle here, t leaks with the memory error. */
    nnl_ltensor *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->t = t;
    h->held = NULL;
    luaL_setmetatable(L, NNL_TENSOR_MT);
    nnl_lua_pace_collector(L);
}

nnl_status nnl_lua_pcall_err(lua_State *L, int nargs, const char *prefix, nnl_error *err)
{
    int base = lua_gettop(L) - nargs - 1;
    nnl_status st = NNL_OK;
    if (lua_pcall(L, nargs, 0, 0) != LUA_OK)
        st = nnl_fail(err, NNL_ERR_ARG, "%s%s", prefix,
                      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "an error object");
    lua_settop(L, base);
    return st;
}

nnl_tensor *nnl_lua_totensor(lua_State *L, int idx)
{
    nnl_ltensor *h = luaL_testudata(L, idx, NNL_TENSOR_MT);
    return h ? h->t : NULL;
}

nnl_tensor *nnl_lua_checktensor(lua_State *L, int idx)
{
    nnl_ltensor *h = luaL_checkudata(L, idx, NNL_TENSOR_MT);
    if (!h->t)
        luaL_argerror(L, idx, "tensor is closed");
    return h->t;
}

const char *nnl_lua_checkpath(lua_State *L, int idx, const char *fn, const char *what)
{
    size_t len;
    if (lua_type(L, idx) != LUA_TSTRING) {
        luaL_error(L, "%s: %s must be a string, got %s", fn, what, luaL_typename(L, idx));
        return NULL;
    }
    const char *s = lua_tolstring(L, idx, &len);
    if (len == 0)
        luaL_error(L, "%s: %s is empty", fn, what);
    if (strlen(s) != len)
        luaL_error(L, "%s: %s contains a NUL byte (\\0) at byte %d", fn, what,
                   (int)strlen(s) + 1);
    return s;
}

lua_Integer nnl_lua_checkint(lua_State *L, int idx, const char *fn, const char *what,
                             lua_Integer min, lua_Integer max)
{
    int isint = 0;
    lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isint) : 0;
    if (!isint || v < min || v > max) {
        const char *given;
        if (lua_type(L, idx) == LUA_TNUMBER)
            given = luaL_tolstring(L, idx, NULL);
        else if (lua_type(L, idx) == LUA_TSTRING)
            given = lua_pushfstring(L, "the string \"%s\"", lua_tostring(L, idx));
        else
            given = luaL_typename(L, idx);
        if (max == LUA_MAXINTEGER)
            luaL_error(L, "%s: %s must be an integer >= %I, got %s", fn, what, min, given);
        else
            luaL_error(L, "%s: %s must be an integer in %I..%I, got %s", fn, what, min, max,
                       given);
    }
    return v;
}

void nnl_lua_protect_metatable(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_createtable(L, 0, 1);
    lua_getfield(L, idx, "__name");
    lua_setfield(L, -2, "__name");
    lua_setfield(L, idx, "__metatable");
}

/* Creates the nn.Tensor metatable with the release metamethods; the rest
 * is filled by nnl_open_tensor. Leaves nothing on the stack. */
static void create_tensor_meta(lua_State *L)
{
    luaL_newmetatable(L, NNL_TENSOR_MT);
    lua_pushcfunction(L, tensor_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, nnl_lua_tensor_close);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
}

/* nn.seed(n): reseeds the global generator. */
static int l_seed(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    nnl_rng_global_seed((uint64_t)n);
    return 0;
}

/* nn.threads([n]) -> number of threads in use (after setting it). */
static int l_threads(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        lua_Integer n = nnl_lua_checkint(L, 1, "nn.threads", "count", 1, NNL_THREADS_MAX);
        nnl_error err;
        if (nnl_threads_set((int)n, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
    }
    lua_pushinteger(L, nnl_threads_get());
    return 1;
}

/* nn.cpu() -> {isa=, best=, threads=, isas={...}} */
static int l_cpu(lua_State *L)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, nnl_isa_name(nnl_isa_active()));
    lua_setfield(L, -2, "isa");
    lua_pushstring(L, nnl_isa_name(nnl_isa_best()));
    lua_setfield(L, -2, "best");
    lua_pushinteger(L, nnl_threads_get());
    lua_setfield(L, -2, "threads");
    lua_createtable(L, 4, 0);
    for (int i = 0; i <= (int)nnl_isa_best(); i++) {
        lua_pushstring(L, nnl_isa_name((nnl_isa)i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "supported");
    return 1;
}

/* nn.clock() -> seconds on a monotonic wall clock, for timing code at the
 * REPL (os.clock counts CPU time of all threads, not elapsed time). */
static int l_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + 1e-9 * (lua_Number)ts.tv_nsec);
    return 1;
}

static const luaL_Reg runtime_funcs[] = {
    {"seed", l_seed},
    {"clock", l_clock},
    {"threads", l_threads},
    {"cpu", l_cpu},
    {NULL, NULL},
};

void nnl_open_runtime(lua_State *L)
{
    luaL_setfuncs(L, runtime_funcs, 0);
    lua_pushstring(L, NNL_VERSION);
    lua_setfield(L, -2, "version");
}

/* Runs the embedded lua/ chunks in name order, each called with nn. */
static void run_lua_sources(lua_State *L, int nn)
{
    for (const nnl_lua_source *s = nnl_lua_sources; s->name; s++) {
        char chunkname[128];
        snprintf(chunkname, sizeof chunkname, "=nn/%s.lua", s->name);
        if (luaL_loadbufferx(L, s->code, s->len, chunkname, "t") != LUA_OK)
            lua_error(L);
        lua_pushvalue(L, nn);
        lua_call(L, 1, 0);
    }
}

int luaopen_nn(lua_State *L)
{
    nnl_error err;
    if (nnl_dispatch_init(&err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    /* The collector mode in which tensor memory paces collection (see
     * pace_collector); lua5.4's own interpreter starts generational. */
    lua_gc(L, LUA_GCINC, 0, 0, 0);
    create_tensor_meta(L);
    lua_newtable(L);
    int nn = lua_gettop(L);
    nnl_open_runtime(L);
    nnl_open_tensor(L);
    nnl_open_data(L);
    nnl_open_model(L);
    nnl_open_registry(L);
    nnl_open_modelfile(L);
    nnl_open_plot(L);
    nnl_open_explain(L);
    nnl_open_dist(L);
    run_lua_sources(L, nn);
    /* Returned, not made a global: Lua modules leave the globals alone
     * (local nn = require "nn"; lua5.4 -l nn and nnlua set the global nn
     * themselves). */
    lua_pushvalue(L, nn);
    return 1;
}
