"""Generated cases for the primitive ops, shared by the PyTorch and the finite-difference tests.

Each case names one behaviour (op, shapes, options), a striate function, the equivalent torch function and
a seeded generator of float64 inputs. Inputs keep away from kinks (0 for abs/relu, the clip bounds) and
from ties (max, maximum, minimum), where a gradient is a convention rather than a derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as TF

import striate.functional as F
from oracle import channels_first, channels_last, torch_pad_argument
from striate import ops


@dataclass(frozen=True)
class OpCase:
    name: str
    striate_fn: Callable
    torch_fn: Callable
    make_inputs: Callable[[np.random.Generator], list[np.ndarray]]
    constant: tuple[int, ...] = field(default=())

    def inputs(self, seed: int = 0) -> list[np.ndarray]:
        return [np.asarray(a) for a in self.make_inputs(np.random.default_rng(seed))]


# ---- input generators -------------------------------------------------------------------------------------
def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def away_from_zero(*shapes, low=0.3, high=2.0):
    """Values with |v| in [low, high], random sign: no input sits on a kink at 0 or divides by ~0."""
    return lambda rng: [rng.uniform(low, high, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


def scaled_normal(shape, scale):
    return lambda rng: [scale * rng.standard_normal(shape)]


def positive(*shapes, low=0.5, high=2.0):
    return lambda rng: [rng.uniform(low, high, s) for s in shapes]


def distinct(*shapes):
    """Values on a shuffled grid 0.1 apart: no ties anywhere within or across the inputs."""

    def make(rng):
        total = sum(int(np.prod(s)) for s in shapes)
        grid = rng.permutation(total) * 0.1 - total * 0.05
        out, start = [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(grid[start:start + n].reshape(s))
            start += n
        return out

    return make


def _positive_base(base_shape, exponent_shape):
    return lambda rng: [rng.uniform(0.5, 2.0, base_shape), rng.standard_normal(exponent_shape)]


def broadcast_pairs(rng: np.random.Generator, count: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Random shape pairs that broadcast: the second drops leading axes and sets some sizes to 1."""
    pairs = [((3, 1, 4), (4,)), ((2, 3), ()), ((3, 1), (1, 4)), ((4,), (2, 3, 4))]
    while len(pairs) < count:
        full = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 5)))
        dropped = int(rng.integers(0, len(full)))
        other = tuple(1 if rng.random() < 0.4 else n for n in full[dropped:])
        pairs.append((full, other) if rng.random() < 0.5 else (other, full))
    return pairs


# ---- the cases --------------------------------------------------------------------------------------------
def _torch_reduce(name):
    def reduce(x, axis, keepdims):
        dims = tuple(range(x.dim())) if axis is None else axis
        if name == "sum":
            return x.sum(dim=dims, keepdim=keepdims)
        if name == "mean":
            return x.mean(dim=dims, keepdim=keepdims)
        return torch.amax(x, dim=dims, keepdim=keepdims)

    return reduce


def _binary_cases(rng: np.random.Generator) -> list[OpCase]:
    cases = []
    for a_shape, b_shape in broadcast_pairs(rng, 8):
        tag = f"{a_shape}x{b_shape}"
        cases += [
            OpCase(f"add {tag}", lambda a, b: a + b, lambda a, b: a + b, normal(a_shape, b_shape)),
            OpCase(f"F.add {tag}", F.add, torch.add, normal(a_shape, b_shape)),
            OpCase(f"sub {tag}", lambda a, b: a - b, lambda a, b: a - b, normal(a_shape, b_shape)),
            OpCase(f"F.sub {tag}", F.sub, torch.sub, normal(a_shape, b_shape)),
            OpCase(f"mul {tag}", lambda a, b: a * b, lambda a, b: a * b, normal(a_shape, b_shape)),
            OpCase(f"F.mul {tag}", F.mul, torch.mul, normal(a_shape, b_shape)),
            OpCase(f"div {tag}", lambda a, b: a / b, lambda a, b: a / b, away_from_zero(a_shape, b_shape)),
            OpCase(f"F.div {tag}", F.div, torch.div, away_from_zero(a_shape, b_shape)),
            OpCase(f"pow tensor**tensor {tag}", lambda a, b: a ** b, lambda a, b: a ** b,
                   _positive_base(a_shape, b_shape)),
            OpCase(f"F.pow {tag}", F.pow, torch.pow, _positive_base(a_shape, b_shape)),
            OpCase(f"F.maximum {tag}", F.maximum, torch.maximum, distinct(a_shape, b_shape)),
            OpCase(f"F.minimum {tag}", F.minimum, torch.minimum, distinct(a_shape, b_shape)),
        ]
    return cases


