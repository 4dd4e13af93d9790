"""The built wheel, installed in a fresh virtual environment, works from another folder."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jinja2
import pytest

from conftest import AS_OF, PROFILE, ROOT

# Each builds and installs a wheel: run in CI (.ci/run: pytest -m slow).
pytestmark = pytest.mark.slow


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
    # The dependencies come from the test environment; its own consentgen is not on this path,
    # because .pth files inside an added directory are not processed.
    python, site = _install(wheel, tmp_path / "venv")
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


# --- Built-in templates compiled when the wheel is built (src/consentgen/rendering/compiled.py) ---

COMPILED = "_consentgen_compiled"
BUILTIN = sorted(p.relative_to(ROOT / "templates").as_posix()
                 for p in (ROOT / "templates").rglob("*.j2"))  # fmt: skip

# Runs consentgen's CLI in-process with Jinja's parser watched: every template compiled from its
# source goes through Environment._parse, a precompiled one never does. CG_STEPS lowers the
# step budget of every render. The names parsed are written to the file CG_PARSED.
_SPY = """
import json, os, runpy, sys
from jinja2 import Environment
parsed = []
parse = Environment._parse
def spy(self, source, name, filename):
    parsed.append(name)
    return parse(self, source, name, filename)
Environment._parse = spy
if os.environ.get("CG_STEPS"):
    from consentgen.rendering import sandbox
    sandbox.LIMITS = sandbox.Limits(steps=int(os.environ["CG_STEPS"]))
sys.argv = ["consentgen", *sys.argv[1:]]
try:
    runpy.run_module("consentgen", run_name="__main__", alter_sys=True)
finally:
    with open(os.environ["CG_PARSED"], "w") as fh:
        json.dump(parsed, fh)
"""


def _module_record(text: str) -> dict[str, object]:
    """The CG_* constants a compiled module ends with."""
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(text).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "").startswith("CG_")
    }


def _install(wheel: Path, venv: Path) -> tuple[Path, Path]:
    """A fresh venv with the wheel unpacked into it and compiled to .pyc as pip does: its python
    and its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "compileall", "-q", str(site / "consentgen"),
                    str(site / COMPILED)], check=True, capture_output=True)  # fmt: skip
    return python, site


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _install(wheel, tmp_path_factory.mktemp("wheel-venv") / "venv")[0]


