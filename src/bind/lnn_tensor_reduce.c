/* nn.Tensor: reductions, softmax and matrix products (tensor/tensor_reduce.h). */
#include "bind/lnn.h"
#include "bind/lnn_tensor.h"

void nnl_tensor_open_reduce(lua_State *L, int nn, int methods, int mt)
{
    (void)L; (void)nn; (void)methods; (void)mt;
}