def _scalar_and_array_operand_cases() -> list[OpCase]:
    """A Tensor combined with a Python scalar or a constant NumPy array, on either side."""
    arr = np.linspace(-1.5, 2.0, 12).reshape(3, 4) + 0.05  # no zero: also used as a divisor
    row = np.array([0.5, -1.25, 2.0, 0.75])

    def same_dtype(array, like):
        """The constant in the input's dtype (float32 op float64-array would promote, as in NumPy)."""
        if isinstance(like, torch.Tensor):
            return torch.tensor(array, dtype=like.dtype)
        return array.astype(like.dtype)

    s = (3, 4)
    return [
        OpCase("scalar * tensor", lambda x: 2.5 * x, lambda x: 2.5 * x, normal(s)),
        OpCase("tensor * scalar", lambda x: x * -1.5, lambda x: x * -1.5, normal(s)),
        OpCase("scalar + tensor", lambda x: 2.0 + x, lambda x: 2.0 + x, normal(s)),
        OpCase("scalar - tensor (reflected)", lambda x: 2 - x, lambda x: 2 - x, normal(s)),
        OpCase("tensor - scalar", lambda x: x - 0.5, lambda x: x - 0.5, normal(s)),
        OpCase("scalar / tensor (reflected)", lambda x: 3.0 / x, lambda x: 3.0 / x, away_from_zero(s)),
        OpCase("tensor / scalar", lambda x: x / 4.0, lambda x: x / 4.0, normal(s)),
        OpCase("tensor ** 2", lambda x: x ** 2, lambda x: x ** 2, normal(s)),
        OpCase("tensor ** 3 (negative base)", lambda x: x ** 3, lambda x: x ** 3, away_from_zero(s)),
        OpCase("tensor ** 0.5", lambda x: x ** 0.5, lambda x: x ** 0.5, positive(s)),
        OpCase("tensor ** -1.5", lambda x: x ** -1.5, lambda x: x ** -1.5, positive(s)),
        OpCase("scalar ** tensor (reflected)", lambda x: 2.0 ** x, lambda x: 2.0 ** x, normal(s)),
        OpCase("array + tensor", lambda x: same_dtype(arr, x) + x, lambda x: same_dtype(arr, x) + x,
               normal(s)),
        OpCase("tensor + array", lambda x: x + same_dtype(arr, x), lambda x: x + same_dtype(arr, x),
               normal(s)),
        OpCase("array - tensor", lambda x: same_dtype(arr, x) - x, lambda x: same_dtype(arr, x) - x,
               normal(s)),
        OpCase("array * tensor (broadcast row)", lambda x: same_dtype(row, x) * x,
               lambda x: same_dtype(row, x) * x,
               normal(s)),
        OpCase("array / tensor", lambda x: same_dtype(arr, x) / x, lambda x: same_dtype(arr, x) / x,
               away_from_zero(s)),
        OpCase("tensor / array", lambda x: x / same_dtype(arr, x), lambda x: x / same_dtype(arr, x),
               normal(s)),
        OpCase("array @ tensor", lambda x: same_dtype(arr, x).T @ x,
               lambda x: same_dtype(arr, x).T @ x, normal((3, 2))),
        OpCase("F.mul(tensor, array)", lambda x: F.mul(x, same_dtype(arr, x)),
               lambda x: x * same_dtype(arr, x), normal(s)),
        OpCase("F.maximum(tensor, 0.0)", lambda x: F.maximum(x, 0.0), lambda x: torch.clamp(x, min=0.0),
               away_from_zero(s)),
        OpCase("F.minimum(1.0, tensor)", lambda x: F.minimum(1.0, x), lambda x: torch.clamp(x, max=1.0),
               _away_from(s, 1.0)),
        OpCase("unary minus", lambda x: -x, lambda x: -x, normal(s)),
        OpCase("F.neg", F.neg, torch.neg, normal(s)),
    ]