def _run(python: Path | str, args: list[str | Path], cwd: Path, **extra: str):
    """consentgen run by `python` under the spy: (completed process, template names parsed)."""
    spy = cwd / "spy.py"
    spy.write_text(_SPY)
    parsed = cwd / "parsed.json"
    env = {k: v for k, v in os.environ.items() if k != "CONSENTGEN_PATH"}
    env.update(CONSENTGEN_CACHE_DIR="", CG_PARSED=str(parsed), **extra)
    result = subprocess.run([python, spy, *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, env=env, check=False)  # fmt: skip
    return result, json.loads(parsed.read_text())


def _build(python: Path | str, out: Path, *extra: str | Path, **env: str):
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["build", "--state", "CA", "--setting", "couples", "--practice", PROFILE,
            "--as-of", AS_OF, "-o", out, *extra]  # fmt: skip
    return _run(python, args, out.parent, **env)


def test_wheel_ships_one_compiled_module_per_builtin_template(wheel, installed):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        modules = {n: archive.read(n).decode() for n in names
                   if n.startswith(f"{COMPILED}/") and n != f"{COMPILED}/__init__.py"}  # fmt: skip
        index = _module_record(archive.read(f"{COMPILED}/__init__.py").decode())
        shipped = {n.removeprefix("consentgen/data/templates/"): archive.read(n) for n in names
                   if n.startswith("consentgen/data/templates/") and n.endswith(".j2")}  # fmt: skip
    assert len(BUILTIN) > 20 and "page.html.j2" in BUILTIN and sorted(shipped) == BUILTIN
    # What the installed wheel's own consentgen computes (this tree may be edited meanwhile).
    stamp = subprocess.run(
        [installed, "-c", "from consentgen.cache import code_stamp; print(code_stamp())"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    records = [_module_record(text) for text in modules.values()]
    assert sorted(r["CG_TEMPLATE"] for r in records) == BUILTIN  # one module each, no other
    for record in records:
        source = shipped[str(record["CG_TEMPLATE"])]
        assert record["CG_SHA256"] == hashlib.sha256(source).hexdigest()
        assert record["CG_JINJA2"] == jinja2.__version__
        assert record["CG_CODE_STAMP"] == stamp
    assert index["CG_CODE_STAMP"] == stamp and index["CG_JINJA2"] == jinja2.__version__
    assert not (ROOT / COMPILED).exists() and not (ROOT / "src" / COMPILED).exists()


def test_installed_wheel_uses_its_compiled_templates_and_builds_the_same_bytes(installed, tmp_path):
    for suffix in ("md", "html"):
        wheel_out, tree_out = tmp_path / "wheel" / f"c.{suffix}", tmp_path / "tree" / f"c.{suffix}"
        result, parsed = _build(installed, wheel_out)
        assert result.returncode == 0, result.stderr
        assert parsed == []  # not one template compiled from its source
        result, tree_parsed = _build(sys.executable, tree_out)  # this editable install
        assert result.returncode == 0, result.stderr
        # The source tree has no compiled templates: the spy sees every one it renders.
        assert {"consent.md.j2", "macros.md.j2", "sections/fees.md.j2"} <= set(tree_parsed)
        assert ("page.html.j2" in tree_parsed) == (suffix == "html")
        assert wheel_out.read_bytes() == tree_out.read_bytes()


def test_compiled_templates_keep_limits_and_name_their_file_and_line(installed, tmp_path):
    messages = []
    for python, where in ((installed, "wheel"), (sys.executable, "tree")):
        result, parsed = _build(python, tmp_path / where / "c.md", CG_STEPS="256")
        assert result.returncode != 0
        assert parsed == [] or where == "tree"
        messages.append(result.stderr)
    wheel_says, tree_says = messages
    found = re.search(r"(\S*)/templates/(\S+\.md\.j2):(\d+): the template went over its "
                      "budget of 256 steps", wheel_says)  # fmt: skip
    assert found, wheel_says
    assert found.group(1).endswith("site-packages/consentgen/data")
    assert f"templates/{found.group(2)}:{found.group(3)}:" in tree_says  # the same file and line

    # A template's run-time error too; and what the loader attaches to every template.
    check = """
import hashlib, json, sys
from consentgen.rendering.markdown import make_env
from consentgen.rendering.sandbox import TemplateFailure
from consentgen.resources import SearchPath
env = make_env(SearchPath.make(()).template_dirs())
t = env.get_template("sections/fees.md.j2")
source = open(t.filename, encoding="utf-8").read()
assert t._cg_source == source and t._cg_sha256 == hashlib.sha256(source.encode()).digest()
try:
    t.render({})
except TemplateFailure as exc:
    print(json.dumps([t.filename, exc.path, exc.line, exc.message,
                      t.root_render_func.__globals__.get("CG_TEMPLATE")]))
"""
    outputs = []
    for python in (installed, sys.executable):
        env = {**os.environ, "CONSENTGEN_CACHE_DIR": ""}
        result = subprocess.run([python, "-c", check], capture_output=True, text=True, env=env,
                                check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    (filename, path, line, message, module), tree = outputs
    assert module == "sections/fees.md.j2" and tree[4] is None  # precompiled / from source
    assert filename.endswith("site-packages/consentgen/data/templates/sections/fees.md.j2")
    assert path == filename and line and line == tree[2]
    assert message.startswith(f"{filename}:{line}: ")
    assert message.replace(filename, "F") == tree[3].replace(tree[1], "F")


def test_an_edited_builtin_template_is_compiled_from_its_source(wheel, tmp_path):
    python, site = _install(wheel, tmp_path / "venv")
    edited = site / "consentgen" / "data" / "templates" / "sections" / "fees.md.j2"
    edited.write_text(edited.read_text() + "\nEdited after it was installed.\n")
    result, parsed = _build(python, tmp_path / "out" / "c.md")
    assert result.returncode == 0, result.stderr
    assert parsed == ["sections/fees.md.j2"]  # that one from its source, the others precompiled
    assert "Edited after it was installed." in (tmp_path / "out" / "c.md").read_text()


def test_a_data_dir_template_is_compiled_from_its_source(installed, tmp_path):
    data = tmp_path / "data"
    (data / "templates" / "sections").mkdir(parents=True)
    shutil.copy(ROOT / "templates" / "sections" / "fees.md.j2",
                data / "templates" / "sections" / "fees.md.j2")  # fmt: skip
    shutil.copy(ROOT / "templates" / "macros.md.j2", data / "templates" / "macros.md.j2")
    result, parsed = _build(installed, tmp_path / "out" / "c.md", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    # The same names and the same content as built-in templates, but from a user's folder.
    assert sorted(parsed) == ["macros.md.j2", "sections/fees.md.j2"]
    result, _ = _build(installed, tmp_path / "plain" / "c.md")
    assert (tmp_path / "out" / "c.md").read_bytes() == (tmp_path / "plain" / "c.md").read_bytes()
