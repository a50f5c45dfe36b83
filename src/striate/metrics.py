"""Keras' `metrics` module: the stateful Metric classes of striate.metric_objects (Precision, Recall, AUC,
MeanIoU, accuracies, Mean, ..., and `get` for compile's names), and classification metrics as stateless NumPy
functions over labels, all read off one confusion matrix (below).

Every function takes `y_true` as class indices (N,) or one-hot rows (N, K), and `y_pred` as class indices
(N,) or scores / probabilities (N, K), of which the argmax is taken. Anything `np.asarray` accepts works,
a striate Tensor included.

For a binary problem the lectures' 2x2 table (rows = target, columns = prediction) is

                    predicted positive   predicted negative
    true positive          TP                   FN
    true negative          FP                   TN

and, per class c of a K-class problem, class c plays "positive" and all other classes "negative":

    accuracy               = (TP + TN) / (TP + TN + FP + FN)
    misclassification_rate = (FP + FN) / (TP + TN + FP + FN) = 1 - accuracy
    precision              = TP / (TP + FP)
    recall                 = TP / (TP + FN)
    F1                     = 2 * precision * recall / (precision + recall) = 2 TP / (2 TP + FP + FN)

A ratio with a zero denominator is 0, as scikit-learn's `zero_division=0`.

    >>> import numpy as np
    >>> y_true = np.array([0, 0, 1, 1, 2])
    >>> y_pred = np.array([0, 1, 1, 1, 2])
    >>> confusion_matrix(y_true, y_pred)
    array([[1, 1, 0],
           [0, 2, 0],
           [0, 0, 1]])
    >>> accuracy(y_true, y_pred)
    0.8
    >>> precision(y_true, y_pred)
    array([1.        , 0.66666667, 1.        ])
"""

import numpy as np

# Keras' stateful metrics (keras.metrics: Precision, AUC, MeanIoU, ..., get), beside the functions below
from striate.metric_objects import (  # noqa: F401 (re-exported: striate.metrics is Keras' metrics module)
    AUC,
    Accuracy,
    BinaryAccuracy,
    BinaryCrossentropy,
    BinaryIoU,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    CategoricalHinge,
    ConcordanceCorrelation,
    CosineSimilarity,
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    Hinge,
    IoU,
    KLDivergence,
    LogCoshError,
    Mean,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanIoU,
    MeanMetricWrapper,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Metric,
    OneHotIoU,
    OneHotMeanIoU,
    PearsonCorrelation,
    Poisson,
    Precision,
    PrecisionAtRecall,
    R2Score,
    Recall,
    RecallAtPrecision,
    RootMeanSquaredError,
    SensitivityAtSpecificity,
    SparseCategoricalAccuracy,
    SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy,
    SpecificityAtSensitivity,
    SquaredHinge,
    Sum,
    TopKCategoricalAccuracy,
    TrueNegatives,
    TruePositives,
    binary_accuracy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_accuracy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    concordance_correlation,
    deserialize,
    get,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    pearson_correlation,
    poisson,
    serialize,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy,
    squared_hinge,
    top_k_categorical_accuracy,
)

