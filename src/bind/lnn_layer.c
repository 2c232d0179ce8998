/* The Lua face of layers: one constructor per kind of the table of layer
 * kinds (model/layers.c), nn.Dense, nn.Conv2D, ..., all made by the same
 * function from the kind's declared options, and the nn.Layer handle
 * (layer.name, layer.units and every other option by its name,
 * get_weights/set_weights, tostring). Nothing here knows a kind.
 *
 * Ownership: an nn.Layer owns its C layer until it is added to a model;
 * then the model owns it and the layer handle keeps the model alive (its
 * uservalue), so the pointer stays valid while the handle is reachable. */
#include <stdio.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "bind/lnn_options.h"

/* ---- handles --------------------------------------------------------------- */

/* Whether the layer handle h at idx can be used: it holds a layer and, when
 * a model owns that layer, the model was not freed (a layer handle keeps its
 * model alive, but a script with the debug library can call __gc by hand). */
static int layer_live(lua_State *L, int idx, nnl_llayer *h)
{
    if (!h->l)
        return 0;
    if (!h->owned || h->owned == 2) /* 2: nn.load is making its model */
        return 1;
    lua_getiuservalue(L, idx, 1);
    nnl_lmodel *mh = luaL_testudata(L, -1, NNL_MODEL_MT);
    int live = mh && mh->m;
    lua_pop(L, 1);
    return live;
}

nnl_llayer *nnl_lua_tolayer(lua_State *L, int idx)
{
    nnl_llayer *h = luaL_testudata(L, idx, NNL_LAYER_MT);
    return h && layer_live(L, idx, h) ? h : NULL;
}

nnl_llayer *nnl_lua_checklayer(lua_State *L, int idx)
{
    nnl_llayer *h = luaL_checkudata(L, idx, NNL_LAYER_MT);
    if (!layer_live(L, idx, h))
        luaL_argerror(L, idx, h->l ? "layer is closed: its model was freed"
                                   : "layer is closed");
    return h;
}

nnl_llayer *nnl_lua_newlayer(lua_State *L)
{
    nnl_llayer *h = lua_newuserdatauv(L, sizeof *h, 1);
    h->l = NULL;
    h->owned = 0;
    luaL_setmetatable(L, NNL_LAYER_MT);
    nnl_lua_pace_collector(L);
    return h;
}

void nnl_lua_default_name(lua_State *L, char *buf, size_t size, const char *base)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, "nn.names") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "nn.names");
    }
    lua_Integer n = (lua_getfield(L, -1, base), lua_tointeger(L, -1));
    lua_pop(L, 1);
    if (n == 0)
        snprintf(buf, size, "%s", base);
    else
        snprintf(buf, size, "%s_%lld", base, (long long)n);
    lua_pushinteger(L, n + 1);
    lua_setfield(L, -2, base);
    lua_pop(L, 1);
}

/* ---- constructors -------------------------------------------------------- */

/* A layer's size arguments (input_dim, input_shape entries): integers
 * 1..2^31-1, as Keras keeps them in int32. */
#define SIZE_MAX_ARG ((lua_Integer)0x7fffffff)

/* Reads a per-sample shape from input_dim or input_shape of the options at
 * idx (raw reads: the options were checked by nnl_lua_read_options).
 * Returns 0 when neither is given. */
static int read_input_shape(lua_State *L, int idx, const char *fn, nnl_shape *s)
{
    if (idx == 0 || !lua_istable(L, idx))
        return 0;
    lua_getfield(L, idx, "input_dim");
    lua_getfield(L, idx, "input_shape");
    int has_dim = !lua_isnil(L, -2), has_shape = !lua_isnil(L, -1);
    if (has_dim && has_shape)
        luaL_error(L, "%s: give input_dim or input_shape, not both", fn);
    memset(s, 0, sizeof *s);
    if (has_dim) {
        s->ndim = 1;
        s->d[0] = (size_t)nnl_lua_checkint(L, -2, fn, "option 'input_dim'", 1, SIZE_MAX_ARG);
    } else if (has_shape && lua_type(L, -1) == LUA_TNUMBER) {
        s->ndim = 1;
        s->d[0] = (size_t)nnl_lua_checkint(L, -1, fn, "option 'input_shape'", 1,
                                           SIZE_MAX_ARG);
    } else if (has_shape && lua_istable(L, -1)) {
        lua_Unsigned n = lua_rawlen(L, -1);
        if (n < 1 || n > NNL_MAX_DIMS - 1)
            luaL_error(L, "%s: input_shape must list 1 to %d sizes, got %d", fn,
                       NNL_MAX_DIMS - 1, (int)(n > 99 ? 99 : n));
        s->ndim = (int)n;
        for (int i = 1; i <= (int)n; i++) {
            char what[48];
            snprintf(what, sizeof what, "input_shape[%d]", i);
            lua_rawgeti(L, -1, i);
            s->d[i - 1] = (size_t)nnl_lua_checkint(L, -1, fn, what, 1, SIZE_MAX_ARG);
            lua_pop(L, 1);
        }
    } else if (has_shape) {
        luaL_error(L, "%s: input_shape must be a table of sizes, got %s", fn,
                   luaL_typename(L, -1));
    }
    lua_pop(L, 2);
    return has_dim || has_shape;
}

