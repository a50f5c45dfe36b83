"""striate.metrics: the lecture's spam/ham example by hand, scikit-learn as oracle, input forms, errors."""

import doctest

import numpy as np
import pytest

import striate
from striate import metrics
from striate.metrics import (
    accuracy,
    binary_counts,
    classification_report,
    confusion_matrix,
    f1_score,
    misclassification_rate,
    precision,
    recall,
)

# --------------------------------------------------------------------------------------------------
# The lecture's spam/ham table (seed 000, "Evaluation Metrics"): 20 e-mails, target and prediction.
# Its counts are consistent: TP 6 (ids 4 6 8 9 10 18), FN 3 (1 2 12), FP 2 (17 20), TN 9, and so are
# its accuracy 0.75 and misclassification rate 0.25. The slide's headings are swapped, though: the
# formula (TP + TN) / total = 0.75 sits under "Misclassification accuracy" and (FP + FN) / total = 0.25
# under "Classification accuracy". The slide gives no precision, recall or F1; those are worked here.
# --------------------------------------------------------------------------------------------------

HAM, SPAM = 0, 1
TARGET = "spam spam ham spam ham spam ham spam spam spam ham spam ham ham ham ham ham spam ham ham".split()
PREDICTION = "ham ham ham spam ham spam ham spam spam spam ham ham ham ham ham ham spam spam ham spam".split()
SPAM_TRUE = np.array([SPAM if t == "spam" else HAM for t in TARGET])
SPAM_PRED = np.array([SPAM if p == "spam" else HAM for p in PREDICTION])


def test_spam_table_counts_match_the_slide():
    assert binary_counts(SPAM_TRUE, SPAM_PRED, positive=SPAM) == {"TP": 6, "FN": 3, "FP": 2, "TN": 9}
    # The slide's matrix lists spam first: [[TP, FN], [FP, TN]] = [[6, 3], [2, 9]].
    np.testing.assert_array_equal(confusion_matrix(SPAM_TRUE, SPAM_PRED)[::-1, ::-1], [[6, 3], [2, 9]])
    # With ham as the positive class the roles swap: TP 9, FN 2, FP 3, TN 6.
    assert binary_counts(SPAM_TRUE, SPAM_PRED, positive=HAM) == {"TP": 9, "FN": 2, "FP": 3, "TN": 6}


def test_spam_table_accuracy_and_misclassification():
    assert accuracy(SPAM_TRUE, SPAM_PRED) == pytest.approx((6 + 9) / 20)  # 0.75
    assert misclassification_rate(SPAM_TRUE, SPAM_PRED) == pytest.approx((2 + 3) / 20)  # 0.25


def test_spam_table_per_class_precision_recall_f1():
    spam_p, spam_r = 6 / (6 + 2), 6 / (6 + 3)  # TP / (TP + FP), TP / (TP + FN)
    ham_p, ham_r = 9 / (9 + 3), 9 / (9 + 2)
    spam_f1 = 2 * spam_p * spam_r / (spam_p + spam_r)  # = 12/17
    ham_f1 = 2 * ham_p * ham_r / (ham_p + ham_r)  # = 18/23
    np.testing.assert_allclose(precision(SPAM_TRUE, SPAM_PRED), [ham_p, spam_p])
    np.testing.assert_allclose(recall(SPAM_TRUE, SPAM_PRED), [ham_r, spam_r])
    np.testing.assert_allclose(f1_score(SPAM_TRUE, SPAM_PRED), [ham_f1, spam_f1])
    assert spam_f1 == pytest.approx(12 / 17) and ham_f1 == pytest.approx(18 / 23)


def test_spam_table_averages():
    ham_support, spam_support = 11, 9
    per_class = {
        precision: (9 / 12, 6 / 8),
        recall: (9 / 11, 6 / 9),
        f1_score: (18 / 23, 12 / 17),
    }
    for metric, (ham, spam) in per_class.items():
        assert metric(SPAM_TRUE, SPAM_PRED, average="macro") == pytest.approx((ham + spam) / 2)
        weighted = (ham_support * ham + spam_support * spam) / 20
        assert metric(SPAM_TRUE, SPAM_PRED, average="weighted") == pytest.approx(weighted)
        # micro pools TP, FP, FN over both classes: (6 + 9) / 20, the accuracy.
        assert metric(SPAM_TRUE, SPAM_PRED, average="micro") == pytest.approx(0.75)


