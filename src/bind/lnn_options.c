/* Lua values of declared options: see lnn_options.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_options.h"

/* "option 'key'" or "key" for messages. */
static const char *what(char *buf, size_t size, const nnl_option *o, int positional)
{
    snprintf(buf, size, positional ? "%s" : "option '%s'", o->key);
    return buf;
}

/* The value at idx as given, for messages. */
static const char *given(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNUMBER)
        return luaL_tolstring(L, idx, NULL);
    if (t == LUA_TSTRING)
        return lua_pushfstring(L, "the string \"%s\"", lua_tostring(L, idx));
    return luaL_typename(L, idx);
}

/* Reads an integer list entry (SIZES, SHAPE). */
static long read_int(lua_State *L, int idx, const char *fn, const char *w, int k)
{
    int isint = 0;
    lua_Integer x = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isint) : 0;
    if (!isint || x < -4294967296LL || x > 4294967296LL)
        luaL_error(L, "%s: %s[%d] must be an integer, got %s", fn, w, k, given(L, idx));
    return (long)x;
}

void nnl_lua_read_value(lua_State *L, int idx, const char *fn, const nnl_option *o,
                        int positional, nnl_value *v)
{
    char w[96];
    what(w, sizeof w, o, positional);
    idx = lua_absindex(L, idx);
    memset(v, 0, sizeof *v);
    v->given = 1;
    switch (o->type) {
    case NNL_OPTION_INT: {
        lua_Integer x = nnl_lua_checkint(L, idx, fn, w, (lua_Integer)o->min, (lua_Integer)o->max);
        v->num = (double)x;
        break;
    }
    case NNL_OPTION_NUM:
        if (lua_type(L, idx) != LUA_TNUMBER)
            luaL_error(L, "%s: %s must be a number, got %s", fn, w, given(L, idx));
        v->num = lua_tonumber(L, idx);
        if (!nnl_option_num_ok(o, v->num)) {
            char range[64];
            luaL_error(L, "%s: %s must be %s, got %s", fn, o->key,
                       nnl_option_range_text(o, range, sizeof range), given(L, idx));
        }
        break;
    case NNL_OPTION_BOOL:
        if (!lua_isboolean(L, idx))
            luaL_error(L, "%s: %s must be true or false, got %s", fn, w, given(L, idx));
        v->num = lua_toboolean(L, idx);
        break;
    case NNL_OPTION_CHOICE: {
        if (lua_type(L, idx) != LUA_TSTRING)
            luaL_error(L, "%s: %s must be the name of %s %s (%s), got %s", fn, w,
                       strchr("aeiou", o->choice->what[0]) ? "an" : "a", o->choice->what,
                       o->choice->names(), given(L, idx));
        int k = o->choice->from_name(lua_tostring(L, idx));
        if (k < 0)
            luaL_error(L, "%s: unknown %s '%s' (valid: %s)", fn, o->key, lua_tostring(L, idx),
                       o->choice->names());
        v->num = k;
        break;
    }
    case NNL_OPTION_SIZES:
    case NNL_OPTION_SHAPE:
        if (lua_type(L, idx) == LUA_TNUMBER) {
            v->nints = o->type == NNL_OPTION_SIZES ? o->count : 1;
            long x = read_int(L, idx, fn, w, 1);
            for (int k = 0; k < v->nints; k++)
                v->ints[k] = x;
        } else if (lua_type(L, idx) == LUA_TTABLE) {
            lua_Unsigned n = lua_rawlen(L, idx);
            int want = o->type == NNL_OPTION_SIZES ? o->count : 0;
            if (want ? n != (lua_Unsigned)want : (n < 1 || n > NNL_VALUE_INTS_MAX))
                luaL_error(L, "%s: %s must be %s%s of %s%d integers, got %d entries", fn, w,
                           o->type == NNL_OPTION_SIZES ? "an integer or " : "", "a list",
                           want ? "" : "1 to ", want ? want : NNL_VALUE_INTS_MAX, (int)(n > 99 ? 99 : n));
            v->nints = (int)n;
            for (int k = 0; k < v->nints; k++) {
                lua_rawgeti(L, idx, k + 1);
                v->ints[k] = read_int(L, -1, fn, w, k + 1);
                lua_pop(L, 1);
            }
        } else {
            luaL_error(L, "%s: %s must be %s, got %s", fn, w,
                       o->type == NNL_OPTION_SIZES ? "an integer or a list of integers"
                                                   : "a list of integers", given(L, idx));
        }
        break;
    case NNL_OPTION_REGULARIZER:
        if (lua_type(L, idx) == LUA_TSTRING) { /* "l1" / "l2": Keras's 0.01 */
            const char *r = lua_tostring(L, idx);
            if (strcmp(r, "l2") == 0)
                v->l2 = 0.01;
            else if (strcmp(r, "l1") == 0)
                v->l1 = 0.01;
            else
                luaL_error(L, "%s: %s must be {l1 = x, l2 = y}, \"l1\" or \"l2\", got '%s'",
                           fn, w, r);
        } else if (lua_type(L, idx) == LUA_TTABLE) {
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
                if (!k || (strcmp(k, "l1") != 0 && strcmp(k, "l2") != 0)) {
                    lua_pushvalue(L, -2);
                    luaL_error(L, "%s: %s: unknown option '%s' (valid: l1, l2)", fn, o->key,
                               luaL_tolstring(L, -1, NULL));
                }
                if (lua_type(L, -1) != LUA_TNUMBER)
                    luaL_error(L, "%s: %s: %s must be a number, got %s", fn, o->key, k,
                               given(L, -1));
                double x = lua_tonumber(L, -1);
                if (!(x >= 0.0 && x <= 1e30))
                    luaL_error(L, "%s: %s: l1 and l2 must be >= 0, got %s", fn, o->key,
                               given(L, -1));
                *(k[1] == '1' ? &v->l1 : &v->l2) = x;
                lua_pop(L, 1);
            }
        } else {
            luaL_error(L, "%s: %s must be {l1 = x, l2 = y}, \"l1\" or \"l2\", got %s", fn, w,
                       given(L, idx));
        }
        break;
    }
    nnl_error err;
    if (nnl_value_check(o, v, &err) != NNL_OK) {
        /* The core's message starts with the key; say option 'key'. */
        size_t n = strlen(o->key);
        const char *rest = strncmp(err.msg, o->key, n) == 0 ? err.msg + n : NULL;
        if (rest)
            luaL_error(L, "%s: %s%s", fn, w, rest);
        luaL_error(L, "%s: %s", fn, err.msg);
    }
}

