"""`Tensor`: a NumPy array with reverse-mode automatic differentiation.

Every operation on Tensors runs a primitive op (`striate.core.function.Function`) which records, when a
gradient is wanted, which op made the result and from which inputs. `backward()` then visits that graph
in reverse topological order and hands each op the gradient of its output; the op returns the gradients
of its inputs. A Tensor used twice receives the sum of both gradients.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from striate.core.runtime import split_batch

if TYPE_CHECKING:
    from striate.core.function import Function

DEFAULT_DTYPE = np.float32
KEPT_FLOATS = (np.float32, np.float64)  # the float dtypes striate computes in (its compiled loops take only these)


def _as_float_array(data: Any, dtype: Any = None) -> np.ndarray:
    """float32 by default; a float32 or float64 NumPy array keeps its precision; float16 becomes float32 (as
    Keras' default float32 policy casts a layer's float16 inputs) and a longer float float64; anything non-numeric
    is refused."""
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: data must be numeric (bool, int or float); received an array of dtype {array.dtype}"
        )
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if isinstance(data, np.ndarray | np.floating) and array.dtype.kind == "f":
        if array.dtype in KEPT_FLOATS:
            return array
        return array.astype(np.float64 if array.dtype.itemsize > 8 else DEFAULT_DTYPE)
    return array.astype(DEFAULT_DTYPE)


class Tensor:
    """A multi-dimensional array that can record how it was computed.

    Args:
        data: array-like. NumPy float32 and float64 arrays keep their dtype; float16 ones, Python numbers,
            lists and integer arrays become float32.
        requires_grad: if True, `backward()` of a result computes `self.grad` (dLoss/dself).
        dtype: force a dtype, e.g. `np.float64` for gradient checks.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad                              # d(sum x^2)/dx = 2x
    array([[2., 4.],
           [6., 8.]], dtype=float32)
    >>> x == 2.0                            # comparisons are elementwise, as in PyTorch
    array([[False,  True],
           [False, False]])
    """

    __array_priority__ = 1000  # array (op) Tensor calls Tensor's reflected operator, not NumPy's

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, *, _keep_dtype: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        self.data: np.ndarray = np.asarray(data) if _keep_dtype else _as_float_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._creator: Function | None = None

    @staticmethod
    def _from_op(data: Any, creator: Function | None) -> Tensor:
        """An op's output: `data` as it is (a NumPy scalar becomes a 0-d array), made by `creator`, which
        `backward` will call (requires_grad), or by nothing recorded (None: a constant, as under `no_grad()`).
        `Function.apply` builds every result so, without `__init__`'s checks on data it already knows."""
        if type(data) is not np.ndarray:
            data = data.data if isinstance(data, Tensor) else np.asarray(data)
        result = Tensor.__new__(Tensor)
        result.data = data
        result.requires_grad = creator is not None
        result.grad = None
        result._creator = creator
        return result

    # ---- NumPy interoperability -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's protocol: `np.asarray(t)` shares the data; `np.array(t, copy=True)` is always a new array, so
        writing into it never changes `t` (copy=False refuses a dtype change, which would need a copy)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        if dtype is None or np.dtype(dtype) == self.dtype:
            return self.data
        if copy is False:
            raise ValueError(f"Tensor.__array__: copy=False, but converting {self.dtype} to {np.dtype(dtype)} "
                             "needs a copy")
        return self.data.astype(dtype)

    def item(self) -> float:
        return self.data.item()

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad_note = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, separator=', ')}, dtype={self.dtype}{grad_note})"

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data, _keep_dtype=True)

    # ---- backpropagation --------------------------------------------------------------------------
    @property
    def grad_fn(self) -> Function | None:
        """The op that made this Tensor (PyTorch's name): a `Function` whose `inputs` are its operands; None for a
        leaf and for a result computed without a graph (no input required grad, or inside `no_grad()`)."""
        return self._creator

    def backward(self, grad: Any = None) -> None:
        """Compute dself/dleaf for every leaf that requires a gradient, adding it into `leaf.grad`.

        Args:
            grad: dLoss/dself, shaped like self. May be omitted only when self holds one value
                (a scalar loss); it is then 1.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this Tensor does not require a gradient (no input had requires_grad)")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: a Tensor of shape {self.shape} needs an upstream gradient; "
                    "only a single value (a scalar loss) can start backward without one"
                )
            grad = np.ones_like(self.data)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"backward: upstream gradient has shape {grad.shape}, the Tensor {self.shape}")

        grads: dict[int, np.ndarray] = {id(self): grad}
        del grad  # from here on `grads` holds the only reference of this pass
        for node in reversed(_topological_order([self])):
            node_grad = grads.pop(id(node))
            if node._creator is None:
                node.grad = _kept_or_copied(node_grad) if node.grad is None else node.grad + node_grad
            else:
                _add_input_grads(node._creator, node._creator.backward(node_grad), grads)

    # ---- operators and methods (each calls one op of striate.ops) ---------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.pow(base, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # comparisons give plain boolean arrays, elementwise (they have no gradient). Equality too, as PyTorch's
    # `==` (which gives a bool Tensor): `t == 0` compares the values. A Tensor is still hashed by identity, as in
    # PyTorch, so it can key a dict or join a set; `t in list_of_tensors` would compare values: use `is`.
    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data == np.asarray(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data != np.asarray(other)

    __hash__ = object.__hash__

    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < np.asarray(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= np.asarray(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > np.asarray(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= np.asarray(other)

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return ops.max(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's name)
        return ops.transpose(self, None)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def relu(self) -> Tensor:
        return ops.relu(self)


def as_tensor(value: Any, dtype: Any = None) -> Tensor:
    """`value` itself if it is a Tensor, else a new constant Tensor (see Tensor for the dtype rule)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=dtype)


