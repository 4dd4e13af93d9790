"""The built wheel, installed in a fresh virtual environment, works from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (path,) = out.glob("consentgen-*.whl")
    return path


def test_wheel_ships_data_and_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for code in ("US", "CA", "NY", "TX", "FL", "CO"):
        assert f"consentgen/data/jurisdictions/{code}.yaml" in names
    assert "consentgen/data/templates/consent.md.j2" in names
    assert "consentgen/data/templates/sections/duty_to_protect.md.j2" in names
    assert "consentgen/schema/jurisdiction.schema.json" in names


def test_installed_wheel_builds_a_document_from_another_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    with zipfile.ZipFile(wheel) as archive:  # install by unpacking: no network, no pip needed
        archive.extractall(site)
    # The dependencies come from the test environment; its own consentgen is not on this path,
    # because .pth files inside an added directory are not processed.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CONSENTGEN_PATH"}
    where = subprocess.run(
        [python, "-c", "import consentgen; print(consentgen.__file__)"],
        cwd=work, check=True, capture_output=True, text=True, env=env,
    ).stdout  # fmt: skip
    assert where.startswith(str(site))
    result = subprocess.run(
        [python, "-m", "consentgen", "build", "--state", "CA", "--setting", "couples",
         "--as-of", "2026-11-25", "-o", "consent.html"],
        cwd=work, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    html = (work / "consent.html").read_text()
    assert "California" in html and "Couples therapy" in html
