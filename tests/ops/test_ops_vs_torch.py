"""Every primitive op against PyTorch: forward values and the gradient of every input, float64 and float32."""

import numpy as np
import pytest
import torch
from op_cases import OP_CASES

import striate.functional as F
from oracle import assert_close, check_against_torch
from striate import Tensor, no_grad

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", OP_CASES, ids=[c.name for c in OP_CASES])
def test_op_forward_and_gradients_match_torch(case, dtype):
    check_against_torch(case.striate_fn, case.torch_fn, case.inputs(), dtype, constant=case.constant)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_backward_with_explicit_upstream_gradient_scales_each_output(dtype):
    x_data = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=dtype)
    upstream = np.array([[1.0, 0.0, -2.0], [3.0, 0.5, 1.0]], dtype=dtype)
    x = Tensor(x_data, requires_grad=True)
    (x * x).backward(upstream)
    x_t = torch.tensor(x_data, requires_grad=True)
    (x_t * x_t).backward(torch.tensor(upstream))
    assert_close(x.grad, x_t.grad, dtype, "d(x*x)/dx with upstream")
    assert_close(x.grad, 2 * x_data * upstream, dtype, "2 x * upstream")


def test_backward_without_argument_starts_from_one_on_a_scalar():
    x_data = np.array([0.3, -1.2, 2.0])
    x = Tensor(x_data, requires_grad=True)
    (F.exp(x) * x).sum().backward()
    x_t = torch.tensor(x_data, requires_grad=True)
    (torch.exp(x_t) * x_t).sum().backward()
    assert_close(x.grad, x_t.grad, np.float64, "d sum(x e^x) / dx")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_grad_accumulates_over_two_backward_calls(dtype):
    rng = np.random.default_rng(3)
    x_data = rng.standard_normal((3, 4)).astype(dtype)
    w_data = rng.standard_normal((4, 2)).astype(dtype)
    x, w = Tensor(x_data, requires_grad=True), Tensor(w_data, requires_grad=True)
    x_t, w_t = torch.tensor(x_data, requires_grad=True), torch.tensor(w_data, requires_grad=True)

    (x @ w).sum().backward()
    F.tanh(x @ w).mean().backward()  # a second graph over the same leaves
    (x_t @ w_t).sum().backward()
    torch.tanh(x_t @ w_t).mean().backward()

    assert_close(x.grad, x_t.grad, dtype, "accumulated x.grad")
    assert_close(w.grad, w_t.grad, dtype, "accumulated w.grad")


def test_grad_is_none_before_backward_and_only_on_leaves_that_require_it():
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.full(3, 2.0))
    assert x.grad is None
    (x * c).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    assert c.grad is None


def test_no_grad_builds_no_graph_and_restores_recording_afterwards():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with no_grad():
        y = F.exp(x * 2 + 1).sum()
    assert not y.requires_grad
    assert x.grad is None
    z = (x * 2).sum()
    assert z.requires_grad
    z.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_no_grad_result_values_equal_the_recorded_ones():
    x = Tensor(np.array([0.5, -1.5, 3.0]), requires_grad=True)
    with no_grad():
        inside = F.softmax(x * x)
    np.testing.assert_allclose(inside.numpy(), torch.softmax(torch.tensor([0.25, 2.25, 9.0]), dim=-1).numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_ops_keep_float32_and_float64(dtype):
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3).astype(dtype), requires_grad=True)
    y = F.softmax(2.0 * x - 1 + x ** 2 / 3.0)
    assert y.dtype == dtype
    y.backward(np.ones(y.shape, dtype))
    assert x.grad.dtype == dtype


def test_integer_data_becomes_float32():
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64


