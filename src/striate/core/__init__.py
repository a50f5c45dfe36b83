"""The autodiff core: the Tensor, the primitive-op base class, `grad` (gradients with respect to chosen inputs)
and the runtime (threads, BLAS, grad mode, memory)."""

from striate.core import runtime
from striate.core.autograd import grad
from striate.core.function import Function
from striate.core.runtime import is_grad_enabled, no_grad
from striate.core.tensor import Tensor, as_tensor

__all__ = ["Function", "Tensor", "as_tensor", "grad", "is_grad_enabled", "no_grad", "runtime"]
