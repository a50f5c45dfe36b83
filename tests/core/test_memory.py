"""keep_freed_memory: training steps reuse the pages of the previous step instead of faulting in new ones."""

import subprocess
import sys

import pytest

from striate.core.memory import keep_freed_memory

# LeNet-5 training steps on random images; prints the page faults of 5 steps after 3 warm-up steps. With
# "default", compile's call is replaced by a no-op, so glibc keeps its own thresholds.
STEPS = """
import resource, sys
import numpy as np
import striate
import striate.core.memory
if sys.argv[1] == "default":
    striate.core.memory.keep_freed_memory = lambda: False
model = striate.models.lenet5(input_shape=(28, 28, 1))
model.compile("adam", "sparse_categorical_crossentropy")
rng = np.random.default_rng(0)
x, y = rng.random((128, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 128)
for _ in range(3):
    model.train_on_batch(x, y)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    model.train_on_batch(x, y)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults_of_five_steps(mode):
    result = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True)
    return int(result.stdout)


@pytest.mark.skipif(not keep_freed_memory(), reason="the C library is not glibc")
def test_lenet_training_steps_reuse_their_memory_once_compiled():
    default, kept = page_faults_of_five_steps("default"), page_faults_of_five_steps("keep")
    assert default > 1000  # measured about 3,400 per step: arrays given back to the kernel and faulted in again
    assert kept < default / 20


def test_keep_freed_memory_is_idempotent():
    assert keep_freed_memory() == keep_freed_memory()
