/* nn.Tensor autograd: t:requires_grad, y:backward, t.grad, t.grad_fn,
 * t.is_leaf, t.needs_grad, t:detach and nn.no_grad over tensor/autograd.h.
 * nn.grad and nn.gradcheck are Lua (lua/40_autograd.lua) on top of these.
 *
 * A field and a method of one name cannot coexist in Lua, so the flag that
 * PyTorch reads as t.requires_grad is t.needs_grad here; t:requires_grad()
 * sets it, as API.md says. */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "model/activation.h"
#include "tensor/autograd.h"

/* t:requires_grad([flag = true]) -> t */
static int m_requires_grad(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int flag = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
    nnl_error err;
    if (nnl_ag_requires_grad(t, flag, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* y:backward([grad] [, {retain_graph = bool}]) */
static int m_backward(lua_State *L)
{
    nnl_tensor *y = nnl_lua_checktensor(L, 1);
    int opts = 0;
    const nnl_tensor *g = NULL;
    if (lua_istable(L, 2) && !luaL_testudata(L, 2, NNL_TENSOR_MT))
        opts = 2;
    else if (!lua_isnoneornil(L, 2)) {
        if (!luaL_testudata(L, 2, NNL_TENSOR_MT))
            return luaL_error(L, "backward: the gradient must be an nn.Tensor, got %s",
                              luaL_typename(L, 2));
        g = nnl_lua_checktensor(L, 2);
    }
    /* backward(grad, opts) and backward(nil, opts): the options third */
    if (!opts && lua_istable(L, 3))
        opts = 3;
    else if (!opts && !lua_isnoneornil(L, 3))
        return luaL_error(L, "backward: options must be a table, got %s", luaL_typename(L, 3));
    int retain = 0;
    if (opts) {
        lua_pushnil(L);
        while (lua_next(L, opts)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "retain_graph"))
                return luaL_error(L, "backward: unknown option '%s' (valid: retain_graph)",
                                  luaL_tolstring(L, -1, NULL));
        }
        lua_getfield(L, opts, "retain_graph");
        retain = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    nnl_error err;
    if (nnl_ag_backward(y, g, retain, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    return 0;
}

/* t:detach() -> a tensor over the same storage outside every graph */
static int m_detach(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    if (!(h->t = nnl_tensor_view(t, &err)))
        return nnl_lua_raise_in(L, "detach", &err);
    return 1;
}

/* nn.no_grad(f, ...) -> f(...) run with recording off (restored after an
 * error as well) */
static int l_no_grad(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    int n = lua_gettop(L);
    int was = nnl_ag_set_enabled(0);
    int rc = lua_pcall(L, n - 1, LUA_MULTRET, 0);
    nnl_ag_set_enabled(was);
    if (rc != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

/* nn.is_grad_enabled() -> bool; nn.set_grad_enabled(flag) -> the old one */
static int l_is_grad_enabled(lua_State *L)
{
    lua_pushboolean(L, nnl_ag_enabled());
    return 1;
}

static int l_set_grad_enabled(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushboolean(L, nnl_ag_set_enabled(lua_toboolean(L, 1)));
    return 1;
}

int nnl_tensor_property(lua_State *L, nnl_tensor *t, const char *key)
{
    if (!strcmp(key, "grad")) {
        nnl_tensor *g = nnl_ag_grad(t);
        if (!g) {
            lua_pushnil(L);
            return 1;
        }
        nnl_ltensor *h = nnl_lua_newtensor(L);
        nnl_error err;
        if (!(h->t = nnl_tensor_view(g, &err)))
            return nnl_lua_raise_in(L, "grad", &err);
        return 1;
    }
    if (!strcmp(key, "grad_fn")) {
        const char *name = t->node && t->node->op ? t->node->op->name : NULL;
        if (name)
            lua_pushstring(L, name);
        else
            lua_pushnil(L);
        return 1;
    }
    if (!strcmp(key, "is_leaf")) {
        lua_pushboolean(L, !t->node || !t->node->op);
        return 1;
    }
    if (!strcmp(key, "needs_grad")) {
        lua_pushboolean(L, t->node != NULL);
        return 1;
    }
    return 0;
}

int nnl_tensor_set_property(lua_State *L, nnl_tensor *t, const char *key, int vidx)
{
    if (strcmp(key, "grad"))
        return 0;
    const nnl_tensor *g = NULL;
    if (!lua_isnil(L, vidx)) {
        if (!luaL_testudata(L, vidx, NNL_TENSOR_MT))
            return luaL_error(L, "t.grad = v: v must be an nn.Tensor or nil, got %s",
                              luaL_typename(L, vidx));
        g = nnl_lua_checktensor(L, vidx);
    }
    nnl_error err;
    if (nnl_ag_set_grad(t, g, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    return 1;
}

/* The box of a graph view: its nodes are released by __gc if an error
 * (out of memory) leaves it before l_graph does. */
#define GRAPHBOX_MT "nn.GraphView"
static int graphbox_gc(lua_State *L)
{
    nnl_ag_view_free(luaL_checkudata(L, 1, GRAPHBOX_MT));
    return 0;
}

/* nn._graph(t [, limit]) -> nodes, edges, more: the recorded graph behind
 * t, for nn.plot.graph: nodes {{name =, shape = "[2x3]", gnorm = n|nil,
 * leaf = bool, depth = d (0: t), freed = true|nil}, ...} breadth-first
 * from t, and edges {from, to, ...} (1-based: from an input's node to its
 * user's). At most limit nodes (default 200); more when some were left
 * out. The nodes are collected (and held) in C first, so the Lua tables
 * made after cannot see a node freed by a finalizer. */
static int l_graph(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    lua_Integer limit = luaL_optinteger(L, 2, 200);
    if (limit < 1 || limit > 2000)
        return luaL_error(L, "graph: limit must be 1..2000");
    if (!t->node)
        return luaL_error(L, "graph: the tensor was not made by recorded operations (nothing "
                          "it came from requires grad)");
    nnl_ag_view *v = lua_newuserdatauv(L, sizeof *v, 0);
    memset(v, 0, sizeof *v);
    if (luaL_newmetatable(L, GRAPHBOX_MT)) {
        lua_pushcfunction(L, graphbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    int box = lua_gettop(L);
    nnl_error err;
    if (nnl_ag_collect(t->node, (size_t)limit, v, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_createtable(L, (int)v->n, 0);
    int nodes = lua_gettop(L);
    for (size_t i = 0; i < v->n; i++) {
        const nnl_agnode *n = v->nodes[i];
        char sb[96];
        lua_createtable(L, 0, 6);
        /* an activation node is named by its function ("relu"), which is
         * what a student looks for in the picture */
        const char *name = n->op ? n->op->name : "leaf";
        if (n->op && strcmp(name, "act") == 0) {
            size_t na;
            const nnl_activation *acts = nnl_activations(&na);
            for (size_t a = 0; a < na; a++)
                if (acts[a].kernel == n->iarg[0])
                    name = acts[a].name;
        }
        lua_pushstring(L, name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, nnl_shape_str_raw(n->out_ndim, n->out_shape, sb, sizeof sb));
        lua_setfield(L, -2, "shape");
        if (n->gnorm == n->gnorm) {
            lua_pushnumber(L, n->gnorm);
            lua_setfield(L, -2, "gnorm");
        }
        lua_pushboolean(L, n->op == NULL);
        lua_setfield(L, -2, "leaf");
        lua_pushinteger(L, (lua_Integer)v->depth[i]);
        lua_setfield(L, -2, "depth");
        if (n->released) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "freed");
        }
        lua_rawseti(L, nodes, (lua_Integer)i + 1);
    }
    lua_createtable(L, (int)(2 * v->ne), 0);
    for (size_t e = 0; e < 2 * v->ne; e++) {
        lua_pushinteger(L, (lua_Integer)v->edges[e] + 1);
        lua_rawseti(L, -2, (lua_Integer)e + 1);
    }
    lua_pushboolean(L, v->more);
    nnl_ag_view_free(v);
    (void)box;
    return 3;
}

static const luaL_Reg methods[] = {
    {"requires_grad", m_requires_grad},
    {"backward", m_backward},
    {"detach", m_detach},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"no_grad", l_no_grad},
    {"is_grad_enabled", l_is_grad_enabled},
    {"set_grad_enabled", l_set_grad_enabled},
    {"_graph", l_graph},
    {NULL, NULL},
};

void nnl_tensor_open_autograd(lua_State *L, int nn, int methods_idx, int mt)
{
    (void)mt;
    lua_pushvalue(L, methods_idx);
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
    lua_pushvalue(L, nn);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
