"""Which pixels of one image a class score depends on: saliency, occlusion and guided backpropagation.

Each function takes a model, one image x of the model's input shape (H, W, C) (or a batch of one, (1, H, W, C))
and a class index, and returns a NumPy array over the image:

- `saliency` (Simonyan, Vedaldi & Zisserman 2014, "Deep Inside Convolutional Networks"): d score_c / d x,
  (H, W, C); `saliency_map` reduces it to (H, W) by max_c |g|, as the paper does.
- `occlusion` (Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks"): how much the
  class output drops when a square of the image is covered, (H, W).
- `guided_backprop` (Springenberg et al. 2015, "Striving for Simplicity"): the gradient with, at every ReLU,
  only positive gradients passed back where the ReLU's input was positive, (H, W, C).

The class score of the two gradient methods is the unnormalised one, as Simonyan et al. take it: when the
model's output is made by a softmax (a Dense or convolution layer with activation="softmax", or an
Activation("softmax") layer last), the softmax's input (the logit) is used, read from the recorded graph; any
other output is used as it is. Gradients come from `striate.grad`, with respect to the image alone: the model
is not changed (its weights keep their `requires_grad`, and no weight's `.grad` is written), so several threads
may explain images with one model at the same time.
"""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.autograd import grad
from striate.core.runtime import is_grad_enabled
from striate.core.tensor import Tensor
from striate.inspect.layer_outputs import batch_of_one, model_layers, run_layers
from striate.layers import activations
from striate.models.model import Model
from striate.ops.activations import Softmax
from striate.ops.gradient_gate import gradient_gate


def saliency(model: Model, x: ArrayLike, class_index: int) -> NDArray[Any]:
    """The gradient of the class score with respect to the input: d s_c / d x, shaped (H, W, C) like x.

    s_c is the class's logit (see the module's docstring). Works for any striate Model, subclassed ones too.
    """
    batch = _checked_for_gradient("saliency", model, x, class_index)
    image = Tensor(batch, requires_grad=True)
    score = class_logits(model(image, training=False))[0, class_index]
    return _image_gradient(score, image)


def guided_backprop(model: Model, x: ArrayLike, class_index: int) -> NDArray[Any]:
    """Guided backpropagation: d s_c / d x where every ReLU passes back grad * (input > 0) * (grad > 0).

    Returns (H, W, C). The model is walked layer by layer (`run_layers`: Sequential or functional models) and
    the output of every layer whose activation is "relu" (Conv, Dense, Activation layers; a convolution's
    fused relu is applied at its output) goes through `gradient_gate` (identity forward, max(grad, 0)
    backward); relu's own backward gives the (input > 0) factor. Other activations (leaky_relu, elu, ...) are
    left as they are. A model nested as a layer is refused: its ReLUs would not be gated.
    """
    batch = _checked_for_gradient("guided_backprop", model, x, class_index)
    nested = [layer.name for layer in model_layers(model) if isinstance(layer, Model)]
    if nested:
        raise ValueError(f"guided_backprop: model {model.name!r} contains the models {nested} as layers; their "
                         "ReLUs cannot be gated; build it from plain layers")
    image = Tensor(batch, requires_grad=True)
    output = run_layers(model, image, after_layer=_gate_relu_output)[-1][1]
    return _image_gradient(class_logits(output)[0, class_index], image)


def _image_gradient(score: Tensor, image: Tensor) -> NDArray[Any]:
    """d score / d image for the batch of one `image`, as (H, W, C)."""
    (gradient,) = grad(score, image)
    assert gradient is not None  # allow_unused=False: grad raises rather than return None
    return gradient[0]


