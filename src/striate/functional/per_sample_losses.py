"""Keras' loss functions: `loss(y_true, y_pred, ...)` -> one value per sample, differentiable in y_pred.

Each reduces the last axis (the class or feature axis) and keeps the others: y_pred (N, C) gives (N,),
(N, T, C) gives (N, T). `striate.losses` wraps each in a Loss class that reduces over the batch (with
sample weights) as Keras does. y_true is data (a NumPy array, or a Tensor read as data); y_pred a
Tensor, usually a model output, through which gradients flow. eps = 1e-7 is Keras' backend.epsilon().

    mean_squared_error             mean((t - p)^2)
    mean_absolute_error            mean(|t - p|)
    mean_absolute_percentage_error 100 * mean(|t - p| / max(|t|, eps))
    mean_squared_logarithmic_error mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))^2)
    cosine_similarity              -sum(t / ||t|| * p / ||p||)       (norms at least eps)
    huber                          mean(e^2 / 2 if |e| <= delta else delta |e| - delta^2 / 2),  e = p - t
    log_cosh                       mean(log(cosh(p - t)))
    kl_divergence                  sum(t log(t / p)),  t and p clipped to [eps, 1]
    poisson                        mean(p - t log(p + eps))
    hinge                          mean(max(1 - t p, 0)),  labels 0/1 read as -1/+1
    squared_hinge                  mean(max(1 - t p, 0)^2)
    categorical_hinge              max(max((1 - t) p) - sum(t p) + 1, 0)
    binary_crossentropy            mean(-(t log p + (1 - t) log(1 - p))),  p clipped to [eps, 1 - eps]
    categorical_crossentropy       -sum(t log p),  p = y_pred / sum(y_pred), clipped (or softmax of logits)
    sparse_categorical_crossentropy  -log p[label]
    binary_focal_crossentropy      mean((1 - p_t)^gamma * bce),  p_t = t p + (1 - t)(1 - p)   (Lin et al. 2017)
    categorical_focal_crossentropy sum(alpha (1 - p)^gamma * (-t log p))
    categorical_generalized_cross_entropy  (1 - p[label]^q) / q      (Zhang & Sabuncu 2018)
    dice                           1 - 2 sum(t p) / (sum(t) + sum(p) + eps)     sums over `axis` (None: all)
    tversky                        1 - sum(t p) / (sum(t p) + alpha sum((1 - p) t) + beta sum(p (1 - t)) + eps)
    circle                         softplus(lse(pos) + lse(neg)) per query embedding   (Sun et al. 2020)
    ctc                            -log sum over alignments of prod_t softmax(y_pred)[t, label_t]   (Graves 2006)

Label smoothing (Szegedy et al. 2016) moves the targets towards uniform: t (1 - s) + s / C for C classes,
t (1 - s) + s / 2 for binary targets.
"""

import math

import numpy as np

from striate.core.tensor import Tensor, as_tensor
from striate.ops import abs, clip, exp, log, log_softmax, matmul, maximum, pad, sigmoid, softmax, stack, where