def _reuse_cases() -> list[OpCase]:
    return [
        OpCase("x used twice: x * x + x", lambda x: x * x + x, lambda x: x * x + x, normal((2, 3))),
        OpCase("x, y each used twice: x * y + x / y", lambda x, y: x * y + x / y, lambda x, y: x * y + x / y,
               away_from_zero((2, 3), (3,))),
        OpCase("diamond: (x + 1) * (x - 1) * exp(x)", lambda x: (x + 1) * (x - 1) * F.exp(x),
               lambda x: (x + 1) * (x - 1) * torch.exp(x), normal((4,))),
        OpCase("chain of 12 ops reusing x", _long_chain(F.sigmoid, F.tanh, F.exp),
               _long_chain(torch.sigmoid, torch.tanh, torch.exp), normal((3, 2))),
    ]


def _long_chain(sigmoid, tanh, exp):
    def chain(x):
        y = x
        for _ in range(4):
            y = tanh(y * x) + sigmoid(y) * exp(-x * x)
        return y

    return chain


def _matmul_cases() -> list[OpCase]:
    shapes = [
        ((3, 4), (4, 5)),
        ((2, 3, 4), (4, 5)),
        ((2, 1, 3, 4), (3, 4, 2)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4,)),
    ]
    cases = []
    for a, b in shapes:
        cases.append(OpCase(f"matmul {a}@{b}", lambda x, y: x @ y, lambda x, y: x @ y, normal(a, b)))
        cases.append(OpCase(f"F.matmul {a}@{b}", F.matmul, torch.matmul, normal(a, b)))
    return cases


def _dense_inputs(x_shape, units, with_bias):
    """x, kernel (and bias) for the dense op, the bias of each unit chosen (from a grid) so that x @ kernel + bias
    keeps |value| >= 0.3 over every row: no pre-activation on relu's kink."""
    def make(rng):
        x, kernel = rng.standard_normal(x_shape), rng.standard_normal((x_shape[-1], units))
        if not with_bias:
            return [x, kernel]
        product = (x @ kernel).reshape(-1, units)
        grid = np.linspace(-2, 2, 81)
        margins = np.abs(product[:, :, None] + grid).min(axis=0)  # (units, grid)
        bias = grid[margins.argmax(axis=1)]
        assert margins.max(axis=1).min() >= 0.3, "no bias keeps these rows away from 0; change the seed"
        return [x, kernel, bias]

    return make


