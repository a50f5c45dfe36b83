"""to_categorical: one-hot rows written out by hand, Keras' shape rules, and refusal of labels it cannot encode."""

import numpy as np
import pytest

from striate.utils import to_categorical


def test_one_hot_rows_by_hand():
    expected = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), expected)
    np.testing.assert_array_equal(to_categorical([[0], [2], [1]]), expected)  # (N, 1): the 1 is dropped
    assert to_categorical([1], num_classes=4).tolist() == [[0, 1, 0, 0]]
    assert to_categorical([[0, 1]], num_classes=2).shape == (1, 2, 2)


@pytest.mark.parametrize(("labels", "num_classes", "message"), [
    ([0, 3], 3, r"\[0, 3\); received labels from 0 to 3"),
    ([-1, 1], None, "received labels from -1 to 1"),
    ([0.5, 1.0], None, "whole numbers; received e.g. 0.5"),
    (["cat"], None, "must be integers; received dtype <U3"),
])
def test_labels_outside_the_classes_are_refused(labels, num_classes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        to_categorical(labels, num_classes)
