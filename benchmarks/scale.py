"""How a Markdown batch grows with its rows: time, peak memory and manifest size.

For each size (default 1,000, 10,000 and 100,000 rows) it writes a CSV, runs `consentgen batch`
under GNU time (/usr/bin/time -v, for the batch process's own peak resident set size) and reads
the largest worker's peak from the kernel's accounting of waited-for descendants
(getrusage(RUSAGE_CHILDREN).ru_maxrss, in a fresh child per size). Then it times `--resume` on
the finished folder, which rebuilds nothing. Growth is printed against the first size.

Budget (issue 15): every process under 200 MB at 100,000 rows; the manifest at most 1 kB a
document. Run: python benchmarks/scale.py [--rows 1000 10000 100000] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from batch import PROFILE, rows_csv  # benchmarks/ is on the path when run as a script

# Run in a child so that RUSAGE_CHILDREN counts this size's processes only.
_MEASURE = """
import json, resource, subprocess, sys, time
argv = json.loads(sys.argv[1])
start = time.perf_counter()
done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "max_rss_kb": usage.ru_maxrss, "rc": done.returncode, "stderr": done.stderr}))
"""


def measure(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    timed = ["/usr/bin/time", "-v", *argv] if os.path.exists("/usr/bin/time") else argv
    out = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(timed)], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(out.stdout)
    main = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result["stderr"])
    result["main_rss_kb"] = int(main.group(1)) if main else None
    if result["rc"] != 0:
        raise SystemExit(f"batch failed ({result['rc']}): {result['stderr'][-2000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'rows':>8} {'wall s':>8} {'CPU s':>8} {'main MB':>8} {'largest MB':>10} "
          f"{'manifest B/doc':>14} {'resume s':>9} {'resume MB':>9}")  # fmt: skip
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "CONSENTGEN_CACHE_DIR": str(work / "cache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: .pyc files
        for count in args.rows:
            source = work / f"rows{count}.csv"
            source.write_text(rows_csv(count))
            out = work / f"out{count}"
            argv = [sys.executable, "-m", "consentgen", "batch", str(source), "--out-dir",
                    str(out), "--practice", str(PROFILE)]  # fmt: skip
            if args.jobs:
                argv += ["--jobs", str(args.jobs)]
            built = measure(argv, env)
            resumed = measure([*argv, "--resume"], env)
            per_doc = (out / "manifest.json").stat().st_size / count
            main_mb = (built["main_rss_kb"] or 0) / 1024
            largest_mb = built["max_rss_kb"] / 1024
            print(f"{count:>8} {built['wall']:>8.1f} {built['cpu']:>8.1f} {main_mb:>8.0f} "
                  f"{largest_mb:>10.0f} {per_doc:>14.0f} {resumed['wall']:>9.1f} "
                  f"{resumed['max_rss_kb'] / 1024:>9.0f}")  # fmt: skip
            if first is None:
                first = (count, built["wall"], largest_mb)
            else:
                rows_x = count / first[0]
                print(f"{'':>8} growth against {first[0]} rows: rows x{rows_x:.0f}, time "
                      f"x{built['wall'] / first[1]:.1f}, peak memory "
                      f"x{largest_mb / first[2]:.2f}")  # fmt: skip
            subprocess.run(["rm", "-rf", str(out)], check=True)


if __name__ == "__main__":
    main()