def _dense_cases() -> list[OpCase]:
    """The fused dense op (product, bias, activation in one) on 1-D to 3-D inputs, each activation it takes."""
    torch_activations = {None: lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
    cases = []
    for x_shape, with_bias, activation in [((3, 4), True, None), ((3, 4), True, "relu"), ((2, 3, 4), True, "relu"),
                                           ((4,), True, "tanh"), ((1, 6), True, "sigmoid"), ((3, 4), False, "relu"),
                                           ((2, 3, 4), False, None)]:
        torch_activation = torch_activations[activation]
        cases.append(OpCase(
            f"dense {x_shape}x5 {'bias' if with_bias else 'no bias'} {activation}",
            lambda *inputs, activation=activation: ops.dense(*inputs, activation=activation),
            lambda x, kernel, *bias, act=torch_activation: act(x @ kernel + bias[0] if bias else x @ kernel),
            _dense_inputs(x_shape, 5, with_bias)))
    return cases


def _sums_away_from_zero(shape, other_shape=None):
    """Two inputs whose sum keeps |a + b| >= 0.3 (no sum on relu's kink at 0), b of `other_shape` (broadcast)."""
    def make(rng):
        b = rng.standard_normal(other_shape or shape)
        target = rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        return [target - b, b]
    return make


def _unary_cases() -> list[OpCase]:
    cases = []
    for shape in [(7,), (2, 3, 4)]:
        tag = str(shape)
        cases += [
            OpCase(f"exp {tag}", F.exp, torch.exp, normal(shape)),
            OpCase(f"log {tag}", F.log, torch.log, positive(shape, low=0.2, high=5.0)),
            OpCase(f"sqrt {tag}", F.sqrt, torch.sqrt, positive(shape, low=0.2, high=5.0)),
            OpCase(f"abs {tag}", F.abs, torch.abs, away_from_zero(shape)),
            OpCase(f"relu {tag}", F.relu, torch.relu, away_from_zero(shape)),
            OpCase(f"add_relu of two {tag}", ops.add_relu, lambda a, b: torch.relu(a + b), _sums_away_from_zero(shape)),
            OpCase(f"leaky_relu default slope 0.2 {tag}", F.leaky_relu, lambda x: TF.leaky_relu(x, 0.2),
                   away_from_zero(shape)),
            OpCase(f"leaky_relu slope 0.05 {tag}", lambda x: F.leaky_relu(x, negative_slope=0.05),
                   lambda x: TF.leaky_relu(x, 0.05), away_from_zero(shape)),
            OpCase(f"elu default alpha {tag}", F.elu, TF.elu, away_from_zero(shape)),
            OpCase(f"elu alpha 0.7 {tag}", lambda x: F.elu(x, alpha=0.7), lambda x: TF.elu(x, alpha=0.7),
                   away_from_zero(shape)),
            OpCase(f"sigmoid {tag}", F.sigmoid, torch.sigmoid, scaled_normal(shape, 3.0)),
            OpCase(f"tanh {tag}", F.tanh, torch.tanh, scaled_normal(shape, 2.0)),
            OpCase(f"swish {tag}", ops.swish, TF.silu, scaled_normal(shape, 3.0)),
            OpCase(f"gelu {tag}", ops.gelu, TF.gelu, scaled_normal(shape, 3.0)),
            OpCase(f"clip {tag}", lambda x: F.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7),
                   _away_from(shape, -0.5, 0.7)),
        ]
    cases += [
        OpCase("add_relu of a batch (2, 3, 4, 5), chunked", ops.add_relu, lambda a, b: torch.relu(a + b),
               _sums_away_from_zero((2, 3, 4, 5))),
        OpCase("add_relu broadcasting (2, 3, 4) + (4,)", ops.add_relu, lambda a, b: torch.relu(a + b),
               _sums_away_from_zero((2, 3, 4), (4,))),
        OpCase("sigmoid saturates without overflow", F.sigmoid, torch.sigmoid,
               lambda r: [np.array([-800.0, -40.0, -1.0, 0.5, 40.0, 800.0])]),
        OpCase("swish saturates without overflow", ops.swish, TF.silu,
               lambda r: [np.array([-800.0, -40.0, -1.0, 0.5, 40.0, 800.0])]),
        OpCase("gelu in its tails", ops.gelu, TF.gelu, lambda r: [np.array([-40.0, -7.0, -4.5, -0.3, 4.5, 7.0, 40.0])]),
        OpCase("exp of moderate values", F.exp, torch.exp, lambda r: [r.uniform(-20, 20, (5,))]),
    ]
    for shape, axis in [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)]:
        cases += [
            OpCase(f"softmax {shape} axis={axis}", lambda x, a=axis: F.softmax(x, axis=a),
                   lambda x, a=axis: torch.softmax(x, dim=a), scaled_normal(shape, 2.0)),
            OpCase(f"log_softmax {shape} axis={axis}", lambda x, a=axis: F.log_softmax(x, axis=a),
                   lambda x, a=axis: torch.log_softmax(x, dim=a), scaled_normal(shape, 2.0)),
        ]
    cases += [
        OpCase("softmax default axis is last", F.softmax, lambda x: torch.softmax(x, dim=-1),
               normal((2, 3, 4))),
        OpCase("log_softmax default axis is last", F.log_softmax, lambda x: torch.log_softmax(x, dim=-1),
               normal((2, 3, 4))),
        OpCase("softmax of logits near 1000 is stable", F.softmax, lambda x: torch.softmax(x, dim=-1),
               lambda r: [1000.0 + r.standard_normal((2, 4))]),
        OpCase("log_softmax of spread logits is stable", F.log_softmax,
               lambda x: torch.log_softmax(x, dim=-1),
               lambda r: [np.array([[500.0, 0.0, -500.0], [1.0, 2.0, 3.0]])]),
    ]
    return cases


