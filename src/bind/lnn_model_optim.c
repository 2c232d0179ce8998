/* model.optimizer: a live view of the compiled model's optimizer, as Keras
 * exposes model.optimizer. Reading gives the settings in use (name, class,
 * lr / learning_rate, the rule's own options, iterations); only the
 * learning rate can be set (model.optimizer.learning_rate = 0.01), which is
 * what LearningRateScheduler changes between epochs. Other settings are
 * fixed at compile time, so setting them is an error that says so.
 *
 * The view is a small table made at each access, holding the model as an
 * upvalue of its metamethods; it reads the model's current optimizer, so
 * a view taken before a new compile shows the new optimizer. */
#include <math.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "tensor/autograd.h"

static const char *const class_names[NNL_OPT_COUNT] = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
};

static nnl_optim *view_optim(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, lua_upvalueindex(1));
    if (!h->m->compiled || !h->m->opt)
        luaL_error(L, "model.optimizer: the model is not compiled any more");
    return h->m->opt;
}

/* Pushes the value of setting k for optimizer o; 0 when o has no such
 * setting. */
static int push_setting(lua_State *L, const nnl_optim *o, const char *k)
{
    const nnl_optim_config *c = &o->cfg;
    int kind = c->kind;
    int adam = kind == NNL_OPT_ADAM || kind == NNL_OPT_ADAMW;
    if (strcmp(k, "lr") == 0 || strcmp(k, "learning_rate") == 0)
        lua_pushnumber(L, c->lr);
    else if (strcmp(k, "name") == 0)
        lua_pushstring(L, nnl_optim_name(kind));
    else if (strcmp(k, "class") == 0)
        lua_pushstring(L, class_names[kind]);
    else if (strcmp(k, "iterations") == 0)
        lua_pushinteger(L, (lua_Integer)o->iterations);
    else if (strcmp(k, "momentum") == 0 && (kind == NNL_OPT_SGD || kind == NNL_OPT_RMSPROP))
        lua_pushnumber(L, c->momentum);
    else if (strcmp(k, "nesterov") == 0 && kind == NNL_OPT_SGD)
        lua_pushboolean(L, c->nesterov);
    else if ((strcmp(k, "beta1") == 0 || strcmp(k, "beta_1") == 0) && adam)
        lua_pushnumber(L, c->beta1);
    else if ((strcmp(k, "beta2") == 0 || strcmp(k, "beta_2") == 0) && adam)
        lua_pushnumber(L, c->beta2);
    else if (strcmp(k, "epsilon") == 0 && kind != NNL_OPT_SGD)
        lua_pushnumber(L, c->epsilon);
    else if (strcmp(k, "weight_decay") == 0 && kind == NNL_OPT_ADAMW)
        lua_pushnumber(L, c->weight_decay);
    else if (strcmp(k, "rho") == 0 && kind == NNL_OPT_RMSPROP)
        lua_pushnumber(L, c->rho);
    else if (strcmp(k, "centered") == 0 && kind == NNL_OPT_RMSPROP)
        lua_pushboolean(L, c->centered);
    else if (strcmp(k, "initial_accumulator_value") == 0 && kind == NNL_OPT_ADAGRAD)
        lua_pushnumber(L, c->initial_accumulator);
    else
        return 0;
    return 1;
}

/* ---- opt:step(weights), opt:zero_grad(weights) ---- */

/* The weights of the list at idx (read first: that may run metamethods,
 * which may also change the optimizer), anchored in a table left on the
 * stack; their tensors and sizes in two arrays left above it. */
typedef struct wlist {
    lua_Integer n;
    nnl_tensor **ws;
    size_t *sizes;
} wlist;

static wlist collect_weights(lua_State *L, int list, const char *fn)
{
    luaL_checktype(L, list, LUA_TTABLE);
    lua_Integer n = luaL_len(L, list);
    if (n < 0 || n > (1 << 24))
        luaL_error(L, "%s: %I weights", fn, n);
    lua_createtable(L, (int)n, 0);
    int anchor = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, list, i);
        lua_rawseti(L, anchor, i);
    }
    wlist w = {n, NULL, NULL};
    w.sizes = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *w.sizes, 0);
    w.ws = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *w.ws, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, anchor, i);
        nnl_tensor *t = nnl_lua_totensor(L, -1);
        if (!t)
            luaL_error(L, "%s: weight %I is %s, not an open nn.Tensor", fn, i,
                       luaL_typename(L, -1));
        lua_pop(L, 1);
        w.ws[i - 1] = t;
        w.sizes[i - 1] = t->numel;
    }
    return w;
}

