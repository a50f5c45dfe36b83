"""An MPI job: rank 0's JSON value and arrays reach every rank through broadcast_json and broadcast_arrays
(no pickle); each rank checks what it received against what rank 0 held and prints OK."""

import numpy as np

from striate import distributed

distributed.init()
rank = distributed.rank()
value = {"state": {"inc": 2**100 + 7, "name": "PCG64"}, "list": [1.5, None, "x"]}
arrays = {"iterations": np.array(41, dtype=np.int64), "slot/0/momentum": np.arange(12, dtype=np.float32).reshape(3, 4),
          "slot/1/velocity": np.linspace(0, 1, 5)}
received_value = distributed.broadcast_json(value if rank == 0 else None)
received = distributed.broadcast_arrays(arrays if rank == 0 else {})
assert received_value == value, received_value
assert list(received) == list(arrays), list(received)
for name, array in arrays.items():
    assert received[name].dtype == array.dtype and received[name].shape == array.shape, name
    np.testing.assert_array_equal(received[name], array)
print(f"rank {rank} OK")
