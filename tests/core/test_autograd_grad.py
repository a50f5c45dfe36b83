"""`striate.grad`: gradients with respect to chosen inputs, against `torch.autograd.grad`; no `.grad` written."""

import numpy as np
import pytest
import torch

import striate
from oracle import assert_close
from striate import layers as L
from striate.core.autograd import grad
from striate.core.function import Function
from striate.core.tensor import Tensor


def random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def both(*arrays):
    """Each array as a striate Tensor and a torch tensor, float64, both requiring grad."""
    return ([Tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays])


def test_gradients_of_several_ops_equal_torch_autograd_grad():
    arrays = random((3, 4), 0), random((4,), 1), random((4, 2), 2)
    (x, b, w), (tx, tb, tw) = both(*arrays)
    striate_loss = (x * 0.3).exp() / (b * b + 1.0) - x[1:, :].sum() * b  # broadcasting, getitem, sum, div
    striate_loss = (striate_loss @ w).relu().mean() + x.abs().max()
    torch_loss = torch.exp(tx * 0.3) / (tb * tb + 1.0) - tx[1:, :].sum() * tb
    torch_loss = torch.relu(torch_loss @ tw).mean() + torch.abs(tx).max()
    got = grad(striate_loss, [x, b, w])
    expected = torch.autograd.grad(torch_loss, [tx, tb, tw])
    assert len(got) == 3
    for actual, wanted, name in zip(got, expected, ["x", "b", "w"]):
        assert_close(actual, wanted, np.float64, f"d loss / d {name}")
        assert actual.dtype == np.float64


def test_gradients_with_respect_to_a_subset_leave_every_other_leaf_alone():
    (x, w), (tx, tw) = both(random((5,), 3), random((5,), 4))
    (gx,) = grad((w * x * x).sum(), x)
    assert_close(gx, torch.autograd.grad((tw * tx * tx).sum(), tx)[0], np.float64, "d/dx sum(w x^2)")
    assert_close(gx, 2 * w.data * x.data, np.float64, "2 w x written out")
    assert x.grad is None and w.grad is None
    assert w.requires_grad and x.requires_grad


def small_cnn():
    """8x8x2 -> conv 3@3x3 relu -> max pool 2 -> flatten -> dense 4 softmax."""
    striate.set_random_seed(5)
    return striate.Sequential([L.Conv2D(3, 3, activation="relu", input_shape=(8, 8, 2)), L.MaxPooling2D(2),
                               L.Flatten(), L.Dense(4, activation="softmax")])


def torch_cnn_logits(model, image):
    """The same network in torch (NCHW inside); returns (logits, input, conv kernel) with grads wanted."""
    (kernel, bias), (dense_w, dense_b) = model.layers[0].get_weights(), model.layers[3].get_weights()
    x = torch.tensor(image, dtype=torch.float64, requires_grad=True)
    k = torch.tensor(kernel, dtype=torch.float64, requires_grad=True)
    y = torch.relu(torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1),
                                              torch.tensor(bias, dtype=torch.float64)))
    y = torch.nn.functional.max_pool2d(y, 2).permute(0, 2, 3, 1).reshape(len(image), -1)
    logits = y @ torch.tensor(dense_w, dtype=torch.float64) + torch.tensor(dense_b, dtype=torch.float64)
    return logits, x, k


def test_input_gradient_of_a_conv_net_equals_torch_and_writes_no_weight_grad():
    model = small_cnn()
    image = random((2, 8, 8, 2), 6).astype(np.float32)
    x = Tensor(image, requires_grad=True)
    probabilities = model(x, training=False)
    upstream = random((2, 4), 7).astype(np.float32)
    (gx,) = grad(probabilities, x, grad_outputs=upstream)
    logits, tx, _ = torch_cnn_logits(model, image)
    (expected,) = torch.autograd.grad(torch.softmax(logits, -1), tx, grad_outputs=torch.tensor(upstream).double())
    assert_close(gx, expected, np.float32, "d (probabilities . upstream) / d image")
    assert all(w.grad is None for w in model.weights)
    assert all(w.requires_grad for w in model.weights)


def test_gradient_with_respect_to_a_weight_equals_torch():
    model = small_cnn()
    image = random((1, 8, 8, 2), 8).astype(np.float32)
    x = Tensor(image, requires_grad=True)
    probabilities = model(x, training=False)
    kernel = model.layers[0].kernel
    gx, gk = grad(probabilities.grad_fn.inputs[0][0, 2], [x, kernel])  # the softmax's input: the logits
    torch_logits, tx, tk = torch_cnn_logits(model, image)
    ex, ek = torch.autograd.grad(torch_logits[0, 2], [tx, tk])
    assert_close(gx, ex, np.float32, "d logit_2 / d image")
    assert_close(gk, ek, np.float32, "d logit_2 / d kernel")
    assert all(w.grad is None for w in model.weights)