void nnl_lua_read_options(lua_State *L, int idx, const char *fn, const nnl_option *opts,
                          size_t n, nnl_value *v, const char *const *extra)
{
    if (lua_isnoneornil(L, idx))
        return;
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: options must be a table, got %s", fn, luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int i = k ? nnl_option_find(opts, n, k) : -1;
        int known = i >= 0 && !opts[i].hidden;
        for (int e = 0; !known && k && extra && extra[e]; e++)
            known = strcmp(k, extra[e]) == 0;
        if (!known) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            int first = 1;
            for (size_t j = 0; j < n; j++) {
                if (opts[j].hidden)
                    continue;
                luaL_addstring(&b, first ? "" : ", ");
                luaL_addstring(&b, opts[j].key);
                first = 0;
            }
            for (int e = 0; extra && extra[e]; e++) {
                luaL_addstring(&b, first ? "" : ", ");
                luaL_addstring(&b, extra[e]);
                first = 0;
            }
            luaL_pushresult(&b);
            lua_pushvalue(L, -3);
            luaL_error(L, "%s: unknown option '%s' (valid: %s)", fn, luaL_tolstring(L, -1, NULL),
                       lua_tostring(L, -2));
        }
        if (i >= 0) {
            if (v[i].given)
                luaL_error(L, "%s: %s is given twice (as an argument and as an option)", fn,
                           opts[i].key);
            nnl_lua_read_value(L, -1, fn, &opts[i], 0, &v[i]);
        }
        lua_pop(L, 1);
    }
}

void nnl_lua_push_value(lua_State *L, const nnl_option *o, const nnl_value *v)
{
    switch (o->type) {
    case NNL_OPTION_INT:
        lua_pushinteger(L, (lua_Integer)v->num);
        break;
    case NNL_OPTION_NUM:
        lua_pushnumber(L, v->num);
        break;
    case NNL_OPTION_BOOL:
        lua_pushboolean(L, v->num != 0.0);
        break;
    case NNL_OPTION_CHOICE: {
        const char *name = v->num >= 0 ? o->choice->name((int)v->num) : NULL;
        if (name)
            lua_pushstring(L, name);
        else
            lua_pushnil(L);
        break;
    }
    case NNL_OPTION_SIZES:
    case NNL_OPTION_SHAPE:
        if (v->nints == 0) {
            lua_pushnil(L);
            break;
        }
        lua_createtable(L, v->nints, 0);
        for (int k = 0; k < v->nints; k++) {
            lua_pushinteger(L, v->ints[k]);
            lua_rawseti(L, -2, k + 1);
        }
        break;
    case NNL_OPTION_REGULARIZER:
        if (v->l1 == 0.0 && v->l2 == 0.0) {
            lua_pushnil(L);
            break;
        }
        lua_createtable(L, 0, 2);
        lua_pushnumber(L, v->l1);
        lua_setfield(L, -2, "l1");
        lua_pushnumber(L, v->l2);
        lua_setfield(L, -2, "l2");
        break;
    }
}