def _away_from(shape, *points, margin=0.05):
    def make(rng):
        x = rng.uniform(-1.5, 1.5, shape)
        for p in points:
            near = np.abs(x - p) < margin
            x = np.where(near, p + np.sign(x - p + 1e-12) * margin * 2, x)
        return [x]

    return make


def _reduction_cases() -> list[OpCase]:
    cases = []
    for name, method in [("sum", F.sum), ("mean", F.mean), ("max", F.max)]:
        reference = _torch_reduce(name)
        make = distinct((2, 3, 4)) if name == "max" else normal((2, 3, 4))
        for axis in [None, 0, -1, 1, (0, 2), (1, -1)]:
            for keepdims in [False, True]:
                cases.append(OpCase(
                    f"F.{name} axis={axis} keepdims={keepdims}",
                    lambda x, f=method, a=axis, k=keepdims: f(x, axis=a, keepdims=k),
                    lambda x, a=axis, k=keepdims, ref=reference: ref(x, a, k),
                    make,
                ))
        cases.append(OpCase(  # the last two axes, 8 cells: reduced cell by cell (`reduction.FEW_LAST_CELLS`)
            f"F.{name} over the last two axes of (5, 2, 4)",
            lambda x, f=method: f(x, axis=(1, 2)),
            lambda x, ref=reference: ref(x, (1, 2), False),
            distinct((5, 2, 4)) if name == "max" else normal((5, 2, 4)),
        ))
        cases.append(OpCase(
            f"Tensor.{name} method axis=1",
            lambda x, n=name: getattr(x, n)(axis=1),
            lambda x, ref=reference: ref(x, 1, False),
            make,
        ))
        cases.append(OpCase(
            f"Tensor.{name}() over everything",
            lambda x, n=name: getattr(x, n)(),
            lambda x, ref=reference: ref(x, None, False),
            make,
        ))
    cases += [
        OpCase("max splits the gradient among tied maxima (axis=1)", lambda x: F.max(x, axis=1),
               lambda x: torch.amax(x, dim=1),
               lambda r: [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.5, -1.0, 0.25]])]),
        OpCase("max splits the gradient among tied maxima (all axes)", F.max, torch.amax,
               lambda r: [np.array([[1.0, 3.0], [3.0, -2.0]])]),
    ]
    return cases


