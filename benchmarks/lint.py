"""How long `consentgen lint` takes on all built-in data and templates, render matrix included.

Budget (issue 15): under 2 seconds on this 2-core machine. Run: python benchmarks/lint.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CONSENTGEN_CACHE_DIR": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: .pyc files
        cmd = [sys.executable, "-m", "consentgen", "lint", "--format", "json"]
        first = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
        cold = time.perf_counter() - first
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
            samples.append(time.perf_counter() - start)
    print(
        f"consentgen lint (all built-in data and templates, render matrix), {os.cpu_count()} cores"
    )
    print(f"first run, empty cache: {cold:.2f} s")
    print(f"median of {runs} runs:   {statistics.median(samples):.2f} s")


if __name__ == "__main__":
    main()