# ---- dropout: PyTorch's random stream can't be matched, so pin the distribution and the mask ---------------
def test_dropout_keeps_about_one_minus_rate_and_scales_kept_values():
    rate = 0.3
    x = Tensor(np.ones((200, 250)))
    y = F.dropout(x, rate, training=True, seed=7).numpy()
    kept = y != 0
    n = kept.size
    fraction = kept.mean()
    assert abs(fraction - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(y[kept], 1.0 / (1 - rate))
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(rate / (1 - rate) / n)


def test_dropout_gradient_is_mask_times_scale():
    rate = 0.4
    rng = np.random.default_rng(11)
    x_data = rng.uniform(0.5, 2.0, (6, 50))  # nonzero, so a zero output means dropped
    upstream = rng.standard_normal((6, 50))
    x = Tensor(x_data, requires_grad=True)
    y = F.dropout(x, rate, training=True, seed=1)
    y.backward(upstream)
    mask = y.numpy() != 0
    np.testing.assert_allclose(y.numpy(), x_data * mask / (1 - rate), rtol=1e-12)
    np.testing.assert_allclose(x.grad, upstream * mask / (1 - rate), rtol=1e-12)
    assert 0 < mask.mean() < 1


def test_dropout_same_seed_same_mask_different_seed_different_mask():
    x = Tensor(np.ones((20, 20)))
    a = F.dropout(x, 0.5, seed=3).numpy()
    b = F.dropout(x, 0.5, seed=3).numpy()
    c = F.dropout(x, 0.5, seed=4).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_drops_at_the_rate_in_every_block_of_a_large_array(dtype):
    """The mask is drawn in blocks of BLOCK values (a generator each, shared by the threads in a training step):
    each block must be a Bernoulli mask of its own, kept values scaled by 1 / (1 - rate) in x's dtype."""
    from striate.ops.dropout import BLOCK

    rate, x = 0.25, Tensor(np.ones((5, BLOCK + 7), dtype))
    y = F.dropout(x, rate, seed=5).numpy()
    assert y.dtype == dtype
    blocks = [y.reshape(-1)[start : start + BLOCK] for start in range(0, y.size, BLOCK)]
    assert len(blocks) == 6 and blocks[-1].size == 5 * 7
    for block in blocks[:-1]:
        kept = block != 0
        assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / kept.size)
        np.testing.assert_array_equal(block[kept], dtype(1) / dtype(1 - rate))
    assert len({(block != 0).tobytes() for block in blocks[:-1]}) == 5  # no two blocks drew the same mask


@pytest.mark.parametrize("threads", [2, 3])
def test_dropout_mask_is_the_same_on_several_threads_as_on_one(monkeypatch, threads):
    from striate.core import runtime

    x = Tensor(np.ones((300, 2000), np.float32))
    assert x.size >= runtime.PARALLEL_MIN_WORK  # the blocks are shared by the threads
    monkeypatch.setattr(runtime, "_requested_threads", threads)
    on_several = F.dropout(x, 0.5, seed=np.random.default_rng(6)).numpy()
    monkeypatch.setattr(runtime, "_requested_threads", 1)  # now one after the other, on this thread
    on_one = F.dropout(x, 0.5, seed=np.random.default_rng(6)).numpy()
    np.testing.assert_array_equal(on_several, on_one)


def test_dropout_not_training_is_identity_with_identity_gradient():
    x_data = np.random.default_rng(0).standard_normal((4, 5))
    x = Tensor(x_data, requires_grad=True)
    y = F.dropout(x, 0.5, training=False)
    np.testing.assert_array_equal(y.numpy(), x_data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((4, 5)))


def test_dropout_rate_zero_keeps_everything():
    x_data = np.random.default_rng(1).standard_normal((4, 5))
    np.testing.assert_array_equal(F.dropout(Tensor(x_data), 0.0, training=True, seed=0).numpy(), x_data)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid"])
def test_dense_on_an_empty_batch_gives_an_empty_output_and_zero_weight_gradients_as_torch(activation):
    """No rows: the product, bias and activation pass over nothing, in a training step's workers_only mode too."""
    from striate import ops
    from striate.core.runtime import workers_only

    rng = np.random.default_rng(5)
    kernel_data, bias_data = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x_t, kernel_t, bias_t = (torch.tensor(a, requires_grad=True) for a in (np.zeros((0, 4)), kernel_data, bias_data))
    act = {None: lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation]
    act(x_t @ kernel_t + bias_t).sum().backward()
    x, kernel, bias = (Tensor(a, requires_grad=True) for a in (np.zeros((0, 4)), kernel_data, bias_data))
    with workers_only():
        y = ops.dense(x, kernel, bias, activation=activation)
    y.sum().backward()
    assert y.shape == (0, 3)
    assert_close(kernel.grad, kernel_t.grad, np.float64, "dW of no rows")
    assert_close(bias.grad, bias_t.grad, np.float64, "db of no rows")
