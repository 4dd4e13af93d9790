"""The same document gives the same PDF bytes in every run, with or without the system's HarfBuzz
subsetting library (libharfbuzz-subset0), which WeasyPrint uses when it finds it."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import time

import pytest

from conftest import AS_OF, PROFILE

pytest.importorskip("weasyprint")

BUILD = f"""
import sys
if sys.argv[1] == "without":  # as on a machine without libharfbuzz-subset0
    import weasyprint.pdf.fonts as fonts
    fonts.harfbuzz_subset = None
from consentgen.cli import app
app(["build", "--state", "CA", "--setting", "couples", "--as-of", "{AS_OF}", "--practice",
     r"{PROFILE}", "--client", "Alex Doe", "-o", sys.argv[2], "--force"])
"""


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
@pytest.mark.parametrize("harfbuzz_subset", ["with", "without"])
def test_pdf_bytes_are_the_same_in_separate_runs(tmp_path, harfbuzz_subset):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["CONSENTGEN_CACHE_DIR"] = ""
    digests = []
    for run in range(2):
        if run:
            time.sleep(1.1)  # font timestamps count seconds
        out = tmp_path / f"{run}.pdf"
        done = subprocess.run([sys.executable, "-c", BUILD, harfbuzz_subset, str(out)],
                              env=env, capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


@pytest.mark.slow  # renders two PDFs, seconds: run in CI (pytest -m slow)
def test_pdf_output_leaves_the_environment_as_it_was(monkeypatch):
    from consentgen.api import Request, build_document, render

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    doc = build_document(Request(state="CA", as_of=dt.date.fromisoformat(AS_OF)))
    assert render(doc, "pdf").startswith(b"%PDF")
    assert "SOURCE_DATE_EPOCH" not in os.environ
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    render(doc, "pdf")
    assert os.environ["SOURCE_DATE_EPOCH"] == "1700000000"
