"""Template checks: Jinja2 syntax, and the render matrix over every jurisdiction and option."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import sys
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError

from consentgen.errors import ConsentgenError, Problem
from consentgen.lint.readability import grade, plain
from consentgen.lint.rule import LintRule

# The rules this module's checks report (rules.py gathers every rule).
RULES: tuple[LintRule, ...] = (
    LintRule('CG301', 'template-syntax', 'error',
             'a template is not valid Jinja2',
             '{% if x %}no endif',
             passing='{% if x %}text{% endif %}'),
    LintRule('CG302', 'template-render', 'error',
             'a template fails to render for some jurisdiction and options (e.g. a variable '
             'the model does not have)',
             '{{ law.duty_to_protect.statuss }}',
             passing='{{ law.duty_to_protect.status }}'),
    LintRule('CG303', 'render-output', 'error',
             'a rendered document has an unrendered {{, a None, or an empty section',
             "{{ '{{' }}",
             passing='(a section that renders whole sentences)'),
    LintRule('CG304', 'consent-element', 'error',
             "a rendered document no longer tells the client something a profession's ethics "
             'code asks a consent to say (consentgen.standards.ELEMENTS names the section)',
             "(a practice's about_therapy.md.j2 without the alternatives to therapy)",
             passing='(about_therapy.md.j2 that names the alternatives to therapy)'),
    LintRule('CG401', 'reading-grade', 'warning',
             'a section of a client document reads above US grade 10 (Flesch-Kincaid)',
             '(long sentences, long words)',
             passing='(short sentences, common words)'),
)  # fmt: skip

SETTINGS = ("individual", "couples", "family", "group", "minor")
COMBINATIONS = tuple(
    itertools.product(SETTINGS, ("insurance", "self-pay"), (False, True), (False, True))
)
# Two halves of the payment x supervisee x telehealth cube, each holding every pair of values
# (a covering array of strength 2): a state rendered with one half meets every option beside
# every other and every setting. With many jurisdictions, alternate states take alternate
# halves, so the matrix as a whole still renders each of the 40 combinations in about half the
# states, at half the cost; a handful of files gets the whole cube.
_HALVES = (
    (("insurance", False, False), ("insurance", True, True),
     ("self-pay", False, True), ("self-pay", True, False)),
    (("insurance", False, True), ("insurance", True, False),
     ("self-pay", False, False), ("self-pay", True, True)),
)  # fmt: skip
WHOLE_CUBE_BELOW = 8  # jurisdictions


def combinations_for(index: int, count: int) -> tuple[tuple[str, str, bool, bool], ...]:
    """The setting x options combinations the matrix renders for the index-th of `count` files."""
    if count < WHOLE_CUBE_BELOW:
        return COMBINATIONS
    half = _HALVES[index % 2]
    return tuple((setting, *options) for setting in SETTINGS for options in half)


def frames_for(index: int, count: int) -> tuple[tuple[str, str, bool, bool], ...]:
    """The combinations, of those combinations_for gives, whose whole document the matrix renders:
    the frame (consent.md.j2) around the sections. The frame's output is not checked, only that it
    renders, and it reads little beyond the setting and the options, so with many files each
    renders it once a setting, the options turning from file to file: the matrix as a whole still
    renders it for every setting beside every combination of options. Every section is rendered
    and checked in every combination."""
    if count < WHOLE_CUBE_BELOW:
        return COMBINATIONS
    half = _HALVES[index % 2]
    return tuple(
        (setting, *half[(index // 2 + i) % len(half)]) for i, setting in enumerate(SETTINGS)
    )


_LEAKS = re.compile(r"\{\{|\{%|\bNone\b")
_FAILS_FOR = re.compile(r"^fails for \S+ \S+: ")
_STOP: Any = None  # an Event: set when a template went over a limit; the matrix stops


def _share_stop(event: Any) -> None:
    global _STOP
    _STOP = event


GRADE_LIMIT = 10.0
_TEMPLATE_BYTES = 2 * 1024 * 1024  # as the renderer's loader (Limits.file_bytes)


def check_syntax(template_dirs: list[Path], env: Any) -> list[Problem]:
    problems = []
    for folder in template_dirs:
        for path in sorted(folder.rglob("*.j2")):
            if not path.is_file():  # a folder, a FIFO, a device: never opened
                problems.append(Problem(relative_path(str(path)), 0, 0, "error",
                                        "is not a regular file", "CG004"))  # fmt: skip
                continue
            try:
                with path.open("rb") as fh:
                    data = fh.read(_TEMPLATE_BYTES + 1)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                problems.append(Problem(relative_path(str(path)), 0, 0, "error",
                                        f"cannot be read ({reason})", "CG004"))  # fmt: skip
                continue
            if len(data) > _TEMPLATE_BYTES:
                problems.append(Problem(relative_path(str(path)), 0, 0, "error", "is larger than "
                                        f"{_TEMPLATE_BYTES // 1024} KiB", "CG004"))  # fmt: skip
                continue
            try:
                source = data.decode("utf-8")
                env.parse(source, path.name, str(path))
            except UnicodeDecodeError:
                problems.append(
                    Problem(relative_path(str(path)), 0, 0, "error", "is not UTF-8 text", "CG004")
                )
            except TemplateSyntaxError as exc:
                problems.append(Problem(relative_path(str(path)), exc.lineno or 1, 1, "error",
                                        f"template syntax: {exc.message}", "CG301"))  # fmt: skip
    return problems


def render_matrix(
    jurisdiction_files: list[tuple[Path, str]],
    data_dirs: list[Path],
    as_of: dt.date,
    jobs: int | None = None,
) -> list[Problem]:
    """Render every jurisdiction x setting x payment x supervisee x telehealth document (with
    many jurisdictions, each in half of the option cube: see combinations_for).

    A template that goes over a limit of its render (too many steps, too long, too large) stops
    the whole matrix: it would go over it for every document, and it is reported once.
    """
    return Matrix(jurisdiction_files, data_dirs, as_of, jobs).findings()


class Matrix:
    """render_matrix begun in worker processes, so the caller can check the data files
    meanwhile: `findings()` waits for them, `cancel()` drops them (the caller failed). With one
    job, or a few files, the matrix is rendered in this process when its findings are asked for.
    """

    def __init__(
        self,
        jurisdiction_files: list[tuple[Path, str]],
        data_dirs: list[Path],
        as_of: dt.date,
        jobs: int | None = None,
    ) -> None:
        count = len(jurisdiction_files)
        self.tasks = [(str(path), origin, [str(d) for d in data_dirs], as_of,
                       combinations_for(i, count), frozenset(frames_for(i, count)))
                      for i, (path, origin) in enumerate(jurisdiction_files)]  # fmt: skip
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Any] = []
        jobs = jobs or os.cpu_count() or 1
        if jobs > 1 and len(self.tasks) > 4 and sys.platform != "win32":
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self.pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_share_stop,
                                            initargs=(context.Event(),))  # fmt: skip
            size = max(1, len(self.tasks) // 8)
            try:
                self.futures = [self.pool.submit(_render_states, self.tasks[i : i + size])
                                for i in range(0, len(self.tasks), size)]  # fmt: skip
            except BaseException:
                self.cancel()
                raise

    def findings(self) -> list[Problem]:
        if self.pool is None:
            _share_stop(threading.Event())
            return _findings([_render_state(task) for task in self.tasks])
        with self.pool:
            return _findings([result for future in self.futures for result in future.result()])

    def cancel(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _render_states(tasks: list[Any]) -> list[Any]:
    return [_render_state(task) for task in tasks]


def _findings(results: list[Any]) -> list[Problem]:
    """One list of findings from each file's renders: each failure once, the grades summed up."""
    problems: list[Problem] = []
    grades: dict[str, list[tuple[float, str, str]]] = {}
    seen: set[tuple[str, int, str]] = set()
    for found, section_grades in results:
        for problem in found:
            # The same broken template fails the same way everywhere: report it once.
            key = (problem.path, problem.line, _FAILS_FOR.sub("", problem.message))
            if key not in seen:
                seen.add(key)
                problems.append(problem)
        for template, values in section_grades.items():
            grades.setdefault(template, []).extend(values)
    for template, values in sorted(grades.items()):
        above = sorted((v for v in values if v[0] > GRADE_LIMIT), reverse=True)
        if above:
            worst, where, setting = above[0]
            states = sorted({w for _, w, _ in above})
            problems.append(Problem(template, 1, 1, "warning",
                                    f"reads at grade {worst:.1f} for {where} ({setting}); aim for "
                                    f"8, at most {GRADE_LIMIT:.0f}; above {GRADE_LIMIT:.0f} in "
                                    f"{len(states)} jurisdiction(s): {', '.join(states[:8])}"
                                    f"{' ...' if len(states) > 8 else ''}", "CG401"))  # fmt: skip
    return problems


