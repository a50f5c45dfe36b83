"""striate.applications: what goes with the zoo's published weights (the networks are in striate.models)."""

from striate.applications.imagenet_utils import preprocess_input

__all__ = ["preprocess_input"]
