/* The Lua face of model files (src/model/modelfile.h): model:save(path)
 * (also nn.save(model, path)) and nn.load(path) -> model.
 *
 * nn.load makes an empty nn.Sequential through the same constructor as
 * scripts, then swaps in the loaded C model and gives it one nn.Layer
 * handle per layer (owned by the model, as model:add leaves them). The
 * model's name, compile settings (loss, optimizer name, metrics) and
 * model.epochs_done come from the file. */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "model/loss.h"
#include "model/modelfile.h"
#include "bind/lnn_options.h"

/* model:save(path) -> model. model.epochs_done (set by nn.load and by
 * ModelCheckpoint) is stored as the epoch count. */
static int model_save(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    const char *path = nnl_lua_checkpath(L, 2, "save", "path");
    nnl_modelfile_info info;
    memset(&info, 0, sizeof info);
    lua_getiuservalue(L, 1, 2);
    if (lua_istable(L, -1)) {
        if (lua_getfield(L, -1, "name") == LUA_TSTRING)
            snprintf(info.name, sizeof info.name, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        if (lua_getfield(L, -1, "epochs_done") != LUA_TNIL) {
            int isint;
            lua_Integer e = lua_tointegerx(L, -1, &isint);
            if (!isint || e < 0)
                return luaL_error(L, "save: model.epochs_done must be a whole number "
                                  ">= 0, got %s", luaL_tolstring(L, -1, NULL));
            info.epochs = (long)e;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    nnl_error err;
    lua_State **saved = nnl_lua_layers_enter(L, h->m); /* a Lua layer's get_config runs */
    nnl_status st = nnl_modelfile_save(h->m, path, &info, &err);
    nnl_lua_layers_leave(h->m, saved);
    if (st != NNL_OK)
        return nnl_lua_raise_in(L, "save", &err);
    lua_settop(L, 1);
    return 1;
}

/* nn.load(path [, {custom_objects = {Class = class, ...}}]) -> model.
 * Upvalue 1: nn.Sequential. Layers of a class written in Lua are made by
 * their class from custom_objects with the config the file holds (their
 * get_config); the file itself runs nothing. */
static int l_load(lua_State *L)
{
    const char *path = nnl_lua_checkpath(L, 1, "nn.load", "path");
    lua_settop(L, 2);
    if (!lua_isnil(L, 2)) {
        if (!lua_istable(L, 2))
            return luaL_error(L, "nn.load: options must be a table ({custom_objects = "
                              "{...}}), got %s", luaL_typename(L, 2));
        static const char *const valid[] = {"custom_objects", NULL};
        nnl_lua_check_options(L, 2, "nn.load", valid);
        lua_getfield(L, 2, "custom_objects");
        if (!lua_isnil(L, -1) && !lua_istable(L, -1))
            return luaL_error(L, "nn.load: custom_objects must be a table {Name = class}, "
                              "got %s", luaL_typename(L, -1));
    } else {
        lua_pushnil(L);
    }
    int objs = 3; /* custom_objects or nil */
    lua_newtable(L); /* 4: the layer handles their classes made */
    int made = 4;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushnil(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "sequential");
    lua_setfield(L, -2, "name");
    lua_call(L, 2, 1); /* an empty model at 5 */
    const int mi = 5;
    nnl_lmodel *h = nnl_lua_checkmodel(L, mi);
    nnl_modelfile_info info;
    memset(&info, 0, sizeof info);
    nnl_lua_resolver_ctx rc = {L, objs, made};
    nnl_error err;
    nnl_model *m = nnl_modelfile_load_custom(path, &info,
                                             lua_isnil(L, objs) ? NULL : nnl_lua_resolve_layer,
                                             &rc, &err);
    if (!m) {
        /* the layers the classes made went with the failed load */
        lua_pushnil(L);
        while (lua_next(L, made)) {
            nnl_llayer *lh = lua_touserdata(L, -1);
            lh->l = NULL;
            lh->owned = 0;
            lua_pop(L, 1);
        }
        return nnl_lua_raise_in(L, "nn.load", &err);
    }
    /* No Lua error can happen between the load and this hand-over. */
    nnl_model_free(h->m);
    h->m = m;

    lua_getiuservalue(L, mi, 2);
    if (info.name[0]) {
        lua_pushstring(L, info.name);
        lua_setfield(L, -2, "name");
    }
    lua_pushinteger(L, (lua_Integer)info.epochs);
    lua_setfield(L, -2, "epochs_done");
    if (m->compiled) {
        lua_pushstring(L, nnl_loss_name(m->loss));
        lua_setfield(L, -2, "loss");
        lua_pushstring(L, nnl_optim_name(m->opt->cfg.kind));
        lua_setfield(L, -2, "optimizer");
        lua_createtable(L, (int)m->nmetrics, 0);
        for (size_t i = 0; i < m->nmetrics; i++) {
            lua_pushstring(L, m->metrics[i].name);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "metrics");
    }
    lua_pop(L, 1);

    lua_getiuservalue(L, mi, 1); /* model.layers */
    for (size_t i = 0; i < m->nlayers; i++) {
        /* a Lua layer keeps the handle its class made (its fields) */
        if (lua_rawgetp(L, made, m->layers[i]) == LUA_TUSERDATA) {
            ((nnl_llayer *)lua_touserdata(L, -1))->owned = 1;
        } else {
            lua_pop(L, 1);
            nnl_llayer *lh = lua_newuserdatauv(L, sizeof *lh, 1);
            lh->l = m->layers[i];
            lh->owned = 1;
            luaL_setmetatable(L, NNL_LAYER_MT);
        }
        lua_pushvalue(L, mi);
        lua_setiuservalue(L, -2, 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_settop(L, mi);
    return 1;
}

void nnl_open_modelfile(lua_State *L)
{
    lua_getfield(L, -1, "Sequential");
    lua_pushcclosure(L, l_load, 1);
    lua_setfield(L, -2, "load");
    lua_pushcfunction(L, model_save);
    lua_setfield(L, -2, "save");
    luaL_getmetatable(L, NNL_MODEL_MT);
    lua_getfield(L, -1, "__methods");
    lua_pushcfunction(L, model_save);
    lua_setfield(L, -2, "save");
    lua_pop(L, 2);
}
