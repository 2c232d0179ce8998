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

static int view_index(lua_State *L)
{
    nnl_optim *o = view_optim(L);
    const char *k = lua_tostring(L, 2);
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
