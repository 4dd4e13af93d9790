"""Cold-start cost of `consentgen build` against a bare import of its three core libraries.

Budget (issue 15): a cold build, to a file or to stdout, costs at most 1.3x
`python -c "import yaml, jinja2, markdown_it"`.
"Cold" here is a new process; consentgen's per-user cache (validated data files and profiles,
section HTML: plain data, never code) is warm, as it is from the second run on. The last line
shows a run without that cache. Templates are never cached: a wheel ships the built-in ones
compiled (hatch_build.py, rendering/compiled.py); an editable install compiles every one it renders
on every run, about 60 ms more, so measure a wheel install (--python).
Run: python benchmarks/startup.py [--runs N] [--python PY] [--instructions]. Prints medians in
milliseconds and the ratio (and, with --instructions, instructions counted by valgrind).

Measured 2026-11-27 (2 cores, Python 3.11.7, a wheel install, .pyc files written), before and
after the wheel shipped its templates compiled:
                                      compiled every run   shipped compiled
  instructions, build -o consent.md   1194 M  2.52x        787 M  1.66x   (bare import 473 M)
  instructions, build -o consent.html 1214 M  2.57x        804 M  1.70x
  ms, build -o consent.md              219 ms 2.33x        152 ms 1.62x   (bare import 94 ms)
  ms, build -o consent.html            219 ms 2.33x        166 ms 1.76x
The machine was busy (load 3 on 2 cores) and its medians moved by ±50 ms from run to run, so the
ms are the fastest of 25 runs of each command, run in turn; instruction counts (--runs 11) do not
depend on the load.

With the same session's build checks (example profile values, license state, the review sheet's
count of statements to check) the whole tree measured 856 M (1.81x) for consent.md and 870 M
(1.84x) for consent.html: over the 1.5x budget. Where it goes: validating cached data on load,
the sandbox's checks, the review sheet's second plan, Typer/Click (about 32 ms of imports) and
model.py's dataclasses (about 24 ms).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "tests" / "fixtures" / "practice.yaml"


def _time(cmd: list[str], runs: int, cwd: str, cache: str) -> float:
    return _medians({"": (cmd, cache)}, runs, cwd)[""]


def _medians(cases: dict[str, tuple[list[str], str]], runs: int, cwd: str) -> dict[str, float]:
    """Median milliseconds of each command (with its cache folder). The commands take turns,
    run after run, so that each is timed in the same minutes of a machine whose speed moves."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (cmd, cache) in cases.items():
            env = {**os.environ, "CONSENTGEN_CACHE_DIR": cache}
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: .pyc files
            start = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(taken) * 1000 for name, taken in samples.items()}


def _instructions(cmd: list[str], cwd: str, cache: str) -> int:
    """Instructions executed, counted by valgrind: repeatable whatever else the machine does."""
    env = {**os.environ, "CONSENTGEN_CACHE_DIR": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: .pyc files
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return int(re.search(r"Collected : (\d+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter of the install to measure (a wheel install measures what users "
        "run; an editable install adds its import hooks)",
    )
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions with valgrind"
    )
    args = parser.parse_args()
    py = args.python
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "consent")
        base = [py, "-c", "import yaml, jinja2, markdown_it"]
        build = [
            py,
            "-m",
            "consentgen",
            "build",
            "--state",
            "CA",
            "--setting",
            "couples",
            "--practice",
            str(PROFILE),
            "--as-of",
            "2026-11-25",
            "--force",
        ]
        cases = {
            "bare import (yaml, jinja2, markdown_it)": base,
            "consentgen --version": [py, "-m", "consentgen", "--version"],
            "consentgen build -o consent.md": [*build, "-o", out + ".md"],
            "consentgen build (to stdout)": build,
            "consentgen build -o consent.html": [*build, "-o", out + ".html"],
        }
        cache = str(Path(tmp) / "cache")
        for cmd in cases.values():  # warm the OS file cache and consentgen's own cache
            _time(cmd, 2, tmp, cache)
        # The last without consentgen's cache: every YAML file parsed and validated.
        timed = {name: (cmd, cache) for name, cmd in cases.items()}
        timed["consentgen build -o consent.md (no cache)"] = (
            cases["consentgen build -o consent.md"],
            "",
        )
        results = _medians(timed, args.runs, tmp)
        counts = {}
        if args.instructions and shutil.which("valgrind"):
            counts = {name: _instructions(cmd, tmp, cache) for name, cmd in cases.items()}
    baseline = results["bare import (yaml, jinja2, markdown_it)"]
    print(f"median of {args.runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for name, ms in results.items():
        print(f"{name:45s} {ms:7.1f} ms  {ms / baseline:5.2f}x")
    if counts:
        base = counts["bare import (yaml, jinja2, markdown_it)"]
        print("instructions (valgrind):")
        for name, n in counts.items():
            print(f"{name:45s} {n / 1e6:7.0f} M   {n / base:5.2f}x")


if __name__ == "__main__":
    main()
