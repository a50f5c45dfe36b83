"""Models: Sequential, functional (Input + Model) and subclassed Models."""

from striate.models.model import Input, Model
from striate.models.sequential import Sequential

__all__ = ["Input", "Model", "Sequential"]
