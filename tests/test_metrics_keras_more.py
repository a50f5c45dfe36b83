"""The metrics added beside tests/test_metrics_keras.py (F-scores, IoUs, R2, correlations, rates at a
constraint, losses as metrics, the lower-case functions) against keras.metrics on random data over several
batches, with and without sample weights, their configs, and the names compile accepts."""

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
    if kind == "multi_label":
        return rng.integers(0, 2, size=(N, C)).astype(np.float32), rng.uniform(size=(N, C)).astype(np.float32)
    if kind == "one_hot":
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, N)], rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    if kind == "one_hot_logits":
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, N)], rng.normal(size=(N, C)).astype(np.float32) * 2
    if kind == "sparse":
        return rng.integers(0, C, size=N), rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    if kind == "binary":
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), rng.uniform(size=(N, 1)).astype(np.float32)
    if kind == "binary_flat":
        return rng.integers(0, 2, size=N).astype(np.float32), rng.uniform(size=N).astype(np.float32)
    if kind == "hinge":
        return rng.integers(0, 2, size=(N, 3)).astype(np.float32), rng.normal(size=(N, 3)).astype(np.float32)
    if kind == "classes":
        return rng.integers(0, 4, size=(N, 3)), rng.integers(0, 4, size=(N, 3))
    if kind == "regression":
        y_true = rng.normal(size=(N, 3)).astype(np.float32)
        return y_true, (y_true + rng.normal(scale=0.7, size=(N, 3))).astype(np.float32)
    if kind == "distribution":
        return tuple(rng.dirichlet(np.ones(C), size=N).astype(np.float32) for _ in range(2))
    if kind == "positive":
        return rng.poisson(2.0, size=(N, 3)).astype(np.float32), rng.uniform(0.1, 3, size=(N, 3)).astype(np.float32)
    raise ValueError(kind)


# case: (class name, constructor arguments, data kind)
CASES = {
    "f1": ("F1Score", {}, "multi_label"),
    "f1_threshold_micro": ("F1Score", dict(average="micro", threshold=0.5), "multi_label"),
    "f1_macro": ("F1Score", dict(average="macro"), "one_hot"),
    "f1_weighted": ("F1Score", dict(average="weighted", threshold=0.4), "multi_label"),
    "fbeta_2": ("FBetaScore", dict(beta=2.0, threshold=0.3), "multi_label"),
    "fbeta_half_macro": ("FBetaScore", dict(average="macro", beta=0.5), "one_hot"),
    "iou": ("IoU", dict(num_classes=4, target_class_ids=[0, 2]), "classes"),
    "iou_ignore": ("IoU", dict(num_classes=4, target_class_ids=[1, 3], ignore_class=0), "classes"),
    "binary_iou": ("BinaryIoU", {}, "binary"),
    "binary_iou_one_class": ("BinaryIoU", dict(target_class_ids=[1], threshold=0.3), "binary_flat"),
    "one_hot_iou": ("OneHotIoU", dict(num_classes=C, target_class_ids=[0, 1, 4]), "one_hot"),
    "one_hot_mean_iou": ("OneHotMeanIoU", dict(num_classes=C), "one_hot"),
    "r2": ("R2Score", {}, "regression"),
    "r2_variance_weighted": ("R2Score", dict(class_aggregation="variance_weighted_average"), "regression"),
    "r2_per_column": ("R2Score", dict(class_aggregation=None), "regression"),
    "r2_adjusted": ("R2Score", dict(num_regressors=3), "regression"),
    "pearson": ("PearsonCorrelation", {}, "regression"),
    "concordance": ("ConcordanceCorrelation", {}, "regression"),
    "precision_at_recall": ("PrecisionAtRecall", dict(recall=0.6), "binary"),
    "precision_at_recall_class": ("PrecisionAtRecall", dict(recall=0.5, num_thresholds=20, class_id=2),
                                  "multi_label"),
    "recall_at_precision": ("RecallAtPrecision", dict(precision=0.5, num_thresholds=50), "multi_label"),
    "sensitivity_at_specificity": ("SensitivityAtSpecificity", dict(specificity=0.7), "binary"),
    "specificity_at_sensitivity": ("SpecificityAtSensitivity", dict(sensitivity=0.4, num_thresholds=1), "binary"),
    "specificity_at_sensitivity_100": ("SpecificityAtSensitivity", dict(sensitivity=0.8, num_thresholds=100),
                                       "multi_label"),
    "bce": ("BinaryCrossentropy", {}, "binary"),
    "bce_logits_smoothing": ("BinaryCrossentropy", dict(from_logits=True, label_smoothing=0.1), "hinge"),
    "cce": ("CategoricalCrossentropy", {}, "one_hot"),
    "cce_logits_smoothing": ("CategoricalCrossentropy", dict(from_logits=True, label_smoothing=0.2),
                             "one_hot_logits"),
    "scce": ("SparseCategoricalCrossentropy", {}, "sparse"),
    "scce_ignore_class": ("SparseCategoricalCrossentropy", dict(ignore_class=0, from_logits=True), "sparse"),
    "kld": ("KLDivergence", {}, "distribution"),
    "poisson": ("Poisson", {}, "positive"),
    "hinge": ("Hinge", {}, "hinge"),
    "squared_hinge": ("SquaredHinge", {}, "hinge"),
    "categorical_hinge": ("CategoricalHinge", {}, "one_hot_logits"),
}


