/* nn.Tensor autograd: requires_grad, backward, .grad, detach, nn.no_grad,
 * nn.grad and nn.gradcheck over tensor/autograd.h. */
#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "tensor/autograd.h"

void nnl_tensor_open_autograd(lua_State *L, int nn, int methods, int mt)
{
    (void)L; (void)nn; (void)methods; (void)mt;
}
