/* Lua values of declared options (model/options.h): reading constructor
 * arguments and option tables by a thing's option list, and pushing
 * values back (layer.units, help). Used for layer kinds and optimizers. */
#ifndef NNL_LNN_OPTIONS_H
#define NNL_LNN_OPTIONS_H
#include <lua.h>
#include <lauxlib.h>
#include "model/options.h"

/* Reads the Lua value at idx into v for option o of function fn; raises a
 * Lua error that names fn and the option ("fn: option 'units' must be an
 * integer in 1..2147483647, got 0"; positional: "fn: units must be ...").
 * The value is checked against o (nnl_value_check). */
void nnl_lua_read_value(lua_State *L, int idx, const char *fn, const nnl_option *o,
                        int positional, nnl_value *v);
/* Reads the options table at idx (nil: nothing) into v by opts[0..n):
 * every key must be a non-hidden option (or an alias) or one of extra
 * (NULL-terminated, read by the caller); else "fn: unknown option 'k'
 * (valid: ...)". Keys are read raw (no metamethod runs). A key given here
 * that is also set in v (a positional argument) is an error. */
void nnl_lua_read_options(lua_State *L, int idx, const char *fn, const nnl_option *opts,
                          size_t n, nnl_value *v, const char *const *extra);
/* Pushes v as the Lua value of option o (a number, boolean, name, list or
 * {l1 =, l2 =}; nil for an unset name or shape). */
void nnl_lua_push_value(lua_State *L, const nnl_option *o, const nnl_value *v);
/* Pushes a list describing opts[0..n) for help and Lua code: {{key =,
 * type =, default = <Lua text>, value = <the default>, help =, positional
 * = bool, required = bool, choices =, alias =}, ...} (hidden options left
 * out). */
void nnl_lua_push_option_list(lua_State *L, const nnl_option *opts, size_t n, int npositional);

/* Option helpers for functions whose options are not a declared list
 * (fit, predict, ...). */
/* Raises "fn: unknown option 'k' (valid: ...)" for a key of the table at
 * idx that is not in valid (NULL-terminated); non-string keys too. */
void nnl_lua_check_options(lua_State *L, int idx, const char *fn,
                           const char *const *valid);
/* Option readers for the table at idx (which may be nil/none): the default
 * when the field is nil, an error naming fn and the option otherwise. */
lua_Integer nnl_lua_opt_int(lua_State *L, int idx, const char *key, const char *fn,
                            lua_Integer def, lua_Integer min);
double nnl_lua_opt_num(lua_State *L, int idx, const char *key, const char *fn, double def);
int nnl_lua_opt_bool(lua_State *L, int idx, const char *key, const char *fn, int def);
/* A string option, or def. The value is copied into buf (size bytes,
 * longer values cut): the string may have come from an __index of the
 * options table and nothing else anchors it. */
#define NNL_OPT_STR_MAX 128
const char *nnl_lua_opt_str(lua_State *L, int idx, const char *key, const char *fn,
                            const char *def, char *buf, size_t size);

#endif
