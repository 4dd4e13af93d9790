"""`consentgen lint`: every problem in jurisdiction files, profiles and templates, in one run.

Findings are `Problem` values (path, line, column, severity, message, rule id), collected and
reported together; `report()` formats them; the worst severity decides the exit code.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import field
from pathlib import Path
from typing import Any

from consentgen.errors import Problem, UserError
from consentgen.lint.rule import LintRule
from consentgen.lint.rules import BY_ID, BY_NAME, RULES
from consentgen.textsafe import github_data, github_property, visible
from consentgen.values import FrozenValue, frozen_value

__all__ = ["RULES", "Config", "LintRule", "exit_code", "lint_paths", "load_config", "report"]


@frozen_value(kw_only=False)
class Config(FrozenValue):
    select: frozenset[str] = frozenset()  # empty: every rule
    ignore: frozenset[str] = frozenset()
    max_age: int = 365
    strict: bool = False
    render_matrix: bool = True
    jobs: int | None = None
    today: dt.date = field(default_factory=dt.date.today)

    def wants(self, rule_id: str) -> bool:
        if self.select and rule_id not in self.select:
            return False
        return rule_id not in self.ignore


def rule_ids(values: list[str] | tuple[str, ...] | str | None, origin: str) -> frozenset[str]:
    """Ids from ids or names ("CG202", "unverified", "CG2"): a prefix selects a family."""
    if values is None:
        return frozenset()
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    out: set[str] = set()
    for value in values:
        text = str(value).strip()
        if text in BY_NAME:
            out.add(BY_NAME[text].id)
            continue
        matches = [r.id for r in RULES if r.id.startswith(text.upper())] if text else []
        if not matches:
            raise UserError(f"{origin}: unknown lint rule '{text}'; see consentgen lint "
                            "--list-rules")  # fmt: skip
        out.update(matches)
    return frozenset(out)


def settings(
    *,
    select: str | None = None,
    ignore: str | None = None,
    max_age: int | None = None,
    strict: bool | None = None,
    today: dt.date | None = None,
    start: Path | None = None,
) -> Config:
    """The settings of a lint run: each value given here (a command-line option) wins over the
    project's file ([tool.consentgen.lint] in pyproject.toml, or `lint:` in .consentgen.yaml,
    found from `start`), which wins over the default. A bad id names where it came from."""
    found = load_config(start)
    origin = found.get("_origin", "settings")

    def pick(given: Any, key: str, option: str) -> tuple[Any, str]:
        return (given, option) if given is not None else (found.get(key), origin)

    age = pick(max_age, "max-age", "--max-age")[0]
    return Config(
        select=rule_ids(*pick(select, "select", "--select")),
        ignore=rule_ids(*pick(ignore, "ignore", "--ignore")),
        max_age=int(age) if age is not None else 365,
        strict=bool(pick(strict, "strict", "--strict")[0]),
        today=today or dt.date.today(),
    )


def load_config(start: Path | None = None) -> dict[str, Any]:
    """[tool.consentgen.lint] from the nearest pyproject.toml, or `lint:` in .consentgen.yaml."""
    try:
        folder = (start or Path.cwd()).resolve()
    except OSError:
        raise UserError("the current folder no longer exists (deleted or moved); cd to an "
                        "existing folder and run lint again") from None  # fmt: skip
    for candidate in (folder, *folder.parents):
        yaml_file = candidate / ".consentgen.yaml"
        if yaml_file.is_file():
            from consentgen import yamlio

            data = yamlio.load_file(yaml_file).data or {}
            section = data.get("lint", {}) if isinstance(data, dict) else {}
            return _checked(section, str(yaml_file))
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            from consentgen import yamlio

            raw = yamlio.read_bytes(pyproject, str(pyproject))
            try:
                data = tomllib.loads(raw.decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise UserError(f"{pyproject}: not valid TOML ({exc})") from None
            section = data.get("tool", {}).get("consentgen", {}).get("lint")
            if section is not None:
                return _checked(section, f"{pyproject} [tool.consentgen.lint]")
    return {}


_CONFIG_KEYS = {"select", "ignore", "max-age", "strict"}


def _checked(section: Any, origin: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise UserError(f"{origin}: lint settings must be a table of keys")
    unknown = set(section) - _CONFIG_KEYS
    if unknown:
        raise UserError(f"{origin}: unknown lint setting(s) {', '.join(sorted(map(str, unknown)))}"
                        f"; allowed: {', '.join(sorted(_CONFIG_KEYS))}")  # fmt: skip
    for key in ("select", "ignore"):
        value = section.get(key)
        if value is not None and not (
            isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            raise UserError(f"{origin}: {key} must be rule ids or names, as text or a list")
    age = section.get("max-age", 365)
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 100_000:
        raise UserError(f"{origin}: max-age must be a whole number of days (0 to 100000)")
    if not isinstance(section.get("strict", False), bool):
        raise UserError(f"{origin}: strict must be true or false")
    return {**section, "_origin": origin}


def lint_paths(
    paths: list[Path],
    *,
    data_dirs: list[Path] = (),
    config: Config | None = None,
) -> list[Problem]:
    """Lint files and folders; no path: the built-in data and templates plus `data_dirs`.
    Without `config`, every rule, with today's date."""
    config = config or Config()
    from consentgen import jurisdictions
    from consentgen.lint import checks, templates
    from consentgen.resources import SearchPath

    search = SearchPath.make(tuple(data_dirs))
    yaml_files: list[Path] = []
    template_dirs: list[Path] = []
    if not paths:
        for root, _origin in search.roots():
            yaml_files += sorted((root / "jurisdictions").glob("*.yaml"))
            if (root / "templates").is_dir():
                template_dirs.append(root / "templates")
    for path in paths:
        try:
            if path.is_dir():
                yaml_files += sorted(p for p in path.rglob("*.y*ml")
                                     if p.suffix in (".yaml", ".yml"))  # fmt: skip
                if path.name == "templates" or any(path.rglob("*.j2")):
                    template_dirs.append(path)
            elif path.suffix == ".j2":
                template_dirs.append(path.parent)
            elif path.exists():
                yaml_files.append(path)
            else:
                raise UserError(f"{path}: no such file or folder")
        except OSError as exc:
            raise UserError(f"{path}: cannot be used ({_os_reason(exc)})") from None
    problems: list[Problem] = []
    # The render matrix begins first, in worker processes, over the files given (those that do
    # not load render nothing; the data checks report them), while this process checks the data.
    candidates = [(path, "lint") for path in dict.fromkeys(yaml_files)
                  if path.stem != jurisdictions.FEDERAL]  # fmt: skip

    def builtin() -> list[tuple[Path, str]]:
        return [(path, origin) for path, origin in jurisdictions.available(search).values()]

    matrix = None
    if template_dirs:
        from consentgen.engine import template_env

        env = template_env(tuple(search.template_dirs()))
        syntax = templates.check_syntax(list(dict.fromkeys(template_dirs)), env)
        problems += syntax
        if config.render_matrix and not any(p.severity == "error" for p in syntax):
            matrix = templates.Matrix(candidates or builtin(), list(data_dirs), config.today,
                                      config.jobs)  # fmt: skip
    valid_states: list[tuple[Path, str]] = []
    try:
        for path in dict.fromkeys(yaml_files):
            found, jurisdiction = checks.lint_yaml_file(
                path, _display(path), today=config.today, max_age=config.max_age, search=search
            )
            problems += found
            if jurisdiction is not None and jurisdiction.code != jurisdictions.FEDERAL:
                valid_states.append((path, "lint"))
    except BaseException:
        if matrix is not None:
            matrix.cancel()
        raise
    rendered = matrix.findings() if matrix is not None else []
    if candidates and not valid_states and matrix is not None:  # none of them is a state's file
        rendered = templates.render_matrix(builtin(), list(data_dirs), config.today, config.jobs)
    problems += rendered
    kept = [p for p in problems if config.wants(p.rule_id)]
    return sorted(set(kept), key=lambda p: (p.path, p.line, p.column, p.rule_id, p.message))


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long for the system"
    return exc.strerror or str(exc)