def run(metric, kind, weighted, seed=0):
    """The metric's result after three batches (after a reset that follows one thrown-away batch)."""
    rng = np.random.default_rng(seed)
    metric.update_state(*batch(kind, rng))
    metric.reset_state()
    for _ in range(3):
        y_true, y_pred = batch(kind, rng)
        weights = rng.uniform(0, 2, size=N).astype(np.float32) if weighted else None
        if weighted and kind == "classes":  # Keras' IoU weighs each element, flattened with the labels
            weights = rng.uniform(0, 2, size=np.shape(y_true)).astype(np.float32)
        metric.update_state(y_true, y_pred, sample_weight=weights)
    return np.asarray(to_numpy(metric.result()), dtype=np.float64)


def keras_metric(class_name, arguments):
    # Keras' IoUs count in int32 (fractional weights truncate): float32 counts compare with striate's
    if "IoU" in class_name:
        arguments = {**arguments, "dtype": "float32"}
    return getattr(keras.metrics, class_name)(**arguments)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", CASES)
def test_metric_equals_keras_over_batches(case, weighted):
    class_name, arguments, kind = CASES[case]
    ours = run(getattr(metrics, class_name)(**arguments), kind, weighted)
    theirs = run(keras_metric(class_name, arguments), kind, weighted)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_config_matches_keras(case):
    class_name, arguments, _ = CASES[case]
    ours, theirs = getattr(metrics, class_name)(**arguments), getattr(keras.metrics, class_name)(**arguments)
    theirs_config = theirs.get_config()
    assert set(ours.get_config()) == set(theirs_config)
    for key in ("dtype", "name"):  # Keras numbers repeated names (f1_score_1) and counts IoUs in int32
        theirs_config.pop(key)
    ours_config = {key: value for key, value in ours.get_config().items() if key in theirs_config}
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)
    assert ours_config == theirs_config
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()