AVERAGES = (None, "macro", "micro", "weighted")


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Counts of (true class, predicted class) pairs: C[i, j] = #{n : y_true[n] = i and y_pred[n] = j}.

    Rows are the true class, columns the predicted class (scikit-learn's convention), so row sums are the
    support of each class and column sums the number of predictions of it.

    Args:
        y_true: (N,) class indices or (N, K) one-hot rows.
        y_pred: (N,) class indices or (N, K) scores / probabilities (argmax taken).
        num_classes: K. Default: the width of an (N, K) input, else the largest label + 1.

    Shape:
        Output (K, K), int64.
    """
    return _confusion("confusion_matrix", y_true, y_pred, num_classes)


def accuracy(y_true, y_pred):
    """Fraction of correct predictions, (TP + TN) / (TP + TN + FP + FN); for K classes trace(C) / N."""
    cm = _confusion("accuracy", y_true, y_pred, None)
    return float(np.trace(cm) / cm.sum())


def misclassification_rate(y_true, y_pred):
    """Fraction of wrong predictions, (FP + FN) / (TP + TN + FP + FN) = 1 - accuracy."""
    cm = _confusion("misclassification_rate", y_true, y_pred, None)
    return float(1 - np.trace(cm) / cm.sum())


def precision(y_true, y_pred, average=None, num_classes=None):
    """Precision TP / (TP + FP): of the samples predicted as class c, the fraction that truly are c.

    0 for a class never predicted.

    Args:
        average: None gives the per-class array (K,). "macro": unweighted mean over the K classes (a class
            absent from both inputs counts as 0). "micro": sum TP / sum (TP + FP) over classes, which equals
            accuracy for single-label data. "weighted": mean over classes weighted by their support.
        num_classes: K, as in `confusion_matrix`.
    """
    tp, predicted, support = _class_counts("precision", y_true, y_pred, average, num_classes)
    return _average(tp, predicted, support, average)


def recall(y_true, y_pred, average=None, num_classes=None):
    """Recall TP / (TP + FN): of the samples of class c, the fraction predicted as c.

    0 for a class with no true samples. `average` and `num_classes` as in `precision`.
    """
    tp, _, support = _class_counts("recall", y_true, y_pred, average, num_classes)
    return _average(tp, support, support, average)


def f1_score(y_true, y_pred, average=None, num_classes=None):
    """F1 = 2 * precision * recall / (precision + recall) = 2 TP / (2 TP + FP + FN), their harmonic mean.

    0 where precision + recall is 0. `average` and `num_classes` as in `precision`; "macro" and "weighted"
    average the per-class F1 (scikit-learn's definition), not the F1 of averaged precision and recall.
    """
    tp, predicted, support = _class_counts("f1_score", y_true, y_pred, average, num_classes)
    return _average(2 * tp, predicted + support, support, average)


def classification_report(y_true, y_pred, class_names=None, digits=4):
    """Per-class precision, recall, F1 and support, then accuracy, macro and weighted averages.

    The layout is scikit-learn's `classification_report`.

    Args:
        class_names: one name per class; K is then len(class_names). Default: the class indices.
        digits: decimal places of the scores.

    >>> print(classification_report([0, 0, 1, 1], [0, 1, 1, 1], class_names=["ham", "spam"], digits=2))
                  precision    recall  f1-score   support
    <BLANKLINE>
             ham       1.00      0.50      0.67         2
            spam       0.67      1.00      0.80         2
    <BLANKLINE>
        accuracy                           0.75         4
       macro avg       0.83      0.75      0.73         4
    weighted avg       0.83      0.75      0.73         4
    <BLANKLINE>
    """
    name = "classification_report"
    num_classes = None if class_names is None else len(class_names)
    cm = _confusion(name, y_true, y_pred, num_classes)
    if class_names is None:
        class_names = [str(c) for c in range(len(cm))]
    tp, predicted, support = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
    total = int(support.sum())
    scores = [(tp, predicted), (tp, support), (2 * tp, predicted + support)]

    width = max(len("weighted avg"), digits, *(len(str(c)) for c in class_names))
    header = "{:>{width}} " + " {:>9}" * 4 + "\n\n"
    row = "{:>{width}} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    lines = header.format("", "precision", "recall", "f1-score", "support", width=width)
    per_class = np.stack([_average(num, den, support, None) for num, den in scores], axis=1)
    for class_name, values, count in zip(class_names, per_class, support, strict=True):
        lines += row.format(str(class_name), *values, count, width=width, digits=digits)
    lines += "\n"
    accuracy_row = "{:>{width}} " + " {:>9}" * 2 + " {:>9.{digits}f} {:>9}\n"
    lines += accuracy_row.format("accuracy", "", "", np.trace(cm) / total, total, width=width, digits=digits)
    for label, average in (("macro avg", "macro"), ("weighted avg", "weighted")):
        values = [_average(num, den, support, average) for num, den in scores]
        lines += row.format(label, *values, total, width=width, digits=digits)
    return lines


def binary_counts(y_true, y_pred, positive=1):
    """The 2x2 table's four counts for class `positive` against all others: a dict TP, FN, FP, TN.

    TP: true positive, predicted positive. FN: true positive, predicted negative.
    FP: true negative, predicted positive. TN: true negative, predicted negative.

    >>> binary_counts([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
    {'TP': 1, 'FN': 1, 'FP': 1, 'TN': 2}
    """
    cm = _confusion("binary_counts", y_true, y_pred, None)
    if not 0 <= positive < len(cm):
        raise ValueError(f"binary_counts: positive must be one of the classes 0..{len(cm) - 1}; "
                         f"received positive={positive}")
    tp = int(cm[positive, positive])
    fn = int(cm[positive].sum()) - tp
    fp = int(cm[:, positive].sum()) - tp
    return {"TP": tp, "FN": fn, "FP": fp, "TN": int(cm.sum()) - tp - fn - fp}


def _confusion(name, y_true, y_pred, num_classes):
    true_labels, true_width = _labels(name, "y_true", y_true)
    pred_labels, pred_width = _labels(name, "y_pred", y_pred)
    shapes = f"received shapes {np.shape(y_true)} and {np.shape(y_pred)}"
    if len(true_labels) != len(pred_labels):
        raise ValueError(f"{name}: y_true and y_pred must hold the same number of samples; {shapes}")
    if len(true_labels) == 0:
        raise ValueError(f"{name}: needs at least one sample; {shapes}")
    if num_classes is not None and (not isinstance(num_classes, int | np.integer) or num_classes < 1):
        raise ValueError(f"{name}: num_classes must be a positive integer; received {num_classes!r}")
    widths = {"num_classes": num_classes, "y_true width": true_width, "y_pred width": pred_width}
    widths = {source: width for source, width in widths.items() if width is not None}
    if len(set(widths.values())) > 1:
        raise ValueError(f"{name}: the number of classes disagrees between inputs; received {widths}")
    k = next(iter(widths.values()), None)
    if k is None:
        k = int(max(true_labels.max(), pred_labels.max())) + 1
    for role, labels in (("y_true", true_labels), ("y_pred", pred_labels)):
        outside = labels[(labels < 0) | (labels >= k)]
        if outside.size:
            raise ValueError(f"{name}: {role} labels must lie in 0..{k - 1} for {k} classes; "
                             f"received label {outside[0]}")
    return np.bincount(true_labels * k + pred_labels, minlength=k * k).reshape(k, k).astype(np.int64)


def _labels(name, role, y):
    """(N,) int64 class indices and the class count K of an (N, K) input (None for (N,) input)."""
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape[1] == 0:
            raise ValueError(f"{name}: {role} scores need at least one class; received shape {y.shape}")
        return y.argmax(axis=1).astype(np.int64), y.shape[1]
    if y.ndim != 1:
        raise ValueError(f"{name}: {role} must be class indices (N,) or scores (N, K); "
                         f"received shape {y.shape}")
    if y.dtype.kind not in "biuf" or not np.array_equal(y, np.round(y)):
        raise TypeError(f"{name}: {role} class indices must be whole numbers (pass scores as (N, K)); "
                        f"received dtype {y.dtype}")
    return y.astype(np.int64), None


def _class_counts(name, y_true, y_pred, average, num_classes):
    """Per-class TP, predictions (TP + FP) and support (TP + FN), after checking `average`."""
    if average not in AVERAGES:
        raise ValueError(f"{name}: average must be one of {AVERAGES}; received {average!r}")
    cm = _confusion(name, y_true, y_pred, num_classes)
    return np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)


def _average(numerator, denominator, support, average):
    """numerator / denominator per class (0 where the denominator is 0), then reduced as `average` says."""
    if average == "micro":
        return _ratio(numerator.sum(), denominator.sum()).item()
    per_class = _ratio(numerator, denominator)
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    return float(np.average(per_class, weights=support))


def _ratio(numerator, denominator):
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)