def operands_as_tensors(values: Sequence[Any]) -> tuple[Tensor, ...]:
    """Wrap an op's operands. A Python number or an integer array takes the dtype of the Tensor operands,
    so `x64 * 0.1` stays float64 and `x32 * 0.1` stays float32; a float array keeps its own dtype (float16
    becoming float32, as in Tensor)."""
    if all(type(value) is Tensor for value in values):  # the common case, with nothing to wrap
        return tuple(values)
    tensor_dtypes = [v.dtype for v in values if isinstance(v, Tensor)]
    common = np.result_type(*tensor_dtypes) if tensor_dtypes else DEFAULT_DTYPE
    wrapped = []
    for value in values:
        if isinstance(value, Tensor):
            wrapped.append(value)
        elif isinstance(value, np.ndarray | np.floating) and np.asarray(value).dtype.kind == "f":
            wrapped.append(Tensor(value))
        else:
            wrapped.append(Tensor(value, dtype=common))
    return tuple(wrapped)


def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """The nodes that require grad and lead to `roots`, each after all of its inputs (iterative, so deep graphs
    are fine). Used by `Tensor.backward` (one root) and `striate.grad` (several outputs)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._creator is not None:
            for parent in node._creator.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _add_input_grads(op: Any, input_grads: Sequence[Any], grads: dict[int, np.ndarray]) -> None:
    """Add the gradients `op.backward` returned into `grads`, keyed by input, checking each one's shape."""
    for parent, parent_grad in zip(op.inputs, input_grads, strict=True):
        if parent_grad is None or not parent.requires_grad:
            continue
        parent_grad = np.asarray(parent_grad, dtype=parent.dtype)
        if parent_grad.shape != parent.shape:
            raise AssertionError(
                f"{type(op).__name__}.backward returned a gradient of shape {parent_grad.shape} "
                f"for an input of shape {parent.shape}"
            )
        key = id(parent)
        grads[key] = _sum(grads[key], parent_grad) if key in grads else parent_grad


SUM_PART = 2**18  # values per part of a large gradient sum (1 MiB of float32): a problem size, not a thread count


def _sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b, a new array: the two gradients of a tensor read twice (a residual connection's input). Two large
    arrays of one shape and dtype are added in parts of SUM_PART values on striate's threads (elementwise, so the
    same bits on any thread count); anything else by NumPy at once."""
    if a.shape != b.shape or a.dtype != b.dtype or a.size < 2 * SUM_PART or not (
            a.flags.c_contiguous and b.flags.c_contiguous):
        return a + b
    out = np.empty_like(a)
    flat_a, flat_b, flat_out = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    parts = [slice(start, start + SUM_PART) for start in range(0, a.size, SUM_PART)]
    split_batch(lambda part: np.add(flat_a[part], flat_b[part], out=flat_out[part]), parts, work=a.size)
    return out


def _kept_or_copied(grad: np.ndarray) -> np.ndarray:
    """A leaf's first gradient: the array itself when nothing else can reach it, else a copy.

    Nothing else can when the only references are this call's and the backward loop's (as PyTorch, which keeps a
    gradient whose reference count is 1) and the array owns its memory, or is a view of the whole of an array that
    nothing but the view refers to (`_sole_view_of_whole`: an op's fresh gradient reshaped on its way back, as
    through a layer that reshapes its input): an input gradient the size of the activation then costs no copy. An
    array the caller passed in as the upstream gradient, or one an op keeps, has more references and is copied, so
    writing into `leaf.grad` never changes anything else.
    """
    references_here = 3  # the backward loop's variable, this parameter, getrefcount's argument
    if (grad.flags.writeable and sys.getrefcount(grad) <= references_here
            and (grad.flags.owndata or _sole_view_of_whole(grad))):
        return grad
    return grad.copy()


def _sole_view_of_whole(view: np.ndarray) -> bool:
    """Whether `view` is a C-contiguous view of all of an array that owns its memory and that nothing but `view`
    refers to (NumPy's `base` of a view of a view is the array that owns the memory)."""
    base = view.base
    references_here = 3  # the view's `base`, this function's variable, getrefcount's argument
    return (isinstance(base, np.ndarray) and base.flags.owndata and base.size == view.size
            and view.flags.c_contiguous and sys.getrefcount(base) <= references_here)


from striate import ops  # noqa: E402  (ops build on Tensor; Tensor's operators call them)