# --------------------------------------------------------------------------------------------------
# scikit-learn as the oracle: random 5-class labels where class 3 is never predicted
# --------------------------------------------------------------------------------------------------

K = 5
SKLEARN_NAMES = {"precision": "precision_score", "recall": "recall_score", "f1_score": "f1_score"}


def random_labels(seed, n=300):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, K, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, K, n))
    y_pred[y_pred == 3] = 4  # class 3 is never predicted: its precision is undefined, reported as 0
    return y_true, y_pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_matrix_matches_sklearn(seed):
    sk_metrics = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = random_labels(seed)
    expected = sk_metrics.confusion_matrix(y_true, y_pred, labels=range(K))
    result = confusion_matrix(y_true, y_pred)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    assert accuracy(y_true, y_pred) == pytest.approx(sk_metrics.accuracy_score(y_true, y_pred))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
@pytest.mark.parametrize("name", ["precision", "recall", "f1_score"])
def test_precision_recall_f1_match_sklearn(name, average, seed):
    sk_metrics = pytest.importorskip("sklearn.metrics")
    sk_function = getattr(sk_metrics, SKLEARN_NAMES[name])
    y_true, y_pred = random_labels(seed)
    expected = sk_function(y_true, y_pred, labels=range(K), average=average, zero_division=0)
    np.testing.assert_allclose(getattr(metrics, name)(y_true, y_pred, average=average), expected)


@pytest.mark.parametrize("average", [None, "macro", "weighted"])
@pytest.mark.parametrize("name", ["precision", "recall", "f1_score"])
def test_class_absent_from_both_inputs_scores_zero_as_sklearn(name, average):
    sk_metrics = pytest.importorskip("sklearn.metrics")
    sk_function = getattr(sk_metrics, SKLEARN_NAMES[name])
    y_true, y_pred = random_labels(3)
    expected = sk_function(y_true, y_pred, labels=range(K + 1), average=average, zero_division=0)
    result = getattr(metrics, name)(y_true, y_pred, average=average, num_classes=K + 1)
    np.testing.assert_allclose(result, expected)


@pytest.mark.parametrize("digits", [2, 4])
@pytest.mark.parametrize("class_names", [None, ["cat", "dog", "bird", "a long class name", "fish"]])
def test_classification_report_matches_sklearn_text(class_names, digits):
    sk_metrics = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = random_labels(4)
    expected = sk_metrics.classification_report(
        y_true, y_pred, labels=range(K), target_names=class_names, digits=digits, zero_division=0
    )
    assert classification_report(y_true, y_pred, class_names=class_names, digits=digits) == expected


# --------------------------------------------------------------------------------------------------
# Input forms
# --------------------------------------------------------------------------------------------------


def test_scores_and_one_hot_inputs_equal_their_indices():
    rng = np.random.default_rng(5)
    y_true, y_pred = random_labels(5, n=50)
    scores = rng.random((50, K))
    scores[np.arange(50), y_pred] += 1.0  # argmax of each row is y_pred
    one_hot = np.eye(K)[y_true]
    expected = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(confusion_matrix(one_hot, scores), expected)
    np.testing.assert_array_equal(confusion_matrix(y_true, striate.Tensor(scores)), expected)
    np.testing.assert_allclose(f1_score(one_hot, scores), f1_score(y_true, y_pred))
    assert accuracy(one_hot, scores) == accuracy(y_true, y_pred)


def test_num_classes_comes_from_scores_width_even_when_top_class_is_unused():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0]])
    np.testing.assert_array_equal(confusion_matrix([0, 1], scores), [[1, 0, 0], [0, 1, 0], [0, 0, 0]])


