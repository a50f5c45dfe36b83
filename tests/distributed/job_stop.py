"""Run under mpiexec by test_job_ends.py: two ranks train with fit(distributed=...) and, at its third batch, rank
1 is killed (SIGKILL), stops (SIGSTOP: alive but silent, a hang) or raises; the job must end, not hang.

    mpiexec -n 2 python job_stop.py kill|stop|error
"""

import os
import signal
import sys

import numpy as np

import striate
from striate import distributed
from striate import layers as L

TIMEOUT = 3.0  # seconds a rank waits in a collective


class Misbehave(striate.callbacks.Callback):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def on_train_batch_begin(self, batch, logs=None):
        if distributed.rank() != 1 or batch != 2:
            return
        if self.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.how == "stop":
            os.kill(os.getpid(), signal.SIGSTOP)
        else:
            raise RuntimeError("rank 1 broke on purpose")


def main(how):
    striate.set_random_seed(0)
    model = striate.Sequential([L.Flatten(input_shape=(4, 4, 1)), L.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.zeros((64, 4, 4, 1), np.float32), np.zeros(64, np.int64)
    with distributed.abort_on_error():
        model.fit(x, y, batch_size=8, epochs=1000, verbose=0, callbacks=[Misbehave(how)],
                  distributed=distributed.DataParallel(timeout=TIMEOUT))


if __name__ == "__main__":
    main(sys.argv[1])
