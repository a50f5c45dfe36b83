"""What every bench prints first: versions, threads, the BLAS kernel (threadpoolctl) and the load average."""

import os
import platform
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info


def print_machine(threads, details):
    """Print the set-up line, the BLAS pools and the load average; `details` ends the first line."""
    blas = [(pool["internal_api"], pool.get("architecture"), pool["version"], pool["num_threads"])
            for pool in threadpool_info() if pool["user_api"] == "blas"]
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{threads} threads each, {details}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"BLAS (threadpoolctl): {blas}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (above 1 on 2 cores, the ratios flatter striate)")
