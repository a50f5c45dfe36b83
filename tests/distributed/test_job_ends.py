"""A rank that is killed, stops answering or raises ends the whole MPI job with a non-zero exit status and a
message, well within the test's timeout, instead of leaving the other rank waiting forever."""

import time

import pytest
from job_stop import TIMEOUT
from mpi_jobs import run_python_job

JOB_LIMIT = 60  # seconds: a job still running then has hung


@pytest.mark.parametrize(("how", "message"), [
    ("kill", "BAD TERMINATION"),                                           # mpiexec sees the killed process
    ("stop", f"rank 0 of 2 waited {TIMEOUT:g} s in "),                     # rank 0's collective times out
    ("error", "rank 1 of 2 failed: RuntimeError: rank 1 broke on purpose"),  # abort_on_error
])
def test_a_rank_that_dies_stops_or_raises_ends_the_job_with_a_message(how, message):
    started = time.monotonic()
    result = run_python_job(2, "job_stop.py", how, timeout=JOB_LIMIT, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output
    assert time.monotonic() - started < JOB_LIMIT / 2
