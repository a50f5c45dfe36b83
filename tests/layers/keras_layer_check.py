"""One check for a striate layer against the same Keras 3 layer (torch backend) given the same weights: equal
outputs, and equal gradients of sum(output * g) (g random) with respect to the inputs and every trainable
weight, the Keras side through torch autograd.

    from keras_layer_check import check_against_keras
    check_against_keras(L.PReLU(), keras.layers.PReLU(), x)
"""

import numpy as np
import torch

from keras_oracle import keras, to_numpy
from striate.core.tensor import Tensor

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def _as_list(value):
    return list(value) if isinstance(value, list | tuple) else [value]


def check_against_keras(ours, theirs, inputs, training=False, weights="random", seed=0, tolerance=None):
    """Build both layers on `inputs` (an array or a list of arrays), give both the same weights (`weights`: a
    list, "random" for uniform(-1, 1) values, None to keep Keras' initial ones), and compare outputs and
    gradients. Returns our output as NumPy."""
    tolerance = tolerance or TOLERANCE
    arrays = [np.asarray(x, np.float32) for x in _as_list(inputs)]
    multiple = isinstance(inputs, list | tuple)
    shapes = [(None, *x.shape[1:]) for x in arrays]
    theirs.build(shapes if multiple else shapes[0])
    ours.ensure_built(shapes if multiple else shapes[0])
    if isinstance(weights, str):
        weights = random_weights(theirs, np.random.default_rng(seed + 1))
    if weights is not None:
        theirs.set_weights(weights)
    ours.set_weights(theirs.get_weights())

    torch_inputs = [torch.tensor(x, requires_grad=True) for x in arrays]
    keras_output = theirs(torch_inputs if multiple else torch_inputs[0], training=training)
    our_inputs = [Tensor(x, requires_grad=True) for x in arrays]
    our_output = ours(our_inputs if multiple else our_inputs[0], training=training)

    expected = to_numpy(keras_output)
    assert np.all(np.isfinite(expected)), "the Keras output is not finite: choose other weights or inputs"
    np.testing.assert_allclose(our_output.numpy(), expected, **tolerance, err_msg="outputs differ")
    assert our_output.shape == expected.shape
    assert tuple(ours.compute_output_shape(shapes if multiple else shapes[0]))[1:] == expected.shape[1:]

    upstream = np.random.default_rng(seed).normal(size=expected.shape).astype(np.float32)
    (keras_output * torch.tensor(upstream)).sum().backward()
    our_output.backward(upstream)
    for index, (mine, theirs_input) in enumerate(zip(our_inputs, torch_inputs)):
        keras_grad = np.zeros_like(arrays[index]) if theirs_input.grad is None else theirs_input.grad.numpy()
        mine_grad = np.zeros_like(arrays[index]) if mine.grad is None else mine.grad
        np.testing.assert_allclose(mine_grad, keras_grad, **tolerance, err_msg=f"gradient of input {index} differs")
    for mine, variable in zip(ours.weights, theirs.weights):
        if not variable.trainable:
            continue
        keras_grad = variable.value.grad
        keras_grad = np.zeros(mine.shape, np.float32) if keras_grad is None else keras_grad.numpy()
        np.testing.assert_allclose(mine.grad, keras_grad, **tolerance, err_msg=f"gradient of {mine.name} differs")
    return our_output.numpy()


def random_weights(layer, rng, low=-1.0, high=1.0):
    """Uniform values for every weight of a built Keras layer (so that none is at its initial value)."""
    return [rng.uniform(low, high, np.shape(w)).astype(np.float32) for w in layer.get_weights()]


__all__ = ["check_against_keras", "keras", "random_weights"]