def occlusion(model: Model, x: ArrayLike, class_index: int, patch: int, stride: int, fill: float = 0.0,
              batch_size: int = 64) -> NDArray[np.float64]:
    """Occlusion sensitivity (Zeiler & Fergus 2014): the drop of the class output when a square is covered.

    A `patch` x `patch` square of value `fill` (all channels) is put at every position of a grid with step
    `stride`: top-left corners 0, stride, 2 stride, ... and, when the steps do not reach it, H - patch (and the
    same along W), so every pixel is covered. For each position p, drop_p = y_c(x) - y_c(x with p covered),
    where y_c is the model's output for the class (model.predict: a probability when the model ends with a
    softmax). The map is, at each pixel, the mean of drop_p over the squares covering it: (H, W), positive where
    covering the pixel lowers the class output. The covered copies go through model.predict `batch_size` at a
    time, each batch with one uncovered copy, whose output is y_c(x) for that batch: the same computation as the
    covered ones', so that a square the output does not read gives a drop of exactly 0.
    """
    batch = batch_of_one("occlusion", model, x)
    check_class("occlusion", model, class_index)
    if batch.ndim != 4:
        raise ValueError(f"occlusion: needs images (H, W, C); received x of shape {np.shape(x)}")
    height, width = batch.shape[1:3]
    if not (isinstance(patch, int | np.integer) and 1 <= patch <= min(height, width)):
        raise ValueError(f"occlusion: patch must be an int from 1 to {min(height, width)} (the image is "
                         f"{height}x{width}); received patch={patch!r}")
    if not (isinstance(stride, int | np.integer) and stride >= 1):
        raise ValueError(f"occlusion: stride must be a positive int; received stride={stride!r}")
    corners = [(top, left) for top in window_starts(height, patch, stride)
               for left in window_starts(width, patch, stride)]
    drops = np.empty(len(corners))
    for start in range(0, len(corners), batch_size):
        chunk = corners[start : start + batch_size]
        covered = np.repeat(batch, len(chunk) + 1, axis=0)  # row 0 stays uncovered: y_c(x), computed in the same
        for copy, (top, left) in zip(covered[1:], chunk):  # batch as the covered copies, with the same rounding
            copy[top : top + patch, left : left + patch, :] = fill
        scores = model.predict(covered, batch_size=len(covered), verbose=0)[:, class_index]
        drops[start : start + len(chunk)] = scores[0] - scores[1:]
    total, count = np.zeros((height, width)), np.zeros((height, width))
    for drop, (top, left) in zip(drops, corners):
        total[top : top + patch, left : left + patch] += drop
        count[top : top + patch, left : left + patch] += 1
    return total / count


def saliency_map(gradient: ArrayLike) -> NDArray[Any]:
    """(H, W, C) gradient -> (H, W) map: max over channels of |g| (Simonyan et al. 2014, section 3.1)."""
    return np.abs(gradient).max(axis=-1)


def window_starts(length: int, patch: int, stride: int) -> list[int]:
    """Start of each patch along an axis: 0, stride, ... <= length - patch, then length - patch if missed."""
    starts = list(range(0, length - patch + 1, stride))
    if starts[-1] != length - patch:
        starts.append(length - patch)
    return starts


def class_logits(output: Tensor) -> Tensor:
    """The scores before a final softmax: the softmax op's input when `output` was made by one, else `output`."""
    creator = output.grad_fn
    return creator.inputs[0] if isinstance(creator, Softmax) else output


def check_class(what: str, model: Model, class_index: int) -> None:
    """Refuse a class index outside the model's (N, classes) output."""
    shape = model.output_shape
    if len(shape) != 2 or not (isinstance(class_index, int | np.integer) and 0 <= class_index < shape[-1]):
        raise ValueError(f"{what}: class_index must be an int from 0 to {shape[-1] - 1} for model {model.name!r} "
                         f"with outputs {shape}; received class_index={class_index!r}")


def _checked_for_gradient(what: str, model: Model, x: ArrayLike, class_index: int) -> NDArray[Any]:
    """The batch of one, after the checks every gradient method makes."""
    batch = batch_of_one(what, model, x)
    check_class(what, model, class_index)
    if not is_grad_enabled():
        raise RuntimeError(f"{what}: gradients are off (inside striate.no_grad()); call it outside that block")
    return batch


def _gate_relu_output(layer: Any, output: Tensor) -> Tensor:
    if activations.name_of(getattr(layer, "activation", None)) == "relu":
        return gradient_gate(output)
    return output
