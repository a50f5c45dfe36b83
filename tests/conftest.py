"""Shared pytest setup. Its presence puts tests/ on sys.path, so test modules can `import oracle`."""

import torch

# keep the PyTorch oracle single-threaded: the suite runs many tiny problems, where threads only cost
torch.set_num_threads(1)