EPSILON = 1e-7  # Keras' backend.epsilon()
MASK_ATTRIBUTE = "_keras_mask"  # as Keras, a boolean array (the loss's shape) of the values that count


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    difference = y_pred - y_true
    return (difference * difference).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    return abs(y_pred - y_true).mean(axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    return abs((y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON)).mean(axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    difference = log(maximum(y_pred, EPSILON) + 1.0) - np.log(np.maximum(y_true, EPSILON) + 1.0)
    return (difference * difference).mean(axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    true_unit = y_true / np.maximum(np.sqrt(np.sum(y_true * y_true, axis=axis, keepdims=True)), EPSILON)
    pred_unit = y_pred / maximum((y_pred * y_pred).sum(axis=axis, keepdims=True) ** 0.5, EPSILON)
    return -(pred_unit * true_unit).sum(axis=axis)


def huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    error = y_pred - y_true
    absolute = abs(error)
    quadratic, linear = error * error * 0.5, absolute * delta - 0.5 * delta * delta
    return where(absolute.data <= delta, quadratic, linear).mean(axis=-1)


def log_cosh(y_true, y_pred):
    """log(cosh(x)) = x + softplus(-2x) - log 2, which does not overflow for large |x|."""
    y_true, y_pred = same_rank(*_operands(y_true, y_pred))
    x = y_pred - y_true
    return (x + _softplus(x * -2.0) - math.log(2.0)).mean(axis=-1)


def kl_divergence(y_true, y_pred):
    y_true, y_pred = _operands(y_true, y_pred)
    y_true = np.clip(y_true, EPSILON, 1)
    return ((log(clip(y_pred, EPSILON, 1)) * -1.0 + np.log(y_true)) * y_true).sum(axis=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = _operands(y_true, y_pred)
    return (y_pred - log(y_pred + EPSILON) * y_true).mean(axis=-1)


def hinge(y_true, y_pred):
    y_true, y_pred = _operands(y_true, y_pred)
    return maximum(1.0 - y_pred * _signed_labels(y_true), 0.0).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _operands(y_true, y_pred)
    margin = maximum(1.0 - y_pred * _signed_labels(y_true), 0.0)
    return (margin * margin).mean(axis=-1)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _operands(y_true, y_pred)
    positive = (y_pred * y_true).sum(axis=-1)
    negative = (y_pred * (1.0 - y_true)).max(axis=-1)
    return maximum(negative - positive + 1.0, 0.0)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _operands(y_true, y_pred)
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return _binary_crossentropy(y_true, y_pred, from_logits).mean(axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _operands(y_true, y_pred)
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    return -(_log_probabilities(y_pred, from_logits, axis) * y_true).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] with integer labels y_true (N, ...) or (N, ..., 1) for y_pred (N, ..., C).

    ignore_class: a label whose elements count for nothing: their loss is 0 and the result carries a mask
    of the others, so that the batch mean divides by the number of counted elements only (as Keras).
    """
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    axis = axis % y_pred.ndim
    if labels.ndim == y_pred.ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    expected = y_pred.shape[:axis] + y_pred.shape[axis + 1:]
    if labels.shape != expected:
        raise ValueError(f"sparse_categorical_crossentropy: labels must have shape {expected} (or with a last axis "
                         f"of 1) for y_pred of shape {y_pred.shape}; received shape {labels.shape}")
    if labels.dtype.kind not in "iu" and not np.array_equal(labels, np.round(labels)):
        raise TypeError(f"sparse_categorical_crossentropy: labels must be whole numbers; received {labels.dtype}")
    labels = labels.astype(np.int64)
    valid = np.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    labels = np.where(valid, labels, 0)
    classes = y_pred.shape[axis]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"sparse_categorical_crossentropy: labels must lie in [0, {classes}); received values "
                         f"from {labels.min()} to {labels.max()}")
    if ignore_class is not None:  # ignored rows become uniform: finite, and their gradient is zero
        y_pred = where(np.expand_dims(valid, axis), y_pred, 1.0)
    one_hot = np.moveaxis(np.eye(classes, dtype=y_pred.dtype)[labels], -1, axis)
    losses = -(_log_probabilities(y_pred, from_logits, axis) * one_hot).sum(axis=axis)
    if ignore_class is None:
        return losses
    losses = where(valid, losses, 0.0)
    setattr(losses, MASK_ATTRIBUTE, valid)
    return losses


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    y_true, y_pred = _operands(y_true, y_pred)
    _check_same_shape("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = sigmoid(y_pred)
    cross_entropy = _binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_pred * y_true + (1.0 - y_pred) * (1.0 - y_true)
    focal = (1.0 - p_t) ** gamma * cross_entropy
    if apply_class_balancing:
        focal = focal * (y_true * alpha + (1.0 - y_true) * (1.0 - alpha))
    return focal.mean(axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    y_true, y_pred = _operands(y_true, y_pred)
    _check_same_shape("categorical_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        y_pred = softmax(y_pred, axis=axis)
    probabilities = clip(y_pred / y_pred.sum(axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    cross_entropy = log(probabilities) * -y_true
    return ((1.0 - probabilities) ** gamma * alpha * cross_entropy).sum(axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p^q) / q with p = y_pred[label]: integer labels y_true (N,) or (N, 1) for probabilities y_pred
    (N, C) -> (N,). (Keras 3.15 broadcasts labels (N, 1) to an (N, N) result; here they mean what (N,) means.)

    q in (0, 1): towards 0 it behaves as cross-entropy, towards 1 as mean absolute error.
    """
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    classes = y_pred.shape[-1]
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"categorical_generalized_cross_entropy: labels must have shape {y_pred.shape[:-1]} for "
                         f"y_pred of shape {y_pred.shape}; received shape {labels.shape}")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"categorical_generalized_cross_entropy: labels must lie in [0, {classes}); received "
                         f"values from {labels.min()} to {labels.max()}")
    p = (y_pred * np.eye(classes, dtype=y_pred.dtype)[labels]).sum(axis=-1)
    return (1.0 - p ** q) / q


def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(t p) / (sum(t) + sum(p) + eps), the sums over `axis` (an int, a tuple, or None: all axes,
    a scalar). Keras' example: axis=(1, 2, 3) for masks (N, H, W, 1) gives (N,)."""
    y_true, y_pred = _operands(y_true, y_pred)
    intersection = (y_pred * y_true).sum(axis=axis)
    return 1.0 - intersection * 2.0 / (y_pred.sum(axis=axis) + np.sum(y_true, axis=axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN + eps), TP = sum(t p), FP = sum((1 - p) t), FN = sum(p (1 - t)) over
    `axis`, written as Keras 3.15 writes them (Salehi et al. 2017); alpha = beta = 0.5 is dice."""
    y_true, y_pred = _operands(y_true, y_pred)
    intersection = (y_pred * y_true).sum(axis=axis)
    false_positives = ((1.0 - y_pred) * y_true).sum(axis=axis)
    false_negatives = (y_pred * (1.0 - y_true)).sum(axis=axis)
    return 1.0 - intersection / (intersection + false_positives * alpha + false_negatives * beta + EPSILON)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al. 2020) of L2-normalized embeddings y_pred (N, D) with integer labels y_true (N,),
    against references (M, D) with labels (M,) (default: the batch itself) -> (N,).

    With cosine distances d = max(1 - y_pred ref^T, 0) (N, M), positives the pairs of one label (less the
    diagonal when remove_diagonal), negatives the others:

        pos = -gamma max(margin + d, 0) (margin - d)        over the positives
        neg =  gamma max(1 + margin - d, 0) (1 - margin - d) over the negatives
        loss = softplus(logsumexp(pos) + logsumexp(neg))

    A row without positives or without negatives gives 0; the result carries a mask of the values > 0 so
    that a batch mean counts only those (as Keras).
    """
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true).astype(np.int64).reshape(-1)
    references = y_pred if ref_embeddings is None else as_tensor(ref_embeddings)
    reference_labels = labels if ref_labels is None else np.asarray(ref_labels).astype(np.int64).reshape(-1)
    if y_pred.ndim != 2 or labels.shape != (y_pred.shape[0],) or references.ndim != 2 \
            or reference_labels.shape != (references.shape[0],):
        raise ValueError(f"circle: expects embeddings (N, D) with labels (N,) and references (M, D) with labels "
                         f"(M,); received {y_pred.shape} with {labels.shape} and {references.shape} with "
                         f"{reference_labels.shape}")
    distances = maximum(1.0 - matmul(y_pred, references.T), 0.0)
    positive = labels[:, None] == reference_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(*positive.shape, dtype=bool)
    positive_weights = maximum((distances + margin) * positive, 0.0)
    negative_weights = maximum((1.0 + margin - distances) * negative, 0.0)
    positive_logits = positive_weights * (distances - margin) * gamma
    negative_logits = negative_weights * (1.0 - margin - distances) * gamma
    counted = positive.any(axis=1) & negative.any(axis=1)
    total = _masked_logsumexp(positive_logits, positive, axis=1) + _masked_logsumexp(negative_logits, negative, axis=1)
    losses = where(counted, _softplus(where(counted, total, 0.0)), 0.0)
    setattr(losses, MASK_ATTRIBUTE, losses.data > 0)
    return losses


def ctc(y_true, y_pred):
    """Connectionist temporal classification (Graves et al. 2006): labels y_true (N, L) of integers, 0 the blank
    and the padding (each row's labels packed at the front), logits y_pred (N, T, C) -> (N,) = -log P(labels),
    the sum over every alignment of T frames to the labels (blanks anywhere, a label repeated over frames,
    a blank between equal neighbours) of prod_t softmax(y_pred[:, t])[aligned symbol].

    The forward algorithm in log space, over Tensor ops so that autodiff gives the gradient: the labels with
    blanks around and between them, l' (S = 2L + 1 states), and

        alpha_0 = (e_0(0), e_0(1), -inf, ...),  e_t(s) = log softmax(y_pred[:, t])[l'(s)]
        alpha_t(s) = e_t(s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s - 1), alpha_{t-1}(s - 2) if l'(s) is
                     a label other than l'(s - 2))
        loss = -logsumexp(alpha_{T-1}(S - 1), alpha_{T-1}(S - 2))

    Labels that no alignment fits in T frames give inf (as torch.nn.functional.ctc_loss), with gradient 0.
    """
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if labels.ndim != 2 or y_pred.ndim != 3 or labels.shape[0] != y_pred.shape[0]:
        raise ValueError(f"ctc: expects labels (N, L) and logits (N, T, C); received {labels.shape} and "
                         f"{y_pred.shape}")
    labels = labels.astype(np.int64)
    lengths = np.count_nonzero(labels, axis=1)
    packed = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    if np.any((labels != 0) != packed):
        raise ValueError(f"ctc: each row's labels must come first, 0 (the blank) only after them; received "
                         f"{labels.tolist()}")
    samples, frames, classes = y_pred.shape
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"ctc: labels must lie in [0, {classes}); received values from {labels.min()} to "
                         f"{labels.max()}")
    states = 2 * labels.shape[1] + 1
    extended = np.zeros((samples, states), np.int64)  # blank, l1, blank, l2, ..., blank
    extended[:, 1::2] = labels
    skip = np.zeros((samples, states), bool)  # may alpha(s) come from alpha(s - 2)?
    skip[:, 2:] = (extended[:, 2:] != 0) & (extended[:, 2:] != extended[:, :-2])
    emissions = log_softmax(y_pred, axis=-1)[np.arange(samples)[:, None, None], np.arange(frames)[None, :, None],
                                             extended[:, None, :]]  # (N, T, S)
    unreachable = np.finfo(y_pred.dtype).min / 4  # a finite -inf: exp gives 0, sums stay finite
    start = np.arange(states) < 2
    alpha = where(start, emissions[:, 0], unreachable)
    for t in range(1, frames):
        from_previous = pad(alpha, ((0, 0), (1, 0)), constant_value=unreachable)[:, :-1]
        from_skipped = where(skip, pad(alpha, ((0, 0), (2, 0)), constant_value=unreachable)[:, :-2], unreachable)
        alpha = emissions[:, t] + _logsumexp_of(stack([alpha, from_previous, from_skipped]))
    ends = np.stack([2 * lengths, np.maximum(2 * lengths - 1, 0)])
    last = alpha[np.arange(samples)[None, :], ends]
    last = where(np.stack([np.ones(samples, bool), lengths > 0]), last, unreachable)
    repeats = np.sum(packed[:, 1:] & (labels[:, 1:] == labels[:, :-1]), axis=1)
    fits = lengths + repeats <= frames
    return where(fits, -_logsumexp_of(last), np.inf)


# ---- shared pieces --------------------------------------------------------------------------------------------
def same_rank(y_true, y_pred):
    """Keras' squeeze_or_expand_to_same_rank: when the ranks differ by one and the longer has a last axis of
    1, drop that axis, or (for a rank-1 partner) add one to the partner: (N,) and (N, 1) meet as (N, 1)."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            return y_true, y_pred.reshape(-1, 1)
        return y_true[..., 0], y_pred
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            return y_true[:, None], y_pred
        return y_true, y_pred.reshape(y_pred.shape[:-1])
    return y_true, y_pred


def _operands(y_true, y_pred):
    """(y_true as an array in y_pred's dtype, y_pred as a Tensor)."""
    y_pred = as_tensor(y_pred)
    values = y_true.data if isinstance(y_true, Tensor) else y_true
    return np.asarray(values, dtype=y_pred.dtype), y_pred


def _check_same_shape(op, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same shape; received {y_true.shape} and "
                         f"{y_pred.shape}")


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), without overflow."""
    return maximum(x, 0.0) + log(exp(-abs(x)) + 1.0)


def _masked_logsumexp(x, mask, axis):
    """log sum(exp(x)) over the entries where `mask` (a constant boolean array) holds; 0 where none does
    (the caller drops those). The shift by the largest counted entry is a constant: the gradient is softmax."""
    shift = np.max(np.where(mask, x.data, -np.inf), axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0).astype(x.dtype)
    total = where(mask, exp(where(mask, x - shift, 0.0)), 0.0).sum(axis=axis)
    empty = ~mask.any(axis=axis)
    return log(where(empty, 1.0, total)) + np.squeeze(shift, axis=axis)


def _logsumexp_of(x):
    """log sum(exp(x)) over axis 0, shifted by the (constant) largest entry."""
    shift = np.max(x.data, axis=0)
    return log(exp(x - shift).sum(axis=0)) + shift


def _binary_crossentropy(y_true, y_pred, from_logits):
    """Elementwise -(t log p + (1 - t) log(1 - p)); from logits z: max(z, 0) - z t + log(1 + e^-|z|)."""
    if from_logits:
        return maximum(y_pred, 0.0) - y_pred * y_true + log(exp(-abs(y_pred)) + 1.0)
    p = clip(y_pred, EPSILON, 1.0 - EPSILON)
    return -(log(p) * y_true + log(1.0 - p) * (1.0 - y_true))


def _log_probabilities(y_pred, from_logits, axis):
    """log p along `axis`: log-softmax of logits, or of probabilities renormalized to sum 1 and clipped."""
    if from_logits:
        return log_softmax(y_pred, axis=axis)
    return log(clip(y_pred / y_pred.sum(axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON))


def _signed_labels(y_true):
    """0/1 labels as -1/+1 (Keras' convert_binary_labels_to_hinge); other labels unchanged."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true
