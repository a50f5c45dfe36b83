import pytest
from threadpoolctl import ThreadpoolController

from striate.core import runtime


@pytest.fixture
def threads():
    """set_num_threads for one test: the requested count and every BLAS library's threads restored afterwards."""
    requested, libraries = runtime._requested_threads, ThreadpoolController().select(user_api="blas")
    counts = [library.num_threads for library in libraries.lib_controllers]
    yield runtime.set_num_threads
    runtime._requested_threads = requested
    for library, count in zip(libraries.lib_controllers, counts):
        library.set_num_threads(count)