/* Applies o's rule to every weight of w that has a gradient (a leaf's
 * .grad): weight i of the list uses state slot i, so the same list in the
 * same order each step (model:trainable_weights()) keeps the state; a list
 * of other sizes starts it anew. No Lua code runs here. */
static void apply_step(lua_State *L, nnl_optim *o, const wlist *w, const char *fn)
{
    nnl_error err;
    if (nnl_optim_prepare(o, (size_t)w->n, w->sizes, &err) != NNL_OK)
        nnl_lua_raise_in(L, fn, &err);
    nnl_optim_begin_step(o);
    for (lua_Integer i = 0; i < w->n; i++) {
        const nnl_tensor *g = nnl_ag_grad(w->ws[i]);
        if (!g)
            continue;
        nnl_optim_update(o, (size_t)i, w->ws[i]->data, g->data, w->ws[i]->numel);
        nnl_tensor_bump_version(w->ws[i]);
    }
}

static void zero_weights(lua_State *L, int list, const char *fn)
{
    luaL_checktype(L, list, LUA_TTABLE);
    lua_Integer n = luaL_len(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, list, i);
        nnl_tensor *t = nnl_lua_totensor(L, -1);
        nnl_error err;
        if (!t)
            luaL_error(L, "%s: weight %I is %s, not an open nn.Tensor", fn, i,
                       luaL_typename(L, -1));
        if (nnl_ag_is_leaf(t) && nnl_ag_set_grad(t, NULL, &err) != NNL_OK)
            nnl_lua_raise_in(L, fn, &err);
        lua_pop(L, 1);
    }
}

/* model.optimizer:step(weights): the compiled model's optimizer and its
 * state (shared with fit when the list is model:trainable_weights()). */
static int view_step(lua_State *L)
{
    wlist w = collect_weights(L, 2, "optimizer:step");
    apply_step(L, view_optim(L), &w, "optimizer:step"); /* the optimizer after the list */
    return 0;
}

static int view_zero_grad(lua_State *L)
{
    zero_weights(L, 2, "optimizer:zero_grad");
    return 0;
}

/* The state of an nn.optimizers object used by step (not by compile,
 * which makes the model its own): a userdata in a weak-keyed registry
 * table, freed with the object. */
#define OPTSTATE_MT "nn.OptimizerState"
typedef struct optstate {
    nnl_optim *o;
} optstate;

static int optstate_gc(lua_State *L)
{
    optstate *s = luaL_checkudata(L, 1, OPTSTATE_MT);
    nnl_optim_free(s->o);
    s->o = NULL;
    return 0;
}

/* nn._optim_step(opt, weights): opt:step(weights) of nn.optimizers */
static int l_optim_step(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    nnl_optim_config c;
    nnl_lua_read_optimizer(L, 1, &c, "optimizer:step");
    wlist w = collect_weights(L, 2, "optimizer:step");
    /* From here no metamethod runs: the state is looked up raw and kept
     * on the stack while it is used. */
    lua_getfield(L, LUA_REGISTRYINDEX, OPTSTATE_MT "s");
    int states = lua_gettop(L);
    lua_pushvalue(L, 1);
    lua_rawget(L, states);
    optstate *s = luaL_testudata(L, -1, OPTSTATE_MT);
    nnl_error err;
    /* Settings that decide the state's buffers (momentum on or off, the
     * rule) start a new state when they change; the learning rate does
     * not. */
    const nnl_optim_config *o = s && s->o ? &s->o->cfg : NULL;
    int same = o && o->kind == c.kind && o->momentum == c.momentum &&
               o->nesterov == c.nesterov && o->beta1 == c.beta1 && o->beta2 == c.beta2 &&
               o->epsilon == c.epsilon && o->weight_decay == c.weight_decay &&
               o->rho == c.rho && o->centered == c.centered &&
               o->initial_accumulator == c.initial_accumulator;
    if (!same) {
        s = lua_newuserdatauv(L, sizeof *s, 0);
        s->o = NULL;
        luaL_setmetatable(L, OPTSTATE_MT);
        if (!(s->o = nnl_optim_new(&c, &err)))
            return nnl_lua_raise_in(L, "optimizer:step", &err);
        lua_pushvalue(L, 1);
        lua_pushvalue(L, -2);
        lua_rawset(L, states);
    }
    s->o->cfg.lr = c.lr; /* a script may change opt.lr between steps */
    apply_step(L, s->o, &w, "optimizer:step");
    return 0;
}