def _shape_cases() -> list[OpCase]:
    s = (2, 3, 4)
    idx = np.array([0, 2, 0, 1])
    mask = np.array([True, False, True])
    tokens = np.array([[5, 0, 5], [2, 5, 0]])  # (2, 3) indices into 6 rows, 5 and 0 picked more than once
    return [
        OpCase("reshape method (3, 8)", lambda x: x.reshape(3, 8), lambda x: x.reshape(3, 8), normal(s)),
        OpCase("reshape method tuple with -1", lambda x: x.reshape((4, -1)), lambda x: x.reshape(4, -1),
               normal(s)),
        OpCase("F.reshape to (6, 2, 2)", lambda x: F.reshape(x, (6, 2, 2)), lambda x: x.reshape(6, 2, 2),
               normal(s)),
        OpCase("F.reshape to flat", lambda x: F.reshape(x, (-1,)), lambda x: x.reshape(-1), normal(s)),
        OpCase("transpose method (2, 0, 1)", lambda x: x.transpose(2, 0, 1), lambda x: x.permute(2, 0, 1),
               normal(s)),
        OpCase("F.transpose reverses axes by default", F.transpose, lambda x: x.permute(2, 1, 0), normal(s)),
        OpCase("F.transpose axes (1, 0, 2)", lambda x: F.transpose(x, (1, 0, 2)),
               lambda x: x.permute(1, 0, 2), normal(s)),
        OpCase("F.transpose 2-D", F.transpose, lambda x: x.T, normal((3, 5))),
        OpCase("getitem int", lambda x: x[1], lambda x: x[1], normal(s)),
        OpCase("getitem negative int and slice", lambda x: x[-1, 1:3], lambda x: x[-1, 1:3], normal(s)),
        OpCase("getitem stepped slice with ellipsis", lambda x: x[..., ::2], lambda x: x[..., ::2],
               normal(s)),
        OpCase("getitem None adds an axis", lambda x: x[:, None, 0], lambda x: x[:, None, 0], normal(s)),
        OpCase("getitem repeated integer array accumulates", lambda x: x[:, idx[:3] % 3],
               lambda x: x[:, torch.as_tensor(idx[:3] % 3)], normal(s)),
        OpCase("getitem repeated rows", lambda x: x[idx], lambda x: x[torch.as_tensor(idx)], normal((3, 4))),
        OpCase("getitem boolean mask", lambda x: x[mask], lambda x: x[torch.as_tensor(mask)], normal((3, 4))),
        OpCase("embedding rows picked twice accumulate", lambda table: ops.embedding(tokens, table),
               lambda table: TF.embedding(torch.as_tensor(tokens), table), normal((6, 5))),
        OpCase("F.concat axis 0", lambda a, b, c: F.concat([a, b, c], axis=0),
               lambda a, b, c: torch.cat([a, b, c], dim=0), normal((1, 3), (2, 3), (3, 3))),
        OpCase("F.concat axis -1", lambda a, b: F.concat([a, b], axis=-1),
               lambda a, b: torch.cat([a, b], dim=-1), normal((2, 3, 1), (2, 3, 4))),
        OpCase("F.concat three feature maps on the channels", lambda a, b, c: F.concat([a, b, c], axis=3),
               lambda a, b, c: torch.cat([a, b, c], dim=3), normal((3, 4, 5, 3), (3, 4, 5, 16), (3, 4, 5, 1))),
        OpCase("F.concat default axis is 0", lambda a, b: F.concat([a, b]), lambda a, b: torch.cat([a, b]),
               normal((2, 2), (1, 2))),
        OpCase("F.concat same tensor twice", lambda a: F.concat([a, a], axis=1),
               lambda a: torch.cat([a, a], dim=1), normal((2, 3))),
        OpCase("F.stack axis 0", lambda a, b, c: F.stack([a, b, c]), lambda a, b, c: torch.stack([a, b, c]),
               normal((2, 3), (2, 3), (2, 3))),
        OpCase("F.stack axis -1", lambda a, b: F.stack([a, b], axis=-1),
               lambda a, b: torch.stack([a, b], dim=-1), normal((2, 3), (2, 3))),
        OpCase("F.stack axis 1", lambda a, b: F.stack([a, b], axis=1),
               lambda a, b: torch.stack([a, b], dim=1), normal((4,), (4,))),
    ]


