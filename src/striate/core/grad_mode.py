"""`no_grad()`: a context in which ops record no graph (inference, optimizer updates)."""

from collections.abc import Iterator
from contextlib import contextmanager

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True unless inside a `no_grad()` block."""
    return _grad_enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block ops build no graph: results have requires_grad=False.

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False even if x.requires_grad
    """
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous
