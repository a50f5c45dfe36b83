"""Convolution algorithms: pure functions with one signature, each equal to the direct definition.

Each module provides
    conv_forward(x, kernel, strides, dilation, groups)
    conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups)
    conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups)
on an already padded channels-last input.

`ALGORITHMS` is the whole dispatch table: "direct" (the lectures' loop, the reference) and "im2col"
(one matrix product). "auto" means im2col for now; faster choices per layer are a later issue.
"""

from striate.algorithms import direct, im2col

ALGORITHMS = {"direct": direct, "im2col": im2col}
AUTO_CHOICE = "im2col"


def algorithm_module(name):
    """The module implementing algorithm `name` ("auto", "direct" or "im2col")."""
    resolved = AUTO_CHOICE if name == "auto" else name
    if resolved not in ALGORITHMS:
        raise ValueError(f"convolution: unknown algorithm {name!r}; expected 'auto' or one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[resolved]
