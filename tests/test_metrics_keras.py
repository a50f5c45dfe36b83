"""Stateful metrics against keras.metrics on random data over several batches (with sample weights and
reset_state), their configs and names, and compile's metric strings."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import re

import numpy as np
import pytest

import striate
from striate import metrics

pytestmark = IGNORE_KERAS_WARNINGS
N, C = 16, 5


def batch(kind, rng):
    """(y_true, y_pred) of one batch of a kind of problem."""
    if kind == "sparse":
        return rng.integers(0, C, size=N), rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    if kind == "sparse_column":
        return rng.integers(0, C, size=(N, 1)), rng.normal(size=(N, C)).astype(np.float32)
    if kind == "one_hot":
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, N)], rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    if kind == "binary":
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), rng.uniform(size=(N, 1)).astype(np.float32)
    if kind == "multi_label":
        return rng.integers(0, 2, size=(N, 3)).astype(np.float32), rng.uniform(size=(N, 3)).astype(np.float32)
    if kind == "logits":
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), rng.normal(size=(N, 1)).astype(np.float32) * 2
    if kind == "classes":
        return rng.integers(0, 4, size=(N, 3)), rng.integers(0, 4, size=(N, 3))
    if kind == "class_scores":
        return rng.integers(0, 4, size=(N, 6)), rng.normal(size=(N, 6, 4)).astype(np.float32)
    if kind == "regression":
        return rng.normal(size=(N, 3)).astype(np.float32), rng.normal(size=(N, 3)).astype(np.float32)
    if kind == "positive":
        return rng.uniform(0.1, 3, size=(N, 3)).astype(np.float32), rng.uniform(0.1, 3, size=(N, 3)).astype(np.float32)
    if kind == "values":
        return None, rng.normal(size=(N, 3)).astype(np.float32)
    raise ValueError(kind)


# case: (class name, constructor arguments, data kind)
CASES = {
    "accuracy": ("Accuracy", {}, "classes"),
    "binary_accuracy": ("BinaryAccuracy", {}, "binary"),
    "binary_accuracy_threshold": ("BinaryAccuracy", dict(threshold=0.7), "binary"),
    "categorical_accuracy": ("CategoricalAccuracy", {}, "one_hot"),
    "sparse_categorical_accuracy": ("SparseCategoricalAccuracy", {}, "sparse"),
    "sparse_categorical_accuracy_column": ("SparseCategoricalAccuracy", {}, "sparse_column"),
    "top_k": ("TopKCategoricalAccuracy", {}, "one_hot"),
    "top_2": ("TopKCategoricalAccuracy", dict(k=2), "one_hot"),
    "sparse_top_k": ("SparseTopKCategoricalAccuracy", {}, "sparse"),
    "sparse_top_3_column": ("SparseTopKCategoricalAccuracy", dict(k=3), "sparse_column"),
    "precision": ("Precision", {}, "binary"),
    "precision_thresholds": ("Precision", dict(thresholds=[0.2, 0.5, 0.8]), "multi_label"),
    "precision_top_k": ("Precision", dict(top_k=2), "multi_label"),
    "precision_class_id": ("Precision", dict(class_id=1, thresholds=0.4), "multi_label"),
    "recall": ("Recall", {}, "binary"),
    "recall_top_k_class_id": ("Recall", dict(top_k=2, class_id=2), "multi_label"),
    "true_positives": ("TruePositives", {}, "multi_label"),
    "false_negatives": ("FalseNegatives", dict(thresholds=[0.3, 0.6]), "binary"),
    "auc": ("AUC", {}, "binary"),
    "auc_pr": ("AUC", dict(curve="PR"), "binary"),
    "auc_pr_majoring": ("AUC", dict(curve="PR", summation_method="majoring", num_thresholds=50), "multi_label"),
    "auc_roc_minoring_logits": ("AUC", dict(summation_method="minoring", from_logits=True), "logits"),
    "auc_thresholds": ("AUC", dict(thresholds=[0.1, 0.3, 0.5, 0.9]), "binary"),
    "auc_multi_label": ("AUC", dict(multi_label=True, label_weights=[1.0, 2.0, 0.5]), "multi_label"),
    "mean_iou": ("MeanIoU", dict(num_classes=4), "classes"),
    "mean_iou_scores_ignore": ("MeanIoU", dict(num_classes=4, sparse_y_pred=False, ignore_class=0), "class_scores"),
    "mse": ("MeanSquaredError", {}, "regression"),
    "mae": ("MeanAbsoluteError", {}, "regression"),
    "rmse": ("RootMeanSquaredError", {}, "regression"),
    "mape": ("MeanAbsolutePercentageError", {}, "regression"),
    "msle": ("MeanSquaredLogarithmicError", {}, "positive"),
    "cosine": ("CosineSimilarity", {}, "regression"),
    "log_cosh": ("LogCoshError", {}, "regression"),
    "mean": ("Mean", {}, "values"),
    "sum": ("Sum", {}, "values"),
}


def run(metric, kind, weighted, seed=0):
    """The metric's result after three batches (after a reset that follows one thrown-away batch)."""
    rng = np.random.default_rng(seed)
    y_true, y_pred = batch(kind, rng)
    update(metric, y_true, y_pred, None)
    metric.reset_state()
    for _ in range(3):
        y_true, y_pred = batch(kind, rng)
        weights = rng.uniform(0, 2, size=N).astype(np.float32) if weighted else None
        if weighted and kind in ("classes", "class_scores"):
            # MeanIoU weighs each element (Keras flattens the weights with the labels), and Keras' counts are
            # int32, which truncates fractional weights: whole ones compare
            weights = rng.integers(0, 3, size=np.shape(y_true)).astype(np.float32)
        update(metric, y_true, y_pred, weights)
    return np.asarray(to_numpy(metric.result()), dtype=np.float64)


