"""Launching `mpiexec -n N python job.py ...` from the tests, with a timeout, or skipping when MPI is missing.

MPI comes from the pip packages mpi4py and mpich (./test.sh installs them): mpiexec sits beside the Python
interpreter. Without it the tests are skipped, loudly, except under CI (CI=true), where they fail: there they
must run.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
INSTALL = ".venv/bin/python -m pip install mpi4py mpich"


def mpiexec():
    """The path of mpiexec, after skipping (or failing, under CI) when it or mpi4py is missing."""
    beside = Path(sys.executable).parent / "mpiexec"
    path = str(beside) if beside.exists() else shutil.which("mpiexec")
    reason = None
    if path is None:
        reason = f"mpiexec is not installed ({INSTALL})"
    else:
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            reason = f"mpi4py is not installed ({INSTALL})"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the MPI tests must run under CI, but {reason}")
        pytest.skip(f"MPI TESTS NOT RUN: {reason}")
    return path


def one_thread_environment():
    """The environment for processes that share this machine's cores: one thread each."""
    return {**os.environ, "STRIATE_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def run_job(processes, arguments, timeout=120, check=True):
    """`mpiexec -n processes <arguments>` (arguments: the command after it); the CompletedProcess. With check, a
    non-zero exit fails the test showing the job's output."""
    command = [mpiexec(), "-n", str(processes), *map(str, arguments)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=one_thread_environment())
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def run_python_job(processes, script, *arguments, timeout=120, check=True):
    """`mpiexec -n processes python tests/distributed/<script> <arguments>`."""
    return run_job(processes, [sys.executable, HERE / script, *arguments], timeout=timeout, check=check)
