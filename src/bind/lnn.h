/* Shared helpers of the Lua bindings (src/bind): type names, checking and
 * pushing tensors, raising C errors as Lua errors.
 *
 * The bindings only check arguments, convert, and raise; all work is in the
 * C library. A userdata is created before the C object it will own (as
 * liolib does), so an allocation error leaves a consistent, collectable
 * handle, and __gc is safe to run twice. */
#ifndef NNL_LNN_H
#define NNL_LNN_H

#include <lua.h>
#include <lauxlib.h>
#include "core/status.h"
#include "tensor/tensor.h"

#define NNL_TENSOR_MT "nn.Tensor"

/* The userdata payload of an nn.Tensor. t: NULL until filled and after
 * close. held: a tensor closed while C code may still be using it (see
 * nnl_lua_in_use); the handle reports "tensor is closed", and the memory
 * goes when the handle is collected. */
typedef struct nnl_ltensor {
    nnl_tensor *t;
    nnl_tensor *held;
} nnl_ltensor;

/* luaopen_nn: builds the nn table (and runs the embedded lua/ chunks);
 * returns it. Also used by nnlua to preload nn. */
int luaopen_nn(lua_State *L);

/* Raises err's message as a Lua error. Never returns. */
int nnl_lua_raise(lua_State *L, const nnl_error *err);
/* Raises "fn: <err's message>": the one place where the name of the Lua
 * function that failed is put before a message of the C core, which never
 * names Lua functions itself. Never returns. */
int nnl_lua_raise_in(lua_State *L, const char *fn, const nnl_error *err);

/* Pushes an empty nn.Tensor userdata and returns its slot; store the tensor
 * in slot->t once made. If making it fails, raise: the empty handle is
 * collected safely. */
nnl_ltensor *nnl_lua_newtensor(lua_State *L);
/* Pushes t as a new nn.Tensor that takes ownership of t. If t is NULL,
 * raises err instead. */
void nnl_lua_pushtensor(lua_State *L, nnl_tensor *t, const nnl_error *err);
/* The tensor at idx, or a Lua argument error ("nn.Tensor expected, got
 * table"); also an error for a closed tensor. */
nnl_tensor *nnl_lua_checktensor(lua_State *L, int idx);
/* t:close() and __close of nn.Tensor: closes the handle once (later calls
 * do nothing); it then reports "tensor is closed". The memory is released
 * at once unless nnl_lua_in_use says C code may still read it; then when
 * the handle is collected. */
int nnl_lua_tensor_close(lua_State *L);

/* Whether C code that is running may hold a pointer into the object at
 * idx, so that closing it must wait for the collector: C code holds
 * pointers across calls into Lua (a fit callback, a map function, a
 * metamethod of an options table, a finalizer run by an allocation), and
 * the object is then an argument or a temporary of that C function's
 * frame, or a value of a table there. True when a C function on the
 * running thread's call stack (below the caller) has the object in its
 * frame or in a table of its frame, and always in a coroutine (a
 * coroutine may have been resumed from such a function on another
 * thread, whose stack cannot be seen). */
int nnl_lua_in_use(lua_State *L, int idx);

/* Whether a __gc metamethod at hand is run by the collector: the object
 * is then unreachable and no C function can hold it. False for a call by
 * hand (debug.getmetatable(x).__gc(x)), which must be treated as a
 * close. */
int nnl_lua_collecting(lua_State *L);
/* Makes the collector do the work it would if Lua had allocated what the
 * C library allocated since the last call (core/alloc.h). Called when a
 * handle is made, with the handle anchored. */
void nnl_lua_pace_collector(lua_State *L);

/* C calling into Lua: lua_pcall of the function and nargs values at the
 * top of the stack, results dropped. On a Lua error err gets prefix and
 * the message ("an error object" when it is not a string). Either way the
 * stack is back as it was below the function. */
nnl_status nnl_lua_pcall_err(lua_State *L, int nargs, const char *prefix, nnl_error *err);

/* The tensor at idx or NULL when idx is not an open nn.Tensor. */
nnl_tensor *nnl_lua_totensor(lua_State *L, int idx);

/* The string at idx as a file path for fn: a Lua error ("fn: path must be
 * a string, got nil" / "fn: path contains a NUL byte") unless it is a
 * non-empty string without an embedded NUL (C would silently cut it
 * there and write somewhere else). `what` names the argument ("path"). */
const char *nnl_lua_checkpath(lua_State *L, int idx, const char *fn, const char *what);

/* The integer at idx for fn, in min..max: a Lua error naming `what` and
 * reporting the value as it was given ("fn: units must be an integer in
 * 1..2147483647, got 4294967296" / "got 2.5" / "got nil"); never a value
 * cut to int. */
lua_Integer nnl_lua_checkint(lua_State *L, int idx, const char *fn, const char *what,
                             lua_Integer min, lua_Integer max);

/* Sets __metatable of the metatable at idx to a table holding only its
 * __name, so getmetatable(x) shows the type (getmetatable(x).__name ==
 * "nn.Tensor") but not the metamethods: a script cannot call __gc by
 * hand. Call last, after every field is set. */
void nnl_lua_protect_metatable(lua_State *L, int idx);

/* Openers of the parts of nn, each adding its fields to the table at the
 * top of the stack. Called by luaopen_nn in this order. */
void nnl_open_tensor(lua_State *L);   /* lnn_tensor.c */
void nnl_open_runtime(lua_State *L);  /* lnn.c: seed, threads, cpu, version */
void nnl_open_data(lua_State *L);     /* lnn_data.c: nn.data */
void nnl_open_model(lua_State *L);    /* lnn_model.c: layers, nn.Sequential */
void nnl_open_modelfile(lua_State *L); /* lnn_modelfile.c: save, nn.load */
void nnl_open_plot(lua_State *L);     /* lnn_plot.c: nn.plot primitives */
void nnl_open_explain(lua_State *L);  /* lnn_explain.c: what nn.explain reads */
void nnl_open_registry(lua_State *L); /* lnn_registry.c: nn.registry */
void nnl_open_dist(lua_State *L);     /* lnn_dist.c: nn.dist */

#endif
