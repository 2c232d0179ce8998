/* Internal interface between the nn.Tensor binding files. */
#ifndef NNL_LNN_TENSOR_H
#define NNL_LNN_TENSOR_H
#include <stddef.h>
#include <lua.h>

/* Reads a shape given either as integer arguments from stack index first
 * on, or as one table at first; fills shape and returns the number of
 * dimensions. Raises a Lua error naming fn on anything else. */
int nnl_lua_shape_args(lua_State *L, int first, const char *fn, size_t *shape);

/* The parts of nn.Tensor in their own files, each adding its module
 * functions to the nn table at stack index nn, its methods to the table at
 * methods and its metamethods to the metatable at mt (absolute indices).
 * Called by nnl_open_tensor (lnn_tensor.c) before the metatable is sealed. */
void nnl_tensor_open_math(lua_State *L, int nn, int methods, int mt);     /* lnn_tensor_math.c */
void nnl_tensor_open_shape(lua_State *L, int nn, int methods, int mt);    /* lnn_tensor_shape.c */
void nnl_tensor_open_reduce(lua_State *L, int nn, int methods, int mt);   /* lnn_tensor_reduce.c */
void nnl_tensor_open_io(lua_State *L, int nn, int methods, int mt);       /* lnn_tensor_io.c */
void nnl_tensor_open_autograd(lua_State *L, int nn, int methods, int mt); /* lnn_autograd.c */

/* Fields of a tensor that are not methods (t.grad, t.grad_fn, t.is_leaf,
 * t.needs_grad; lnn_autograd.c): pushes the value of key and returns 1,
 * or returns 0 when key is no such field. */
int nnl_tensor_property(lua_State *L, nnl_tensor *t, const char *key);
/* t.key = value at vidx for those fields: returns 1 when key is one. */
int nnl_tensor_set_property(lua_State *L, nnl_tensor *t, const char *key, int vidx);

/* t[{...}] (lnn_tensor_shape.c), called by __index and __newindex for a
 * table key: pushes the slice of the tensor at tidx selected by the table
 * at key (a number when every dimension gets an index) and returns 1; or
 * writes the number or tensor at val into it and returns 0. */
int nnl_tensor_slice_get(lua_State *L, int tidx, int key);
int nnl_tensor_slice_set(lua_State *L, int tidx, int key, int val);

/* __tostring of nn.Tensor: numpy-like text, elided when large. */
int nnl_tensor_tostring(lua_State *L);

#endif
