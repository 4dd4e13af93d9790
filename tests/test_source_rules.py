"""The house rules of src/consentgen, read from the source (issue 15): no import cycles among
its modules, counting imports inside functions; no module reaches into another's private names;
no public name shares its name with a module; and every public name works after a build."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from conftest import PROFILE, ROOT

SRC = ROOT / "src" / "consentgen"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            found += [(base, a.name, node.lineno) for a in node.names]
    return found


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, taken, _ in _imports(name, path):
            if f"{module}.{taken}" in MODULES:  # `from consentgen import compose`
                edges[name].add(f"{module}.{taken}")
            elif module in MODULES:
                edges[name].add(module)
    return edges


def test_the_analysis_sees_the_package():
    edges = _edges()
    assert "consentgen.engine" in edges["consentgen.api"]
    assert "consentgen.engine" in edges["consentgen.batching"]  # an import inside a function
    assert len(MODULES) > 30


def test_no_import_cycles_among_modules_counting_imports_inside_functions():
    edges = _edges()
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1 and nxt != "consentgen":
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    # The package's lazy __getattr__ (consentgen -> api) is not an edge back: importing a
    # submodule runs __init__, which imports nothing of ours but the version.
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_the_package_init_imports_only_the_version_at_import_time():
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    ours = [
        n.module
        for n in top
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("consentgen")
    ]
    assert ours == ["consentgen.version"]


def test_no_module_imports_a_private_name_from_another():
    found = []
    for name, path in MODULES.items():
        for module, taken, line in _imports(name, path):
            if (
                taken
                and taken.startswith("_")
                and not taken.startswith("__")
                and module.startswith("consentgen")
            ):
                found.append(f"{path.relative_to(ROOT)}:{line}: {taken} from {module}")
            if taken == "__version__" and module != "consentgen.version":
                found.append(f"{path.relative_to(ROOT)}:{line}: __version__ from {module}")
    assert found == []


def test_no_module_reads_a_private_attribute_of_another_of_ours():
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for module, taken, _ in _imports(name, path):
            if taken and f"{module}.{taken}" in MODULES:
                aliases[taken] = f"{module}.{taken}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert found == []


def test_no_public_name_shares_its_name_with_a_module():
    for package in ("consentgen", "consentgen.rendering", "consentgen.lint"):
        module = importlib.import_module(package)
        submodules = {m.rpartition(".")[2] for m in MODULES if m.rpartition(".")[0] == package}
        public = set(getattr(module, "__all__", ())) | {
            n
            for n in vars(module)
            if not n.startswith("_") and not isinstance(vars(module)[n], type(sys))
        }
        assert public & submodules == set(), package


def test_every_public_name_works_after_a_build(tmp_path):
    # In a fresh interpreter: a build imports the rendering subpackage, and a public function
    # named like a subpackage would then be shadowed by the module ("'module' object is not
    # callable").
    code = """
import datetime as dt, json, sys
import consentgen
from consentgen import Request
profile, out, self_pay = sys.argv[1:]
doc = consentgen.build_document(Request(state="CA", setting="individual"), practice=profile)
assert consentgen.render(doc, "md").startswith("# ")
assert json.loads(consentgen.render(doc, "json"))["jurisdiction"] == "CA"
row = {"id": "a", "state": "CO", "setting": "individual", "clients": "Pat Doe"}
result = consentgen.batch([row], out, practice=profile)
assert [e["file"] for e in result.written] == ["a_CO_individual.md"], result.failed
est = consentgen.good_faith_estimate(practice=self_pay, state="CO", as_of=dt.date(2026, 11, 27))
assert "Good Faith Estimate" in consentgen.render_estimate(est, "md")
assert consentgen.__version__
missing = [n for n in consentgen.__all__ if not hasattr(consentgen, n)]
assert not missing, missing
"""
    self_pay = ROOT / "tests/fixtures/practices/co_lpc_selfpay.yaml"
    argv = [sys.executable, "-c", code, str(PROFILE), str(tmp_path / "out"), str(self_pay)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert set(__import__("consentgen").__all__) == {
        "Request", "__version__", "batch", "build_document", "good_faith_estimate", "render",
        "render_estimate",
    }  # fmt: skip