def test_several_outputs_with_grad_outputs_sum_their_vector_jacobian_products():
    (x,), (tx,) = both(random((3, 2), 9))
    g1, g2 = random((3, 2), 10), random((2,), 11)
    got = grad([x * x, (x.exp()).sum(axis=0)], x, grad_outputs=[g1, Tensor(g2)])
    expected = torch.autograd.grad([tx * tx, tx.exp().sum(0)], tx,
                                   grad_outputs=[torch.tensor(g1), torch.tensor(g2)])
    assert_close(got[0], expected[0], np.float64, "2 x g1 + exp(x) g2")
    assert_close(got[0], 2 * x.data * g1 + np.exp(x.data) * g2, np.float64, "written out")


def test_gradient_with_respect_to_an_intermediate_result_equals_torch():
    (x,), (tx,) = both(random((4,), 12))
    h = x * 3.0
    th = tx * 3.0
    got = grad((h * h + x).sum(), [h, x])
    expected = torch.autograd.grad((th * th + tx).sum(), [th, tx])
    assert_close(got[0], expected[0], np.float64, "d/dh = 2h")
    assert_close(got[1], expected[1], np.float64, "d/dx = 6h * ... + 1 through h too")


def test_allow_unused_gives_none_and_otherwise_the_error_names_the_input():
    (x, unused), (tx, tunused) = both(random((3,), 13), random((2,), 14))
    got = grad((x * x).sum(), [x, unused], allow_unused=True)
    expected = torch.autograd.grad((tx * tx).sum(), [tx, tunused], allow_unused=True)
    assert got[1] is None and expected[1] is None
    assert_close(got[0], expected[0], np.float64, "2x")
    with pytest.raises(RuntimeError, match=r"grad: the outputs were not computed from inputs\[1\] \(shape \(2,\)\)"):
        grad((x * x).sum(), [x, unused])


def test_errors_name_what_is_wrong_before_any_work():
    x = Tensor(random((3,), 15), requires_grad=True)
    constant = Tensor(random((3,), 16))
    with pytest.raises(RuntimeError, match=r"inputs\[1\] \(shape \(3,\)\) does not require grad"):
        grad((x * constant).sum(), [x, constant])
    with pytest.raises(RuntimeError, match=r"outputs\[0\] has shape \(3,\); only an output of one value"):
        grad(x * x, x)
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] must have the shape of outputs\[0\], \(3,\); "
                                         r"received shape \(2,\)"):
        grad(x * x, x, grad_outputs=np.ones(2))
    with pytest.raises(ValueError, match=r"one entry per output \(1\); received 2"):
        grad(x * x, x, grad_outputs=[np.ones(3), np.ones(3)])
    with pytest.raises(RuntimeError, match=r"outputs\[0\] \(shape \(\)\) does not require grad"):
        grad(constant.sum(), x)
    with pytest.raises(TypeError, match="inputs must be a Tensor or a non-empty sequence of Tensors; received"):
        grad((x * x).sum(), [])
    assert x.grad is None


def test_graph_is_released_unless_retain_graph():
    (x,), (tx,) = both(random((3,), 17))
    loss = (x.exp() * x).sum()
    first = grad(loss, x, retain_graph=True)
    second = grad(loss, x)
    assert_close(first[0], second[0], np.float64, "the same gradient twice")
    assert_close(second[0], torch.autograd.grad((tx.exp() * tx).sum(), tx)[0], np.float64, "(1 + x) exp(x)")
    with pytest.raises(RuntimeError, match="released by striate.grad"):
        grad(loss, x)
    with pytest.raises(RuntimeError, match="released by striate.grad"):
        loss.backward()


def test_backward_after_grad_with_retain_graph_still_computes_every_leaf_gradient():
    (x, w), (tx, tw) = both(random((4,), 18), random((4,), 19))
    loss = (x * w).relu().sum()
    grad(loss, x, retain_graph=True)
    loss.backward()
    (tx * tw).relu().sum().backward()
    assert_close(x.grad, tx.grad, np.float64, "x.grad")
    assert_close(w.grad, tw.grad, np.float64, "w.grad")


class RecordingMul(Function):
    """a * b that notes which operand gradients its backward was asked for."""

    asked = []

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        RecordingMul.asked.append(self.needs_input_grad)
        return (grad * self.b if self.needs_input_grad[0] else None,
                grad * self.a if self.needs_input_grad[1] else None)


def test_ops_are_asked_only_for_operands_on_a_path_to_an_input():
    (x, w), _ = both(random((3,), 20), random((3,), 21))
    RecordingMul.asked.clear()
    (gx,) = grad(RecordingMul.apply(x, w).sum(), x)
    assert RecordingMul.asked == [(True, False)]
    assert_close(gx, w.data, np.float64, "d sum(x w) / dx = w")


def test_returned_gradients_share_no_memory_with_each_other_or_with_grad_outputs():
    (a, b), _ = both(random((3,), 22), random((3,), 23))
    upstream = np.ones(3)
    ga, gb = grad(a + b, [a, b], grad_outputs=upstream)
    (same,) = grad(a, a, grad_outputs=upstream)
    ga += 5.0
    same += 7.0
    np.testing.assert_array_equal(gb, np.ones(3))
    np.testing.assert_array_equal(upstream, np.ones(3))