def _display(path: Path) -> str:
    from consentgen.lint.templates import relative_path

    return relative_path(str(path))


def exit_code(problems: list[Problem], strict: bool) -> int:
    failing = {"error", "warning"} if strict else {"error"}
    return 1 if any(p.severity in failing for p in problems) else 0


def report(problems: list[Problem], fmt: str) -> str:
    """Problems as text (one line each, control characters from file names and values shown
    escaped), JSON, or GitHub Actions workflow commands (escaped as the runner requires)."""
    if fmt == "json":
        return json.dumps([{"id": p.rule_id, "name": _name(p.rule_id), "severity": p.severity,
                            "path": p.path, "line": p.line, "column": p.column,
                            "message": p.message} for p in problems], indent=2) + "\n"  # fmt: skip
    if fmt == "github":
        level = {"error": "error", "warning": "warning", "info": "notice"}
        lines = [f"::{level[p.severity]} file={github_property(p.path)},line={max(p.line, 1)},"
                 f"col={max(p.column, 1)},title="
                 f"{github_property(f'{p.rule_id} {_name(p.rule_id)}')}::{github_data(p.message)}"
                 for p in problems]  # fmt: skip
        return "".join(line + "\n" for line in lines)
    return "".join(visible(f"{_where(p)}: {p.severity}: {p.message} [{p.rule_id} "
                           f"{_name(p.rule_id)}]") + "\n" for p in problems)  # fmt: skip


def _where(p: Problem) -> str:
    return f"{p.path}:{max(p.line, 1)}:{max(p.column, 1)}"


def _name(rule_id: str) -> str:
    rule = BY_ID.get(rule_id)
    return rule.name if rule else "schema"
