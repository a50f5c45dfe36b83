"""`grad`: the gradients of outputs with respect to chosen inputs, as `torch.autograd.grad`.

`Tensor.backward()` adds d loss / d leaf into `.grad` of every leaf that requires a gradient, a model's weights
among them. `grad(outputs, inputs, grad_outputs)` computes only

    grad_i = sum_k (d outputs_k / d inputs_i)^T grad_outputs_k          (shaped like inputs_i)

and returns it: no `.grad` is written and no `requires_grad` changes, so a model's weights stay as they are
while the gradient of a class score with respect to an image is taken. Only the part of the graph between the
outputs and the inputs is walked, and each op is asked (through its `needs_input_grad`) only for the gradients
of operands that lead to an input: a convolution computes its input gradient, not its kernel gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.core.function import Function
from striate.core.tensor import Tensor, _add_input_grads, _kept_or_copied, _topological_order


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor], grad_outputs: Any = None,
         retain_graph: bool = False, allow_unused: bool = False) -> tuple[np.ndarray | None, ...]:
    """d outputs / d inputs, without touching any `.grad` (torch.autograd.grad).

    Args:
        outputs: a Tensor, or a sequence of Tensors, computed from the inputs.
        inputs: a Tensor, or a sequence of Tensors, with requires_grad=True: leaves (an image, a weight) or
            results inside the graph.
        grad_outputs: d L / d outputs_k for each output, an array or Tensor shaped like it (a sequence with one
            entry per output; an array or Tensor alone for a single output). None, or a None entry, stands for
            1 and needs an output that holds one value.
        retain_graph: False (as in PyTorch) releases the ops walked here: their saved arrays are freed, and a
            later `grad` or `backward` through them raises RuntimeError. True keeps them for another pass.
        allow_unused: False raises RuntimeError, before any work, for an input the outputs were not computed
            from; True returns None for it.
    Returns:
        A tuple with one NumPy array per input, shaped and typed like it (None for an unused input).

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> w = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    >>> grad((w * x * x).sum(), x)                      # d/dx sum(w x^2) = 2 w x
    (array([ 1., -4., 12.], dtype=float32),)
    >>> w.grad is None, w.requires_grad
    (True, True)
    """
    outputs = _tensors("outputs", outputs)
    inputs = _tensors("inputs", inputs)
    seeds = _seeds(outputs, grad_outputs)
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad: inputs[{index}] (shape {tensor.shape}) does not require grad; create it with "
                               "requires_grad=True; received requires_grad=False")
    order = _topological_order(outputs)
    in_graph = {id(node) for node in order}
    unused = [index for index, tensor in enumerate(inputs) if id(tensor) not in in_graph]
    if unused and not allow_unused:
        shapes = ", ".join(f"inputs[{index}] (shape {inputs[index].shape})" for index in unused)
        raise RuntimeError(f"grad: the outputs were not computed from {shapes}; pass allow_unused=True to get None "
                           "for it")

    wanted = {id(tensor) for tensor in inputs}
    leads = _leading_to(order, wanted)
    grads: dict[int, np.ndarray] = {}
    for output, seed in zip(outputs, seeds):
        grads[id(output)] = grads[id(output)] + seed if id(output) in grads else seed
    del seeds, seed  # from here on `grads` holds the only references of this pass
    found: dict[int, np.ndarray] = {}
    for node in reversed(order):
        node_grad = grads.pop(id(node), None)
        if node_grad is None or id(node) not in leads:
            continue
        op = node._creator
        if op is None:
            found[id(node)] = _kept_or_copied(node_grad)
            continue
        if id(node) in wanted:  # an intermediate result: its op may hand this very array on to its operands
            found[id(node)] = node_grad.copy()
        wanted_operands = tuple(needs and id(operand) in leads
                                for needs, operand in zip(op.needs_input_grad, op.inputs))
        if any(wanted_operands):
            _add_input_grads(op, _backward_for(op, wanted_operands, node_grad), grads)
            if not retain_graph:
                node._creator = Released(op)
    return tuple(found.get(id(tensor)) for tensor in inputs)


class Released(Function):
    """Stands in for an op whose saved arrays `grad(..., retain_graph=False)` freed: the same operands, so the
    graph keeps its shape, and a backward that raises."""

    def __init__(self, op: Function):
        self.inputs, self.needs_input_grad, self.name = op.inputs, op.needs_input_grad, type(op).__name__

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise RuntimeError(f"backward: the graph through {self.name} was released by striate.grad(..., "
                           "retain_graph=False); pass retain_graph=True to that call to differentiate twice")


def _tensors(name: str, value: Any) -> tuple[Tensor, ...]:
    """A Tensor or a non-empty sequence of Tensors, as a tuple."""
    tensors = (value,) if isinstance(value, Tensor) else tuple(value) if isinstance(value, Sequence) else None
    if not tensors or not all(isinstance(tensor, Tensor) for tensor in tensors):
        raise TypeError(f"grad: {name} must be a Tensor or a non-empty sequence of Tensors; received "
                        f"{type(value).__name__}")
    return tensors


def _seeds(outputs: tuple[Tensor, ...], grad_outputs: Any) -> list[np.ndarray]:
    """d L / d output for each output: the given array (checked) or 1 for an output of one value."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor | np.ndarray):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: grad_outputs needs one entry per output ({len(outputs)}); received "
                         f"{len(grad_outputs)}")
    seeds = []
    for index, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if not output.requires_grad:
            raise RuntimeError(f"grad: outputs[{index}] (shape {output.shape}) does not require grad: it was not "
                               "computed from a Tensor with requires_grad=True, or was computed inside no_grad()")
        if given is None:
            if output.size != 1:
                raise RuntimeError(f"grad: outputs[{index}] has shape {output.shape}; only an output of one value "
                                   "can go without grad_outputs (then 1); received grad_outputs None for it")
            seeds.append(np.ones_like(output.data))
            continue
        seed = np.asarray(given.data if isinstance(given, Tensor) else given, dtype=output.dtype)
        if seed.shape != output.shape:
            raise ValueError(f"grad: grad_outputs[{index}] must have the shape of outputs[{index}], {output.shape}; "
                             f"received shape {seed.shape}")
        seeds.append(seed)
    return seeds


def _leading_to(order: list[Tensor], wanted: set[int]) -> set[int]:
    """ids of the nodes of `order` (each after its operands) that are a wanted input or are computed from one."""
    leads: set[int] = set()
    for node in order:
        operands = node._creator.inputs if node._creator is not None else ()
        if id(node) in wanted or any(id(operand) in leads for operand in operands):
            leads.add(id(node))
    return leads


def _backward_for(op: Function, wanted_operands: tuple[bool, ...], grad: np.ndarray) -> list[Any]:
    """op.backward(grad), asking only for the wanted operands' gradients (the others come back None)."""
    needs = op.needs_input_grad
    op.needs_input_grad = wanted_operands
    try:
        input_grads = op.backward(grad)
    finally:
        op.needs_input_grad = needs
    return [operand_grad if keep else None for operand_grad, keep in zip(input_grads, wanted_operands)]
