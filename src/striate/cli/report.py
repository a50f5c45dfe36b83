"""The evaluation report printed by `striate train` and `striate evaluate`."""

import numpy as np

from striate import metrics


def print_report(model, x_test, y_test, batch_size=500):
    predictions = np.argmax(model.predict(x_test, batch_size=batch_size), axis=-1)
    print(f"test accuracy: {metrics.accuracy(y_test, predictions):.4f}   "
          f"misclassification rate: {metrics.misclassification_rate(y_test, predictions):.4f}   "
          f"({len(y_test)} images)")
    matrix = metrics.confusion_matrix(y_test, predictions, num_classes=10)
    width = max(4, len(str(matrix.max())) + 1)
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("     " + "".join(str(c).rjust(width) for c in range(matrix.shape[1])))
    for label, row in enumerate(matrix):
        print(f"  {label}: " + "".join(str(v).rjust(width) for v in row))
    print(metrics.classification_report(y_test, predictions))