def _where_cases() -> list[OpCase]:
    cond = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
    col = np.array([[True], [False], [True]])
    return [
        OpCase("F.where same shapes", lambda a, b: F.where(cond, a, b),
               lambda a, b: torch.where(torch.as_tensor(cond), a, b), normal((3, 4), (3, 4))),
        OpCase("F.where broadcasts condition and operands", lambda a, b: F.where(col, a, b),
               lambda a, b: torch.where(torch.as_tensor(col), a, b), normal((4,), (3, 1))),
        OpCase("F.where with a scalar branch", lambda a: F.where(cond, a, 0.0),
               lambda a: torch.where(torch.as_tensor(cond), a, torch.zeros((), dtype=a.dtype)),
               normal((3, 4))),
        OpCase("F.where with a condition from a comparison", lambda a: F.where(a > 0, a, a * 0.1),
               lambda a: torch.where(a > 0, a, a * 0.1), away_from_zero((3, 4))),
    ]


def _pad_cases() -> list[OpCase]:
    def torch_pad(pads, mode, value=0.0, layout=None):
        """layout 'channels_last': x is (N, *spatial, C); torch pads (N, C, *spatial)."""

        def run(x):
            if layout == "channels_last":
                spatial = pads[1:-1]
                return channels_last(TF.pad(channels_first(x), torch_pad_argument(spatial), mode=mode))
            active = [p for p in pads]
            while active and active[0] == (0, 0):
                active = active[1:]
            if mode == "constant":
                return TF.pad(x, torch_pad_argument(active), mode=mode, value=value)
            return TF.pad(x, torch_pad_argument(active), mode=mode)

        return run

    cases = [
        OpCase("pad constant zeros 3-D", lambda x: F.pad(x, ((1, 0), (0, 2), (3, 1))),
               torch_pad(((1, 0), (0, 2), (3, 1)), "constant"), normal((2, 3, 4))),
        OpCase("pad constant value 1.5", lambda x: F.pad(x, ((0, 0), (2, 1)), constant_value=1.5),
               torch_pad(((0, 0), (2, 1)), "constant", 1.5), normal((2, 3))),
        OpCase("pad constant 1-D", lambda x: F.pad(x, ((2, 3),)), torch_pad(((2, 3),), "constant"),
               normal((4,))),
    ]
    for mode in ["reflect", "replicate", "circular"]:
        nchw = ((0, 0), (0, 0), (1, 2), (2, 1))
        cases += [
            OpCase(f"pad {mode} NCHW last two axes", lambda x, m=mode, p=nchw: F.pad(x, p, mode=m),
                   torch_pad(nchw, mode), normal((2, 3, 5, 6))),
            OpCase(f"pad {mode} channels-last 1-D spatial",
                   lambda x, m=mode: F.pad(x, ((0, 0), (2, 3), (0, 0)), mode=m),
                   torch_pad(((0, 0), (2, 3), (0, 0)), mode, layout="channels_last"), normal((2, 6, 3))),
            OpCase(f"pad {mode} channels-last 3-D spatial",
                   lambda x, m=mode: F.pad(x, ((0, 0), (1, 1), (2, 0), (0, 2), (0, 0)), mode=m),
                   torch_pad(((0, 0), (1, 1), (2, 0), (0, 2), (0, 0)), mode, layout="channels_last"),
                   normal((1, 4, 3, 3, 2))),
        ]
    return cases


