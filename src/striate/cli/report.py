"""The evaluation report printed by `striate train` and `striate evaluate`."""

import numpy as np

from striate import metrics


def print_report(model, x_test, y_test=None, batch_size=500, class_names=None):
    """Accuracy, confusion matrix and per-class scores of `model` on (x_test, y_test), or on a dataset of
    (images, labels) batches given as x_test with y_test None. Without class_names the classes are digits 0-9."""
    if y_test is None:
        outputs, labels = [], []
        for x_batch, y_batch in x_test:
            outputs.append(model.predict(x_batch, batch_size=batch_size, verbose=0))
            labels.append(np.asarray(y_batch))
        probabilities, y_test = np.concatenate(outputs), np.concatenate(labels)
    else:
        probabilities = model.predict(x_test, batch_size=batch_size, verbose=0)
    predictions = np.argmax(probabilities, axis=-1)
    print(f"test accuracy: {metrics.accuracy(y_test, predictions):.4f}   "
          f"misclassification rate: {metrics.misclassification_rate(y_test, predictions):.4f}   "
          f"({len(y_test)} images)")
    matrix = metrics.confusion_matrix(y_test, predictions, num_classes=len(class_names) if class_names else 10)
    width = max(4, len(str(matrix.max())) + 1)
    if class_names:
        print("confusion matrix (rows: true class, columns: predicted; "
              + ", ".join(f"{i} = {name}" for i, name in enumerate(class_names)) + "):")
    else:
        print("confusion matrix (rows: true digit, columns: predicted):")
    print("     " + "".join(str(c).rjust(width) for c in range(matrix.shape[1])))
    for label, row in enumerate(matrix):
        print(f"  {label}: " + "".join(str(v).rjust(width) for v in row))
    print(metrics.classification_report(y_test, predictions, class_names=class_names))
