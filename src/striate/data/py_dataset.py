"""`PyDataset`: a data set that gives its batches by index, as keras.utils.PyDataset.

Subclass it with `__len__` (the number of batches) and `__getitem__(index)` (the index-th batch: x, or
(x, y), or (x, y, sample_weight)), and pass it to `fit`, `evaluate` or `predict` in place of arrays. fit
asks for batches 0, 1, ..., len - 1 in each epoch, then calls `on_epoch_end()` (where a subclass may
reshuffle).

    class Digits(striate.utils.PyDataset):
        def __init__(self, x, y, batch_size):
            super().__init__()
            self.x, self.y, self.batch_size = x, y, batch_size
        def __len__(self):
            return -(-len(self.x) // self.batch_size)
        def __getitem__(self, index):
            part = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[part], self.y[part]
"""


from typing import Any


class PyDataset:
    """Base class of data sets indexed by batch. workers, use_multiprocessing and max_queue_size are taken
    for Keras' signature; striate reads the batches in the training thread."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: a PyDataset defines __getitem__(index) -> batch")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}: a PyDataset defines __len__() -> number of batches")

    @property
    def num_batches(self) -> int:
        """The number of batches of an epoch (len), as Keras 3."""
        return len(self)

    def on_epoch_end(self) -> None:
        """Called by fit after each epoch; does nothing unless a subclass says otherwise."""
