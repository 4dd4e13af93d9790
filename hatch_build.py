"""Wheel build hook: ships consentgen's built-in templates compiled, as Python modules.

Writes the package `_consentgen_compiled` (one module per template; see
src/consentgen/rendering/compiled.py) into a temporary folder with consentgen's own sandbox, from
the source tree being built, and adds it to the wheel. Nothing is written into the tree. An
editable install gets no such package: it compiles templates from their source, as always.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _consentgen_modules() -> list[str]:
    return [name for name in sys.modules if name == "consentgen" or name.startswith("consentgen.")]


class CompiledTemplatesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        src = root / "src"
        # Import this tree's consentgen, whatever ran the build; then put back what was there.
        saved = {name: sys.modules[name] for name in _consentgen_modules()}
        for name in saved:
            del sys.modules[name]
        sys.path.insert(0, str(src))
        try:
            import consentgen
            from consentgen.rendering.compiled import PACKAGE
            from consentgen.rendering.precompile import write_package

            where = Path(consentgen.__file__).resolve()
            if src.resolve() not in where.parents:
                raise RuntimeError(f"compiling templates with {where}, not this tree's consentgen")
            self._tmp = tempfile.mkdtemp(prefix="consentgen-compiled-")
            out = Path(self._tmp) / PACKAGE
            try:
                write_package(root / "templates", out)
            except BaseException:
                shutil.rmtree(self._tmp, ignore_errors=True)
                raise
        finally:
            sys.path.remove(str(src))
            for name in _consentgen_modules():
                del sys.modules[name]
            sys.modules.update(saved)
        build_data["force_include"][str(out)] = PACKAGE

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