def update(metric, y_true, y_pred, weights):
    if y_true is None:
        metric.update_state(y_pred, sample_weight=weights)
    else:
        metric.update_state(y_true, y_pred, sample_weight=weights)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", CASES)
def test_metric_equals_keras_over_batches(case, weighted):
    class_name, arguments, kind = CASES[case]
    ours = run(getattr(metrics, class_name)(**arguments), kind, weighted)
    theirs = run(getattr(keras.metrics, class_name)(**arguments), kind, weighted)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_config_matches_keras(case):
    class_name, arguments, _ = CASES[case]
    ours, theirs = getattr(metrics, class_name)(**arguments), getattr(keras.metrics, class_name)(**arguments)
    theirs_config = theirs.get_config()
    ours_config = {key: value for key, value in ours.get_config().items() if key in theirs_config}
    # Keras' MeanIoU counts in int32, AUC lists its own thresholds, and Keras numbers repeated names (auc_1)
    for key in ("dtype", "thresholds", "name"):
        theirs_config.pop(key, None), ours_config.pop(key, None)
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)
    assert ours_config == {key: getattr(value, "tolist", lambda v=value: v)() for key, value in theirs_config.items()}
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()


NAMES = ["accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
         "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "precision", "recall", "auc", "mse",
         "mae", "mape", "msle", "mean_squared_error", "root_mean_squared_error", "cosine_similarity", "Precision",
         "Recall", "AUC", "RootMeanSquaredError", "TopKCategoricalAccuracy", "Mean", "Sum"]


@pytest.mark.parametrize("name", NAMES)
def test_name_gives_the_metric_keras_gives(name):
    # Keras gives a Metric for a class name, the per-sample function for a lower-case one (which compile
    # averages): the same value either way
    ours, theirs = metrics.get(name), keras.metrics.get(name)
    assert isinstance(ours, metrics.Metric) and ours.name == name
    rng = np.random.default_rng(5)
    y_true = np.eye(C, dtype=np.float32)[rng.integers(0, C, N)]
    y_pred = rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    if name.startswith("sparse"):
        y_true = y_true.argmax(axis=1)
    if name in ("Mean", "Sum"):
        ours.update_state(y_pred), theirs.update_state(y_pred)
        expected = to_numpy(theirs.result())
    elif isinstance(theirs, keras.metrics.Metric):
        ours.update_state(y_true, y_pred), theirs.update_state(y_true, y_pred)
        expected = to_numpy(theirs.result())
    else:
        ours.update_state(y_true, y_pred)
        expected = np.mean(to_numpy(theirs(y_true, y_pred)))
    assert float(ours.result()) == pytest.approx(float(expected), rel=1e-5, abs=1e-7)


def test_compile_metric_strings_report_keras_values():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    y = rng.integers(0, C, size=40)
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Dense(C, activation="softmax")])
    ours = striate.Sequential([striate.layers.Dense(C, activation="softmax", input_shape=(6,))])
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    names = ["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"]
    theirs.compile("sgd", "sparse_categorical_crossentropy", metrics=names)
    ours.compile("sgd", "sparse_categorical_crossentropy", metrics=names)
    expected = theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    received = ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    for name in ["loss", *names]:
        assert received[name] == pytest.approx(expected[name], rel=1e-5), name


def test_precision_recall_worked_example():
    # scores (0.9, 0.6, 0.4, 0.2) for labels (1, 0, 1, 0) at 0.5: TP 1, FP 1, FN 1
    precision, recall = metrics.Precision(), metrics.Recall()
    precision.update_state([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.2])
    recall.update_state([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.2])
    assert (precision.result(), recall.result()) == (0.5, 0.5)


def test_mean_iou_worked_example():
    # true (0, 0, 1, 1), predicted (0, 1, 1, 1): IoU_0 = 1 / 2, IoU_1 = 2 / 3
    metric = metrics.MeanIoU(num_classes=2)
    metric.update_state([0, 0, 1, 1], [0, 1, 1, 1])
    assert metric.result() == pytest.approx((1 / 2 + 2 / 3) / 2)


BAD_ARGUMENTS = {
    "unknown_name": (lambda: metrics.get("f2"), "metrics.get: unknown metric 'f2'"),
    "auc_curve": (lambda: metrics.AUC(curve="ROCK"), "AUC: curve must be 'ROC' or 'PR'"),
    "threshold_above_one": (lambda: metrics.Precision(thresholds=1.5), r"Precision: thresholds must be numbers in \[0"),
    "iou_class_out_of_range": (lambda: metrics.MeanIoU(2).update_state([0, 3], [0, 1]),
                               r"mean_io_u: class ids must lie in \[0, 2\)"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
