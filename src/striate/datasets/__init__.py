"""striate.datasets: small image data sets read from installed packages, never downloaded.

    from striate.datasets import mnist, digits
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

Importing this package reads no files; each ``load_data()`` does its reading when called.
"""

from striate.datasets import digits, mnist

__all__ = ["digits", "mnist"]
