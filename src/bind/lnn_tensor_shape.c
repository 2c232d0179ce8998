/* nn.Tensor: shapes, transposes, slicing and joins (tensor/tensor_shape.h). */
#include "bind/lnn.h"
#include "bind/lnn_tensor.h"

void nnl_tensor_open_shape(lua_State *L, int nn, int methods, int mt)
{
    (void)L; (void)nn; (void)methods; (void)mt;
}