def test_whole_float_and_bool_labels_are_accepted():
    np.testing.assert_array_equal(confusion_matrix([0.0, 1.0, 1.0], [0, 1, 0]), [[1, 0], [1, 1]])
    assert binary_counts([True, True, False], [True, False, False]) == {"TP": 1, "FN": 1, "FP": 0, "TN": 1}


def test_misclassification_rate_is_one_minus_accuracy():
    y_true, y_pred = random_labels(6)
    assert misclassification_rate(y_true, y_pred) == pytest.approx(1 - accuracy(y_true, y_pred))


def test_docstring_examples_run():
    assert doctest.testmod(metrics).failed == 0


# --------------------------------------------------------------------------------------------------
# Errors name the function and what was received
# --------------------------------------------------------------------------------------------------


ERROR_CASES = [
    pytest.param(
        lambda: accuracy([0, 1, 1], [0, 1]),
        r"accuracy: .*same number of samples; received shapes \(3,\) and \(2,\)",
        id="lengths differ",
    ),
    pytest.param(
        lambda: precision(np.eye(3), [0, 1]),
        r"precision: .*same number of samples; received shapes \(3, 3\) and \(2,\)",
        id="one-hot and indices lengths differ",
    ),
    pytest.param(
        lambda: recall([], []),
        r"recall: needs at least one sample; received shapes \(0,\) and \(0,\)",
        id="empty",
    ),
    pytest.param(
        lambda: f1_score(np.zeros((0, 3)), []),
        r"f1_score: needs at least one sample; received shapes \(0, 3\) and \(0,\)",
        id="empty scores",
    ),
    pytest.param(
        lambda: confusion_matrix([0, 3], [0, 1], num_classes=3),
        r"confusion_matrix: y_true labels must lie in 0\.\.2 for 3 classes; received label 3",
        id="label above num_classes",
    ),
    pytest.param(
        lambda: confusion_matrix([0, 1], [-1, 1]),
        r"confusion_matrix: y_pred labels must lie in 0\.\.1 for 2 classes; received label -1",
        id="negative label",
    ),
    pytest.param(
        lambda: classification_report([0, 2], [0, 1], class_names=["a", "b"]),
        r"classification_report: y_true labels must lie in 0\.\.1 for 2 classes; received label 2",
        id="more classes than class_names",
    ),
    pytest.param(
        lambda: confusion_matrix([0, 1], np.ones((2, 3)), num_classes=4),
        r"confusion_matrix: the number of classes disagrees .*'num_classes': 4, 'y_pred width': 3",
        id="num_classes disagrees with scores",
    ),
    pytest.param(
        lambda: confusion_matrix([0, 1], [0, 1], num_classes=0),
        r"confusion_matrix: num_classes must be a positive integer; received 0",
        id="num_classes zero",
    ),
    pytest.param(
        lambda: precision([0, 1], [0, 1], average="binary"),
        r"precision: average must be one of .*; received 'binary'",
        id="unknown average",
    ),
    pytest.param(
        lambda: accuracy(np.zeros((2, 2, 2)), [0, 1]),
        r"accuracy: y_true must be class indices \(N,\) or scores \(N, K\); received shape \(2, 2, 2\)",
        id="rank 3",
    ),
    pytest.param(
        lambda: accuracy([0, 1], np.zeros((2, 0))),
        r"accuracy: y_pred scores need at least one class; received shape \(2, 0\)",
        id="zero-width scores",
    ),
    pytest.param(
        lambda: binary_counts([0, 1], [0, 1], positive=2),
        r"binary_counts: positive must be one of the classes 0\.\.1; received positive=2",
        id="positive out of range",
    ),
]


@pytest.mark.parametrize(("call", "message"), ERROR_CASES)
def test_value_errors_name_function_and_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_fractional_labels_raise_type_error_pointing_to_scores():
    with pytest.raises(TypeError, match=r"recall: y_pred class indices must be whole numbers .*\(N, K\)"):
        recall([0, 1], [0.2, 0.7])