static int l_optim_zero_grad(lua_State *L)
{
    zero_weights(L, 2, "optimizer:zero_grad");
    return 0;
}

/* nn._optim_iterations(opt): steps taken by opt:step */
static int l_optim_iterations(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, OPTSTATE_MT "s");
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    optstate *s = luaL_testudata(L, -1, OPTSTATE_MT);
    lua_pushinteger(L, s && s->o ? (lua_Integer)s->o->iterations : 0);
    return 1;
}

void nnl_open_optim_step(lua_State *L)
{
    if (luaL_newmetatable(L, OPTSTATE_MT)) {
        lua_pushcfunction(L, optstate_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    /* The weak table of states, beside the metatable's registry name. */
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, OPTSTATE_MT "s");
    lua_pushcfunction(L, l_optim_step);
    lua_setfield(L, -2, "_optim_step");
    lua_pushcfunction(L, l_optim_zero_grad);
    lua_setfield(L, -2, "_optim_zero_grad");
    lua_pushcfunction(L, l_optim_iterations);
    lua_setfield(L, -2, "_optim_iterations");
}

static int view_index(lua_State *L)
{
    nnl_optim *o = view_optim(L);
    const char *k = lua_tostring(L, 2);
    if (k && (strcmp(k, "step") == 0 || strcmp(k, "zero_grad") == 0)) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushcclosure(L, k[0] == 's' ? view_step : view_zero_grad, 1);
        return 1;
    }
    if (!k || !push_setting(L, o, k))
        lua_pushnil(L);
    return 1;
}

static int view_newindex(lua_State *L)
{
    nnl_optim *o = view_optim(L);
    const char *k = lua_tostring(L, 2);
    if (k && (strcmp(k, "lr") == 0 || strcmp(k, "learning_rate") == 0)) {
        if (lua_type(L, 3) != LUA_TNUMBER)
            return luaL_error(L, "model.optimizer.%s must be a number > 0, got %s", k,
                              luaL_typename(L, 3));
        double lr = lua_tonumber(L, 3);
        if (!(lr > 0.0) || !isfinite(lr))
            return luaL_error(L, "model.optimizer.%s must be a number > 0, got %s", k,
                              luaL_tolstring(L, 3, NULL));
        o->cfg.lr = lr;
        return 0;
    }
    return luaL_error(L, "model.optimizer.%s cannot be set: only the learning rate "
                      "(lr or learning_rate) changes after compile; compile again "
                      "with a new optimizer for other settings",
                      k ? k : luaL_typename(L, 2));
}

static int view_tostring(lua_State *L)
{
    static const char *const keys[] = {
        "learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon",
        "weight_decay", "rho", "centered", "initial_accumulator_value", NULL,
    };
    nnl_optim *o = view_optim(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "nn.optimizers.");
    luaL_addstring(&b, class_names[o->cfg.kind]);
    luaL_addchar(&b, '{');
    for (int i = 0; keys[i]; i++) {
        if (!push_setting(L, o, keys[i]))
            continue;
        const char *v = luaL_tolstring(L, -1, NULL);
        lua_pushfstring(L, "%s%s=%s", i ? ", " : "", keys[i], v);
        lua_remove(L, -2);
        lua_remove(L, -2);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '}');
    luaL_pushresult(&b);
    return 1;
}

void nnl_lua_push_optimizer_view(lua_State *L, int model)
{
    model = lua_absindex(L, model);
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    static const struct {
        const char *name;
        lua_CFunction f;
    } mm[] = {{"__index", view_index}, {"__newindex", view_newindex},
              {"__tostring", view_tostring}};
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) {
        lua_pushvalue(L, model);
        lua_pushcclosure(L, mm[i].f, 1);
        lua_setfield(L, -2, mm[i].name);
    }
    lua_pushliteral(L, "nn.Optimizer");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
}
