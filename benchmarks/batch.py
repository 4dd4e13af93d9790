"""Batch speed: 1,000 Markdown documents in one `consentgen batch` against separate builds.

Budget (issue 15): the batch is at least 100x faster than 1,000 separate `consentgen build`
processes and uses both cores. Separate builds are timed on a sample (default 40) and scaled to
1,000, taking turns with --repeat batch runs (their median). Also: PDF documents per second.
Run: python benchmarks/batch.py [--sample N] [--repeat N] [--pdfs N] [--python PY]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "tests" / "fixtures" / "practice.yaml"
STATES = sorted(p.stem for p in (ROOT / "jurisdictions").glob("*.yaml") if p.stem != "US")
SETTINGS = ("individual", "couples", "family", "group", "minor")


def rows_csv(count: int) -> str:
    """A CSV of `count` rows spread over every state, setting and option (scale.py uses it too)."""
    lines = ["id,state,setting,clients,payment,supervisee,telehealth,as_of"]
    for i in range(count):
        state, setting = STATES[i % len(STATES)], SETTINGS[(i // len(STATES)) % len(SETTINGS)]
        payment = "self-pay" if i % 3 == 0 else "insurance"
        supervisee, telehealth = ("yes" if i % 2 else "no"), ("yes" if i % 5 == 0 else "no")
        lines.append(f"r{i:06d},{state},{setting},Client {i};Partner {i},{payment},"
                     f"{supervisee},{telehealth},2026-11-25")  # fmt: skip
    return "\n".join(lines) + "\n"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="batch runs (the median)")
    parser.add_argument("--pdfs", type=int, default=20, help="0: no PDF run")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter of the install to measure: a wheel install is what users run (an "
        "editable one compiles the templates in every process, which flatters the batch)",
    )
    args = parser.parse_args()
    py = args.python
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "CONSENTGEN_CACHE_DIR": str(work / "cache")}
        # As on a user's machine: each process reads the .pyc files instead of compiling sources.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        source = work / "clients.csv"
        source.write_text(rows_csv(args.documents))
        # Warm, as from a second run on: consentgen's per-user cache (every state's validated
        # law, which templates read what) and the OS's file cache.
        subprocess.run([py, "-m", "consentgen", "batch", str(source), "--out-dir",
                        str(work / "warm"), "--practice", str(PROFILE)],
                       env=env, stderr=subprocess.DEVNULL, check=True)  # fmt: skip

        # Batches and separate builds take turns, so that both are timed in the same minutes of
        # a machine whose speed moves: the batch's median against the builds' mean.
        batches, cpus, builds = [], [], []
        for run in range(args.repeat):
            # Each timed command starts with nothing of another's left to write: a batch makes
            # its documents durable with one syncfs(2), which would also flush what the builds
            # before it (or the last run's clean-up) left in the page cache.
            os.sync()
            cpu0, start = _cpu(), time.perf_counter()
            subprocess.run([py, "-m", "consentgen", "batch", str(source), "--out-dir",
                            str(work / f"md{run}"), "--practice", str(PROFILE)],
                           env=env, stderr=subprocess.DEVNULL, check=True)  # fmt: skip
            batches.append(time.perf_counter() - start)
            cpus.append(_cpu() - cpu0)
            for i in range(run, args.sample, args.repeat):
                state = STATES[i % len(STATES)]
                os.sync()
                start = time.perf_counter()
                subprocess.run([py, "-m", "consentgen", "build", "--state", state, "--practice",
                                str(PROFILE), "--client", f"Client {i}", "--as-of", "2026-11-25",
                                "-o", str(work / f"single{i}.md")],
                               env=env, stderr=subprocess.DEVNULL, check=True)  # fmt: skip
                builds.append(time.perf_counter() - start)
        batch_wall = statistics.median(batches)
        batch_cpu = statistics.median(cpus)
        per_process = statistics.fmean(builds)
        separate = per_process * args.documents

        pdf_wall = 0.0
        if args.pdfs:  # needs the [pdf] extra
            pdf_source = work / "pdf.csv"
            pdf_source.write_text(rows_csv(args.pdfs))
            start = time.perf_counter()
            subprocess.run([py, "-m", "consentgen", "batch", str(pdf_source), "--out-dir",
                            str(work / "pdf"), "--format", "pdf", "--practice", str(PROFILE)],
                           env=env, stderr=subprocess.DEVNULL, check=True)  # fmt: skip
            pdf_wall = time.perf_counter() - start

    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"batch of {args.documents} Markdown documents: {batch_wall:.2f} s wall (median of "
        f"{args.repeat}: {', '.join(f'{b:.2f}' for b in batches)}), {batch_cpu:.2f} s CPU "
        f"({batch_cpu / batch_wall:.2f} cores busy on average)"
    )
    print(
        f"one `consentgen build` process: {per_process * 1000:.0f} ms (mean of {args.sample}); "
        f"x{args.documents} = {separate:.0f} s"
    )
    print(f"batch speed-up: {separate / batch_wall:.0f}x (budget: at least 100x)")
    if args.pdfs:
        print(
            f"PDF: {args.pdfs} documents in {pdf_wall:.1f} s, {args.pdfs / pdf_wall:.2f} a second"
        )


if __name__ == "__main__":
    main()