/* Whether the table at idx is a plain list (keys 1..n only, no
 * metatable): a value such as kernel_size = {3, 3}, not an options table. */
static int is_list(lua_State *L, int idx)
{
    if (!lua_istable(L, idx))
        return 0;
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_Unsigned n = lua_rawlen(L, idx), count = 0;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return n > 0 && count == n;
}

/* nn.<Type>(positional..., [opts]) for the kind in upvalue 1: the
 * positional arguments fill the kind's first options in order; then an
 * options table (with the positional ones by name too, as Keras allows),
 * or a string for a kind with an activation (nn.Dense(8, "relu")). */
static int l_layer(lua_State *L)
{
    const nnl_layer_ops *kind = lua_touserdata(L, lua_upvalueindex(1));
    char fn[64];
    snprintf(fn, sizeof fn, "nn.%s", kind->type);
    int nargs = lua_gettop(L);
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(kind->options, kind->noptions, v);
    int opts = 0, arg = 1;
    for (int i = 0; i < kind->npositional && arg <= nargs; i++, arg++) {
        if (lua_isnil(L, arg))
            continue;
        if (lua_istable(L, arg) && !is_list(L, arg))
            break; /* the options table */
        nnl_lua_read_value(L, arg, fn, &kind->options[i], 1, &v[i]);
    }
    int act = nnl_option_find(kind->options, kind->noptions, "activation");
    if (arg <= nargs && lua_type(L, arg) == LUA_TSTRING && act >= 0 && !v[act].given) {
        nnl_lua_read_value(L, arg, fn, &kind->options[act], 1, &v[act]);
        arg++;
    }
    if (arg <= nargs) {
        if (!lua_isnil(L, arg) && !lua_istable(L, arg))
            return luaL_error(L, "%s: expected an options table after the arguments, got %s",
                              fn, luaL_typename(L, arg));
        opts = lua_isnil(L, arg) ? 0 : arg;
        arg++;
    }
    while (arg <= nargs && lua_isnil(L, arg))
        arg++;
    if (arg <= nargs)
        return luaL_error(L, "%s: too many arguments (%d)", fn, nargs);
    if (opts)
        nnl_lua_read_options(L, opts, fn, kind->options, kind->noptions, v,
                             nnl_layer_common_options);
    for (size_t i = 0; i < kind->noptions; i++)
        if (kind->options[i].required && !v[i].given) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int k = 0; k < kind->npositional; k++) {
                luaL_addstring(&b, k ? ", " : "");
                luaL_addstring(&b, kind->options[k].key);
            }
            luaL_pushresult(&b);
            return luaL_error(L, "%s: %s is required: %s(%s%s{...})", fn,
                              kind->options[i].key, fn, lua_tostring(L, -1),
                              kind->npositional ? ", " : "");
        }
    char name[NNL_LAYER_NAME_MAX];
    if (opts && lua_getfield(L, opts, "name") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "%s: option 'name' must be a string, got %s", fn,
                              luaL_typename(L, -1));
        snprintf(name, sizeof name, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    } else {
        char base[64];
        if (opts)
            lua_pop(L, 1);
        nnl_lua_default_name(L, name, sizeof name, nnl_layer_snake(kind->type, base, sizeof base));
    }
    nnl_shape s;
    int has_shape = read_input_shape(L, opts, fn, &s);
    nnl_llayer *h = nnl_lua_newlayer(L);
    nnl_error err;
    nnl_layer *l = nnl_layer_create(kind, v, &err);
    if (!l)
        return nnl_lua_raise_in(L, fn, &err);
    h->l = l;
    nnl_layer_set_name(l, name);
    if (has_shape && nnl_layer_set_input_shape(l, &s, &err) != NNL_OK)
        return nnl_lua_raise_in(L, fn, &err);
    return 1;
}

/* ---- handle methods -------------------------------------------------------- */

/* __gc: frees a layer that no model took. By hand (the debug library)
 * the layer stays while C code may still use it. */
