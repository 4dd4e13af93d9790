"""Build time: write the package of compiled built-in templates (see compiled.py); called by
hatch_build.py only, so that a run never imports the template environment from here."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from consentgen.cache import code_stamp
from consentgen.rendering.compiled import FORMAT, jinja2_version, profile
from consentgen.rendering.markdown import make_env


def environments(templates: str) -> dict[str, Any]:
    """The environments built-in templates are rendered in: the Markdown one (make_env) and the
    HTML page's overlay (rendering/html.py). A change to either that is not mirrored here makes the
    profiles differ and those templates compile from source (tests/test_wheel.py notices)."""
    env = make_env([templates])
    return {"md": env, "html": env.overlay(autoescape=True, finalize=None)}


def _module_name(name: str, taken: set[str]) -> str:
    module = "t_" + re.sub(r"[^0-9A-Za-z]", "_", name)
    if module in taken:
        module += "_" + hashlib.sha256(name.encode()).hexdigest()[:12]
    taken.add(module)
    return module


def write_package(templates: Path, out: Path) -> dict[str, str]:
    """Write the package `_consentgen_compiled` for the templates folder `templates` into `out`
    (made, must not exist); returns {template name: module name}."""
    envs = environments(str(templates))
    version = jinja2_version()
    stamp = code_stamp()
    out.mkdir(parents=True)
    names = sorted(p.relative_to(templates).as_posix() for p in templates.rglob("*.j2"))
    taken: set[str] = set()
    index: dict[str, tuple[str, str, str]] = {}
    for name in names:
        env = envs["html"] if name.endswith(".html.j2") else envs["md"]
        source, filename, _ = env.loader.get_source(env, name)
        code = env.compile(source, name, filename, raw=True)
        sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
        module = _module_name(name, taken)
        # The record goes after the code: Jinja maps the code's line numbers to the template's.
        text = (
            f"{code.rstrip()}\n\n"
            f"# Generated when the wheel was built (hatch_build.py) from the template {name}.\n"
            f"CG_TEMPLATE = {name!r}\n"
            f"CG_SHA256 = {sha256!r}\n"
            f"CG_JINJA2 = {version!r}\n"
            f"CG_CODE_STAMP = {stamp!r}\n"
            f"CG_PROFILE = {profile(env)!r}\n"
        )
        compile(text, f"{module}.py", "exec")  # fails the build, not a run
        (out / f"{module}.py").write_text(text, encoding="utf-8")
        index[name] = (module, sha256, profile(env))
    lines = "".join(f"    {name!r}: {entry!r},\n" for name, entry in index.items())
    (out / "__init__.py").write_text(
        '"""consentgen\'s built-in templates, compiled when the wheel was built (see '
        'consentgen/rendering/compiled.py). Generated: do not edit."""\n\n'
        f"CG_FORMAT = {FORMAT!r}\n"
        f"CG_JINJA2 = {version!r}\n"
        f"CG_CODE_STAMP = {stamp!r}\n"
        f"TEMPLATES = {{\n{lines}}}\n",
        encoding="utf-8",
    )
    return {name: entry[0] for name, entry in index.items()}