static const char *type_name(nnl_option_type t)
{
    switch (t) {
    case NNL_OPTION_INT: return "integer";
    case NNL_OPTION_NUM: return "number";
    case NNL_OPTION_BOOL: return "boolean";
    case NNL_OPTION_CHOICE: return "name";
    case NNL_OPTION_SIZES: return "sizes";
    case NNL_OPTION_SHAPE: return "shape";
    case NNL_OPTION_REGULARIZER: return "regularizer";
    }
    return "?";
}

void nnl_lua_push_option_list(lua_State *L, const nnl_option *opts, size_t n, int npositional)
{
    lua_createtable(L, (int)n, 0);
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const nnl_option *o = &opts[i];
        if (o->hidden)
            continue;
        char def[96];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, o->key);
        lua_setfield(L, -2, "key");
        lua_pushstring(L, type_name(o->type));
        lua_setfield(L, -2, "type");
        lua_pushstring(L, nnl_option_default_text(opts, o, def, sizeof def));
        lua_setfield(L, -2, "default");
        if (!o->required && !(o->type == NNL_OPTION_SIZES && o->def_like > 0)) {
            nnl_value v;
            nnl_values_default(o, 1, &v);
            nnl_lua_push_value(L, o, &v);
            lua_setfield(L, -2, "value"); /* the default as a Lua value */
        }
        lua_pushboolean(L, o->required);
        lua_setfield(L, -2, "required");
        lua_pushboolean(L, (int)i < npositional);
        lua_setfield(L, -2, "positional");
        lua_pushstring(L, o->help ? o->help : "");
        lua_setfield(L, -2, "help");
        if (o->choice) {
            lua_pushstring(L, o->choice->names());
            lua_setfield(L, -2, "choices");
        }
        if (o->alias) {
            lua_pushstring(L, o->alias);
            lua_setfield(L, -2, "alias");
        }
        lua_rawseti(L, -2, ++k);
    }
}

/* ---- options of functions without a declared list ---- */


static void join_list(char *buf, size_t size, const char *const *valid)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; valid[i] && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", valid[i]);
}

void nnl_lua_check_options(lua_State *L, int idx, const char *fn,
                           const char *const *valid)
{
    if (lua_isnoneornil(L, idx))
        return;
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: options must be a table, got %s", fn, luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int ok = 0;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            for (int i = 0; valid[i] && !ok; i++)
                ok = strcmp(k, valid[i]) == 0;
        }
        if (!ok) {
            char list[512];
            join_list(list, sizeof list, valid);
            lua_pushvalue(L, -2);
            luaL_error(L, "%s: unknown option '%s' (valid: %s)", fn,
                       luaL_tolstring(L, -1, NULL), list);
        }
        lua_pop(L, 1);
    }
}

/* Pushes opts[key] (nil when opts is not a table). */
static int get_opt(lua_State *L, int idx, const char *key)
{
    if (!lua_istable(L, idx)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, idx, key);
}

lua_Integer nnl_lua_opt_int(lua_State *L, int idx, const char *key, const char *fn,
                            lua_Integer def, lua_Integer min)
{
    idx = lua_absindex(L, idx);
    if (get_opt(L, idx, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < min)
        luaL_error(L, "%s: option '%s' must be an integer >= %I, got %s", fn, key,
                   min, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

double nnl_lua_opt_num(lua_State *L, int idx, const char *key, const char *fn, double def)
{
    idx = lua_absindex(L, idx);
    if (get_opt(L, idx, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "%s: option '%s' must be a number, got %s", fn, key,
                   luaL_typename(L, -1));
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

int nnl_lua_opt_bool(lua_State *L, int idx, const char *key, const char *fn, int def)
{
    idx = lua_absindex(L, idx);
    if (get_opt(L, idx, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (!lua_isboolean(L, -1))
        luaL_error(L, "%s: option '%s' must be true or false, got %s", fn, key,
                   luaL_typename(L, -1));
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* A string option, or def. The value is copied into buf (size bytes,
 * longer values cut): the string may have come from an __index of the
 * options table and nothing else anchors it, so its pointer could be freed
 * by the next allocation's collector step. */
const char *nnl_lua_opt_str(lua_State *L, int idx, const char *key, const char *fn,
                            const char *def, char *buf, size_t size)
{
    idx = lua_absindex(L, idx);
    if (get_opt(L, idx, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: option '%s' must be a string, got %s", fn, key,
                   luaL_typename(L, -1));
    snprintf(buf, size, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return buf;
}