FUNCTIONS = {
    "binary_crossentropy": "binary", "binary_focal_crossentropy": "binary", "categorical_crossentropy": "one_hot",
    "categorical_focal_crossentropy": "one_hot", "sparse_categorical_crossentropy": "sparse",
    "categorical_hinge": "one_hot_logits", "hinge": "hinge", "squared_hinge": "hinge", "huber": "regression",
    "kl_divergence": "distribution", "log_cosh": "regression", "mean_absolute_error": "regression",
    "mean_absolute_percentage_error": "regression", "mean_squared_error": "regression",
    "mean_squared_logarithmic_error": "positive", "poisson": "positive", "pearson_correlation": "regression",
    "concordance_correlation": "regression", "binary_accuracy": "binary", "categorical_accuracy": "one_hot",
    "sparse_categorical_accuracy": "sparse", "top_k_categorical_accuracy": "one_hot",
    "sparse_top_k_categorical_accuracy": "sparse",
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_gives_keras_values_per_sample(name):
    y_true, y_pred = batch(FUNCTIONS[name], np.random.default_rng(3))
    ours = np.asarray(getattr(metrics, name)(y_true, y_pred))
    theirs = to_numpy(getattr(keras.metrics, name)(y_true, y_pred))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


NAMES = ["f1_score", "f_beta_score", "r2_score", "pearson_correlation", "concordance_correlation", "bce",
         "binary_crossentropy", "categorical_crossentropy", "kl_divergence", "poisson", "hinge", "squared_hinge",
         "categorical_hinge", "F1Score", "KLDivergence"]


@pytest.mark.parametrize("name", NAMES)
def test_name_gives_the_metric_keras_gives(name):
    # Keras gives a Metric for a class's name, the per-sample function for a function's (compile averages it)
    ours, theirs = metrics.get(name), keras.metrics.get(name)
    assert isinstance(ours, metrics.Metric) and ours.name == name
    kind = "one_hot" if name in ("f1_score", "f_beta_score", "F1Score") else "distribution"
    y_true, y_pred = batch("regression" if name == "r2_score" else kind,
                           np.random.default_rng(5))
    ours.update_state(y_true, y_pred)
    if isinstance(theirs, keras.metrics.Metric):
        theirs.update_state(y_true, y_pred)
        expected = to_numpy(theirs.result())
    else:
        expected = np.mean(to_numpy(theirs(y_true, y_pred)))
    np.testing.assert_allclose(np.asarray(ours.result()), expected, rtol=1e-5, atol=1e-6)


def test_compile_metric_strings_and_objects_report_keras_values():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    y = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=40)]
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Dense(C, activation="softmax")])
    ours = striate.Sequential([striate.layers.Dense(C, activation="softmax", input_shape=(6,))])
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    names = ["categorical_accuracy", "kl_divergence", "categorical_hinge"]
    theirs.compile("sgd", "categorical_crossentropy",
                   metrics=[*names, keras.metrics.F1Score(average="macro", name="f1"),
                            keras.metrics.OneHotMeanIoU(C, name="iou", dtype="float32")])
    ours.compile("sgd", "categorical_crossentropy",
                 metrics=[*names, metrics.F1Score(average="macro", name="f1"),
                          metrics.OneHotMeanIoU(C, name="iou")])
    expected = theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    received = ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert set(received) == set(expected)
    for name in expected:
        assert received[name] == pytest.approx(expected[name], rel=1e-5), name


def test_pearson_along_the_batch_axis_equals_keras():
    y_true, y_pred = batch("regression", np.random.default_rng(6))
    ours, theirs = metrics.PearsonCorrelation(axis=0), keras.metrics.PearsonCorrelation(axis=0)
    ours.update_state(y_true, y_pred), theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(ours.result(), to_numpy(theirs.result()), rtol=1e-5)


def test_f1_worked_example():
    # class 0: TP 1, FP 1, FN 0 -> P 1/2, R 1, F1 2/3; class 1: TP 1, FP 0, FN 1 -> P 1, R 1/2, F1 2/3
    metric = metrics.F1Score(threshold=0.5)
    metric.update_state([[1, 0], [0, 1], [0, 1]], [[0.9, 0.1], [0.8, 0.6], [0.2, 0.3]])
    np.testing.assert_allclose(metric.result(), [2 / 3, 2 / 3], rtol=1e-6)


def test_r2_worked_example():
    # y = (1, 2, 3), p = (1, 2, 4): SS_res = 1, SS_tot = 2, R^2 = 1/2
    metric = metrics.R2Score()
    metric.update_state(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [4.0]]))
    assert metric.result() == pytest.approx(0.5)


def test_binary_iou_worked_example():
    # Keras' example: threshold 0.3 predicts (0, 0, 1, 1) for labels (0, 1, 0, 1); cm [[1, 1], [1, 1]]
    metric = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    metric.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    assert metric.result() == pytest.approx(1 / 3, rel=1e-6)


BAD_ARGUMENTS = {
    "f_average": (lambda: metrics.F1Score(average="sample"), "F1Score: average must be one of"),
    "f_beta_int": (lambda: metrics.FBetaScore(beta=2), "FBetaScore: beta must be a float > 0; received 2"),
    "f_rank": (lambda: metrics.F1Score().update_state(np.ones(3), np.ones(3)), r"F1Score: expects .* \(N, C\)"),
    "iou_targets": (lambda: metrics.IoU(3, [0, 3]), r"IoU: target_class_ids must be classes in \[0, 3\)"),
    "r2_aggregation": (lambda: metrics.R2Score(class_aggregation="mean"), "R2Score: class_aggregation must be"),
    "at_value": (lambda: metrics.PrecisionAtRecall(1.5), r"PrecisionAtRecall: recall must lie in \[0, 1\]"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