def _render_state(
    task: tuple[
        str, str, list[str], dt.date, tuple[tuple[str, str, bool, bool], ...], frozenset[Any]
    ],
) -> tuple[list[Problem], dict[str, list[tuple[float, str, str]]]]:
    from consentgen import compose, jurisdictions, standards
    from consentgen.engine import template_env
    from consentgen.model import PracticeProfile, Request
    from consentgen.rendering.markdown import to_markdown, write_document
    from consentgen.rendering.sandbox import template_error
    from consentgen.resources import SearchPath

    path_text, origin, dirs, as_of, combinations, frames = task
    path = Path(path_text)
    search = SearchPath.make(tuple(Path(d) for d in dirs))
    env = template_env(tuple(search.template_dirs()))
    problems: list[Problem] = []
    grades: dict[str, list[tuple[float, str, str]]] = {}
    federal = search.find("jurisdictions/US.yaml")
    try:
        state = jurisdictions.load_file(path, origin).jurisdiction
        us = jurisdictions.load_file(*federal).jurisdiction if federal else state
    except ConsentgenError:
        return [], {}  # the data checks report broken files
    law = jurisdictions.merge(us, state, as_of)
    profile = PracticeProfile()
    memo: dict[Any, Any] = {}
    paths: dict[str, str] = {}
    graded: dict[str, float | None] = {}
    for setting, payment, supervisee, telehealth in combinations:
        if _STOP is not None and _STOP.is_set():
            break
        request = Request(state=state.code, setting=setting, payment=payment,
                          supervisee=supervisee, telehealth=telehealth, as_of=as_of)  # fmt: skip
        try:
            plan = compose.plan(request, law, profile)
            doc = write_document(plan, profile, env, [], (), memo)
            if (setting, payment, supervisee, telehealth) in frames:
                to_markdown(doc, env)
        except ConsentgenError as exc:
            problems.append(_render_problem(exc, env, state.code, setting))
            if getattr(exc, "limit", False):
                if _STOP is not None:
                    _STOP.set()
                break
            continue
        except Exception as exc:  # a template bug must become a finding, not a crash
            problems.append(_render_problem(template_error(exc, "template"), env, state.code,
                                            setting, exc))  # fmt: skip
            continue
        label = f"{state.code} {setting}"
        for need in standards.missing(doc, standards.requirements(law.ethics_codes, None, request)):
            section_id = standards.ELEMENTS[need.element][0][0]
            name = f"sections/{section_id}.md.j2"
            if name not in paths:
                paths[name] = _template_path(env, name)
            problems.append(Problem(paths[name], 1, 1, "error", f"fails for {label}: no "
                                    f"section tells the client {need.element.replace('_', ' ')}, "
                                    f"which {need.cite} asks for", "CG304"))  # fmt: skip
        for section in doc.sections:
            name = f"sections/{section.id}.md.j2"
            if name not in paths:
                paths[name] = _template_path(env, name)
            template = paths[name]
            text = "\n\n".join(section.paragraphs)
            if not section.paragraphs:
                problems.append(
                    Problem(
                        template,
                        1,
                        1,
                        "error",
                        f"section '{section.id}' is empty for {label}",
                        "CG303",
                    )
                )
            leak = _LEAKS.search(text) if "{" in text or "None" in text else None
            if leak:
                problems.append(Problem(template, 1, 1, "error", f"section '{section.id}' shows "
                                        f"'{leak.group()}' for {label}", "CG303"))  # fmt: skip
            if (section.id != "legal_basis" and setting == "individual") or section.id in (
                "couples",
                "family",
                "group",
                "minors",
            ):
                # Quoted lines are the law's own words or notes to the therapist, not our prose.
                prose = "\n".join(ln for ln in text.splitlines() if not ln.startswith(">"))
                if prose not in graded:  # the same text (most sections) is graded once
                    graded[prose] = grade(plain(prose))
                level = graded[prose]
                if level is not None:
                    grades.setdefault(template, []).append((level, state.code, setting))
    return problems, grades


def _render_problem(
    exc: ConsentgenError, env: Any, code: str, setting: str, original: BaseException | None = None
) -> Problem:
    from consentgen.rendering.sandbox import TemplateFailure

    found = exc.problems if isinstance(exc, TemplateFailure) else ()
    if found:  # a template failure knows its file and line
        path, line = relative_path(found[0].path), found[0].line
        message = str(exc)
        for where in (f"{found[0].path}:{found[0].line}: ", f"{found[0].path}: "):
            message = message.removeprefix(where)
        return Problem(path, line, 1, "error", f"fails for {code} {setting}: {message}", "CG302")
    original = original or exc.__cause__ or exc.__context__ or exc
    path, line = "templates", 1
    for frame in reversed(traceback.extract_tb(original.__traceback__)):
        if frame.filename.endswith(".j2"):
            path, line = relative_path(frame.filename), frame.lineno or 1
            break
    return Problem(path, line, 1, "error", f"fails for {code} {setting}: {exc}", "CG302")


def _template_path(env: Any, name: str) -> str:
    try:
        filename = env.loader.get_source(env, name)[1] or name
    except Exception:
        return name
    return relative_path(filename)


def relative_path(path: str) -> str:
    """Inside the working folder, the path from it (as editors and CI expect); else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