static int layer_gc(lua_State *L)
{
    nnl_llayer *h = luaL_checkudata(L, 1, NNL_LAYER_MT);
    if (!h->owned && !nnl_lua_collecting(L) && nnl_lua_in_use(L, 1))
        return 0;
    if (!h->owned)
        nnl_layer_free(h->l);
    h->l = NULL;
    return 0;
}

void nnl_lua_push_param(lua_State *L, const nnl_param *p)
{
    nnl_ltensor *t = nnl_lua_newtensor(L);
    size_t shape[NNL_MAX_DIMS];
    for (int i = 0; i < p->shape.ndim; i++)
        shape[i] = p->shape.d[i];
    nnl_error err;
    nnl_tensor *c = nnl_tensor_new(p->shape.ndim, shape, &err);
    if (!c)
        nnl_lua_raise(L, &err);
    memcpy(c->data, p->w, p->n * sizeof(float));
    t->t = c;
}

void nnl_lua_set_param(lua_State *L, int idx, const nnl_layer *l, nnl_param *p, const char *fn)
{
    nnl_tensor *t = nnl_lua_totensor(L, idx);
    if (!t)
        luaL_error(L, "%s: %s %s: expected an nn.Tensor, got %s", fn, l->name, p->name,
                   luaL_typename(L, idx));
    int same = t->ndim == p->shape.ndim;
    for (int i = 0; same && i < t->ndim; i++)
        same = t->shape[i] == p->shape.d[i];
    if (!same) {
        char a[64], b[64];
        size_t shape[NNL_MAX_DIMS];
        for (int i = 0; i < p->shape.ndim; i++)
            shape[i] = p->shape.d[i];
        luaL_error(L, "%s: %s %s expects shape %s, got %s", fn, l->name, p->name,
                   nnl_shape_str_raw(p->shape.ndim, shape, a, sizeof a),
                   nnl_shape_str(t, b, sizeof b));
    }
    memcpy(p->w, t->data, p->n * sizeof(float));
    nnl_tensor_bump_version(p->wt);
}