def _sample_normalization_cases() -> list[OpCase]:
    def torch_groups(x, groups, weight=None, bias=None):
        """x (N, *spatial, C) -> torch's group_norm on (N, C, *spatial), back to channels-last."""
        return channels_last(TF.group_norm(channels_first(x), groups, weight, bias, eps=1e-3))

    return [
        OpCase("normalize_groups blocks of positions and channels",
               lambda x, g, b: ops.normalize_groups(x, g, b, 1e-3),
               lambda x, g, b: torch_groups(x.reshape(2, 6, 6), 3, g.reshape(6), b.reshape(6)).reshape(2, 6, 3, 2),
               normal((2, 6, 3, 2), (3, 2), (3, 2))),
        OpCase("F.group_norm 2-D with gamma and beta", lambda x, g, b: F.group_norm(x, 2, g, b),
               lambda x, g, b: torch_groups(x, 2, g, b), normal((2, 3, 4, 6), (6,), (6,))),
        OpCase("F.group_norm with gamma only", lambda x, g: F.group_norm(x, 2, g),
               lambda x, g: torch_groups(x, 2, g), normal((2, 3, 4, 6), (6,))),
        OpCase("F.group_norm one channel per group", lambda x: F.group_norm(x, 4),
               lambda x: torch_groups(x, 4), normal((2, 5, 4))),
        OpCase("F.layer_norm last axis with gamma and beta", lambda x, g, b: F.layer_norm(x, -1, g, b),
               lambda x, g, b: TF.layer_norm(x, (4,), g, b, eps=1e-3), normal((3, 5, 4), (4,), (4,))),
        OpCase("F.layer_norm over a middle axis", lambda x: F.layer_norm(x, 1),
               lambda x: TF.layer_norm(x.permute(0, 2, 1), (5,), eps=1e-3).permute(0, 2, 1), normal((3, 5, 4))),
        OpCase("F.layer_norm over axes 1 and 3", lambda x: F.layer_norm(x, (1, 3)),
               lambda x: TF.layer_norm(x.permute(0, 2, 1, 3), (3, 4), eps=1e-3).permute(0, 2, 1, 3),
               normal((2, 3, 5, 4))),
    ]


def _resize_cases() -> list[OpCase]:
    def torch_resize(size, mode):
        return lambda x: channels_last(TF.interpolate(channels_first(x), size=size, mode=mode,
                                                      **({"align_corners": False} if mode == "bilinear" else {})))

    return [
        OpCase("F.resize bilinear up and down", lambda x: F.resize(x, (8, 4), "bilinear"),
               torch_resize((8, 4), "bilinear"), normal((2, 5, 7, 3))),
        OpCase("F.resize bilinear doubling", lambda x: F.resize(x, (6, 8), "bilinear"),
               torch_resize((6, 8), "bilinear"), normal((2, 3, 4, 2))),
        OpCase("F.resize nearest", lambda x: F.resize(x, (7, 3), "nearest"), torch_resize((7, 3), "nearest-exact"),
               normal((1, 4, 5, 2))),
        OpCase("repeat_cells 2-D by (2, 3)", lambda x: ops.repeat_cells(x, (2, 3)),
               lambda x: x.repeat_interleave(2, dim=1).repeat_interleave(3, dim=2), normal((3, 4, 5, 2))),
        OpCase("repeat_cells 1-D by 3", lambda x: ops.repeat_cells(x, (3,)), lambda x: x.repeat_interleave(3, dim=1),
               normal((2, 5, 3))),
        OpCase("repeat_cells 3-D by (1, 2, 2)", lambda x: ops.repeat_cells(x, (1, 2, 2)),
               lambda x: x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3), normal((2, 2, 3, 3, 2))),
        OpCase("repeat_cells 3-D by (2, 3, 2)", lambda x: ops.repeat_cells(x, (2, 3, 2)),
               lambda x: x.repeat_interleave(2, dim=1).repeat_interleave(3, dim=2).repeat_interleave(2, dim=3),
               normal((2, 2, 3, 4, 5))),
    ]


def all_op_cases() -> list[OpCase]:
    rng = np.random.default_rng(20240611)
    return (
        _binary_cases(rng)
        + _scalar_and_array_operand_cases()
        + _reuse_cases()
        + _matmul_cases()
        + _dense_cases()
        + _unary_cases()
        + _reduction_cases()
        + _shape_cases()
        + _where_cases()
        + _pad_cases()
        + _sample_normalization_cases()
        + _resize_cases()
    )


OP_CASES = all_op_cases()