/* layer:get_weights() -> {kernel, bias, ...} as tensors (copies). */
static int layer_get_weights(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    lua_createtable(L, l->nparams, 0);
    for (int i = 0; l->built && i < l->nparams; i++) {
        nnl_lua_push_param(L, &l->params[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* layer:set_weights(list) */
static int layer_set_weights(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *fn = "set_weights";
    if (!l->built)
        return luaL_error(L, "%s: layer %s is not built yet (its input size is not "
                          "known)", fn, l->name);
    lua_Integer n = luaL_len(L, 2);
    if (n != l->nparams)
        return luaL_error(L, "%s: layer %s has %d weight arrays, got %I", fn, l->name,
                          l->nparams, n);
    /* Check every shape before changing anything. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < l->nparams; i++) {
            lua_geti(L, 2, i + 1);
            nnl_tensor *t = nnl_lua_totensor(L, -1);
            int ok = t && t->ndim == l->params[i].shape.ndim;
            for (int d = 0; ok && d < t->ndim; d++)
                ok = t->shape[d] == l->params[i].shape.d[d];
            if (pass == 1 || !ok)
                nnl_lua_set_param(L, -1, l, &l->params[i], fn); /* raises when !ok */
            lua_pop(L, 1);
        }
    return 0;
}

static int layer_count_params(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    lua_pushinteger(L, l->built ? (lua_Integer)nnl_layer_count_params(l, 0) : 0);
    return 1;
}

void nnl_lua_push_shape(lua_State *L, const nnl_shape *s)
{
    lua_createtable(L, s->ndim, 0);
    for (int i = 0; i < s->ndim; i++) {
        lua_pushinteger(L, (lua_Integer)s->d[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static const char *const draw_names[] = {"none", "neurons", "maps"};

/* layer.name, .type, .built, .input_shape, .output_shape, .draw, every
 * option of its kind by name (layer.units, layer.rate, ...), then
 * methods. */
static int layer_index(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    const char *k = luaL_checkstring(L, 2);
    int i = nnl_layer_option(l, k);
    if (i >= 0 && !l->ops->options[i].hidden)
        nnl_lua_push_value(L, &l->ops->options[i], &l->config[i]);
    else if (strcmp(k, "name") == 0)
        lua_pushstring(L, l->name);
    else if (strcmp(k, "type") == 0)
        lua_pushstring(L, l->ops->type);
    else if (strcmp(k, "built") == 0)
        lua_pushboolean(L, l->built);
    else if (strcmp(k, "input_shape") == 0 && (l->built || l->has_input_shape))
        nnl_lua_push_shape(L, &l->in_shape);
    else if (strcmp(k, "output_shape") == 0 && l->built)
        nnl_lua_push_shape(L, &l->out_shape);
    else if (strcmp(k, "draw") == 0) /* how nn.plot.model draws it */
        lua_pushstring(L, draw_names[l->ops->draw]);
    else if (strcmp(k, "l1") == 0)
        lua_pushnumber(L, l->l1);
    else if (strcmp(k, "l2") == 0)
        lua_pushnumber(L, l->l2);
    else {
        /* layer.kernel, layer.bias, ...: the weights themselves (sharing
         * the layer's storage; .grad after a backward). */
        for (int p = 0; p < l->nparams; p++)
            if (strcmp(k, l->params[p].name) == 0) {
                nnl_lua_push_weight(L, &l->params[p]);
                return 1;
            }
        if (nnl_lua_layer_field(L, 1, k)) /* a Lua layer's own fields */
            return 1;
        luaL_getmetatable(L, NNL_LAYER_MT);
        lua_getfield(L, -1, "__methods");
        lua_getfield(L, -1, k);
    }
    return 1;
}

/* layer.k = v: a field of a Lua layer (self.factor = 2); the others'
 * settings are fixed when they are made. */
static int layer_newindex(lua_State *L)
{
    nnl_llayer *h = nnl_lua_checklayer(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (nnl_lua_layer_setfield(L, 1, k, 3))
        return 0;
    return luaL_error(L, "layer.%s cannot be set: a %s layer's settings are fixed when it is "
                      "made", k, h->l->ops->type);
}

/* "nn.Dense(32, relu) 'dense' -> (None, 32)": the positional values, the
 * activation where the kind has one, the name and the output shape. */
static int layer_tostring(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "nn.%s(", l->ops->type);
    luaL_addvalue(&b);
    int act = nnl_layer_option(l, "activation");
    int shown = 0;
    for (int i = 0; i < (int)l->ops->noptions; i++) {
        if (i >= l->ops->npositional && i != act)
            continue;
        char t[96];
        nnl_value_text(&l->ops->options[i], &l->config[i], t, sizeof t);
        if (l->ops->options[i].type == NNL_OPTION_CHOICE && t[0] == '"') {
            t[strlen(t) - 1] = '\0'; /* names without their quotes */
            memmove(t, t + 1, strlen(t));
        }
        luaL_addstring(&b, shown++ ? ", " : "");
        luaL_addstring(&b, t);
    }
    char shape[64] = "?";
    if (l->built)
        nnl_shape_keras(&l->out_shape, shape, sizeof shape);
    lua_pushfstring(L, ") '%s' -> %s", l->name, shape);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    return 1;
}

const luaL_Reg nnl_layer_methods[] = {
    {"get_weights", layer_get_weights},
    {"set_weights", layer_set_weights},
    {"count_params", layer_count_params},
    {NULL, NULL},
};

/* Pushes the kinds for nn.registry.layers (help and Lua code read it):
 * {Dense = {type = "Dense", help = "...", example = "...", options = {...},
 *  draw = "neurons"}, ...} */
void nnl_lua_push_layer_kinds(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; nnl_layer_kinds[i]; i++) {
        const nnl_layer_ops *k = nnl_layer_kinds[i];
        lua_createtable(L, 0, 5);
        lua_pushstring(L, k->type);
        lua_setfield(L, -2, "type");
        lua_pushstring(L, k->help ? k->help : "");
        lua_setfield(L, -2, "help");
        if (k->example) {
            lua_pushstring(L, k->example);
            lua_setfield(L, -2, "example");
        }
        lua_pushstring(L, draw_names[k->draw]);
        lua_setfield(L, -2, "draw");
        lua_pushinteger(L, k->npositional);
        lua_setfield(L, -2, "npositional");
        nnl_lua_push_option_list(L, k->options, k->noptions, k->npositional);
        lua_setfield(L, -2, "options");
        lua_setfield(L, -2, k->type);
    }
}

void nnl_open_layers(lua_State *L)
{
    luaL_newmetatable(L, NNL_LAYER_MT);
    lua_pushcfunction(L, layer_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, layer_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, layer_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, layer_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newlib(L, nnl_layer_methods);
    lua_setfield(L, -2, "__methods");
    nnl_lua_protect_metatable(L, -1);
    lua_pop(L, 1);
    for (int i = 0; nnl_layer_kinds[i]; i++) {
        lua_pushlightuserdata(L, (void *)nnl_layer_kinds[i]);
        lua_pushcclosure(L, l_layer, 1);
        lua_setfield(L, -2, nnl_layer_kinds[i]->type);
    }
}
