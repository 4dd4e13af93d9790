"""A template's render is bounded (steps, time, sizes); every failure of a template, a limit or
any other, is one line naming the template file and line, exit code 2: in build, lint and the
API. The budgets are lowered here so that a limit is hit in a fraction of a second."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE, ROOT
from consentgen import Request, build_document, render
from consentgen.errors import UserError
from consentgen.lint import Config, lint_paths

BUILD = ("build", "--state", "CA", "--as-of", AS_OF, "--practice", PROFILE)
TEMPLATE = "consultation.md.j2"


@pytest.fixture(autouse=True)
def _small_budget(monkeypatch):
    """Budgets small enough for a fast test, large enough for every built-in template."""
    from consentgen.rendering import sandbox

    limits = getattr(sandbox, "LIMITS", None)
    if limits is not None:
        monkeypatch.setattr(sandbox, "LIMITS",
                            dataclasses.replace(limits, steps=30_000, seconds=3.0))  # fmt: skip


class Hung(BaseException):  # not an Exception: nothing may turn it into a clean error
    pass


@contextlib.contextmanager
def _watchdog(seconds: float):
    """Today's code loops for ever on some payloads: stop it, as a failure, not a hung test."""

    def expired(*_):
        raise Hung(f"no limit stopped the template within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _override(tmp_path: Path, source: str | bytes, name: str = f"sections/{TEMPLATE}") -> Path:
    path = tmp_path / "data" / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, str):
        source = source.encode("utf-8")
    path.write_bytes(source)
    return tmp_path / "data"


def _one_line(result, where: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert where in result.stderr, result.stderr
    return result.stderr


LOOPS = {
    "nested loops": "{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000)"
                    " %}{% endfor %}{% endfor %}{% endfor %}",
    "nested loops that output": "{% for i in range(10000) %}{% for j in range(10000) %}"
                                "{{ j }}{% endfor %}{% endfor %}",
    "a macro with two calls of itself": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}"
                                        "{% endif %}{% endmacro %}{{ f(60) }}",
    "loops over strings": "{% set s = 'x' * 5000 %}{% for a in s %}{% for b in s %}{% for c in s %}"
                          "{% endfor %}{% endfor %}{% endfor %}",
}  # fmt: skip


@pytest.mark.parametrize("payload", LOOPS.values(), ids=LOOPS.keys())
def test_a_template_that_runs_for_ever_is_stopped(cli, tmp_path, payload):
    data = _override(tmp_path, "Intro.\n\n" + payload + "\n")
    start = time.monotonic()
    with _watchdog(8):
        result = cli(*BUILD, "--data-dir", data)
    message = _one_line(result, f"{TEMPLATE}:3")
    assert "steps" in message or "took longer" in message or "deep" in message
    assert time.monotonic() - start < 6


HUGE = {
    "range": "{% for i in range(100000) %}{% endfor %}",
    "string times": "{{ ('x' * 2000000) | length }}",
    "list times": "{{ ([1, 2] * 1000000) | length }}",
    "power": "{{ (7 ** 100000) % 10 }}",
    "big product": "{% set n = 10 ** 3000 %}{{ (n * n * n * n) % 7 }}",
    "concatenation": "{% set ns = namespace(s='xx') %}{% for i in range(21) %}"
                     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "plus": "{% set ns = namespace(s='xx') %}{% for i in range(21) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
    "str.format width": "{{ '{:>3000000}'.format(1) | length }}",
    "percent width": "{{ ('%3000000d' % 1) | length }}",
    "format filter": "{{ '%3000000s' | format('a') | length }}",
    "center filter": "{{ 'a' | center(3000000) | length }}",
    "indent filter": "{{ ('a\\n' * 1000) | indent('x' * 5000) | length }}",
    "replace method": "{{ ('x' * 1000).replace('', 'y' * 5000) | length }}",
    "replace filter": "{{ ('x' * 1000) | replace('x', 'y' * 5000) | length }}",
    "join": "{{ ('y' * 5000).join('x' * 1000) | length }}",
    "expandtabs": "{{ ('\\t' * 1000).expandtabs(5000) | length }}",
    "output": "{% set s = 'x' * 500000 %}{% for i in range(40) %}{{ s }}{% endfor %}",
    "lipsum": "{{ lipsum(100000, false, 100, 200) | length }}",
    "wordwrap": "{{ ('x' * 900000) | wordwrap(1) | length }}",
}  # fmt: skip


@pytest.mark.parametrize("payload", HUGE.values(), ids=HUGE.keys())
def test_huge_ranges_numbers_and_texts_are_refused(cli, tmp_path, payload):
    data = _override(tmp_path, "Intro.\n" + payload + "\n")
    with _watchdog(8):
        result = cli(*BUILD, "--data-dir", data)
    _one_line(result, f"{TEMPLATE}:2")


BROKEN = {
    "division by zero": ("{{ 1 // 0 }}", "ZeroDivisionError"),
    "recursion": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "deep"),
    "ValueError": ("{{ (1).to_bytes(-1, 'big') }}", "ValueError"),
    "TypeError": ("{{ 1 + 'a' }}", "TypeError"),
    "OverflowError": ("{{ 10.0 ** 400 }}", "OverflowError"),
    "undefined": ("{{ nothing.here }}", "undefined"),
    "self include": ("{% include 'sections/consultation.md.j2' %}", "deep"),
}  # fmt: skip


@pytest.mark.parametrize(("payload", "shown"), BROKEN.values(), ids=BROKEN.keys())
def test_a_failing_template_is_one_line(cli, tmp_path, payload, shown):
    data = _override(tmp_path, "Intro.\n" + payload + "\n")
    with _watchdog(8):
        result = cli(*BUILD, "--data-dir", data)
    assert shown in _one_line(result, f"{TEMPLATE}:2")


def test_an_unreadable_template_is_one_line(cli, tmp_path, monkeypatch):
    data = _override(tmp_path, "Text.\n")
    path = data / "templates" / "sections" / TEMPLATE
    path.chmod(0)
    real_open = builtins.open

    def deny(file, *args, **kwargs):  # root reads a 000 file anyway: refuse it as the OS would
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    try:
        message = _one_line(cli(*BUILD, "--data-dir", data), TEMPLATE)
    finally:
        path.chmod(0o600)
    assert "cannot be read" in message


def test_a_template_that_is_not_utf8_is_one_line(cli, tmp_path):
    data = _override(tmp_path, b"Caf\xe9 au lait.\n")
    assert "UTF-8" in _one_line(cli(*BUILD, "--data-dir", data), TEMPLATE)


def test_a_limit_in_the_html_page_template_is_one_line(cli, tmp_path):
    data = _override(tmp_path, "<html>\n" + LOOPS["nested loops"] + "\n", "page.html.j2")
    with _watchdog(8):
        result = cli(*BUILD, "--data-dir", data, "-o", tmp_path / "c.html")
    _one_line(result, "page.html.j2:2")
    assert not (tmp_path / "c.html").exists()


def test_the_api_raises_one_user_error(tmp_path):
    data = _override(tmp_path, "Intro.\n" + LOOPS["nested loops"] + "\n")
    with _watchdog(8), pytest.raises(UserError) as caught:
        build_document(Request(state="CA"), practice=PROFILE, data_dirs=[data])
    assert f"{TEMPLATE}:2" in caught.value.message and "\n" not in caught.value.message
    data = _override(tmp_path, LOOPS["nested loops"], "consent.md.j2")
    doc = build_document(Request(state="CA"), practice=PROFILE)
    with _watchdog(8), pytest.raises(UserError, match=r"consent\.md\.j2:1"):
        render(doc, "md", data_dirs=[data])


def _lint_in_a_child(args, kwargs, seconds: float):
    """lint_paths in a forked process (it inherits the small budget), killed if it hangs."""
    import multiprocessing

    def run(conn):
        os.setsid()  # its own process group, so that the pool it starts goes with it
        conn.send(lint_paths(*args, **kwargs))

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=run, args=(child,))
    process.start()
    try:
        if not parent.poll(seconds):
            raise AssertionError(f"lint did not finish within {seconds} s")
        return parent.recv()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.join()


@pytest.mark.parametrize("jobs", [1, 2])
def test_lint_stops_a_runaway_template_and_reports_it_once(tmp_path, jobs):
    data = _override(tmp_path, "Intro.\n" + LOOPS["nested loops"] + "\n")
    states = [ROOT / "jurisdictions" / f"{code}.yaml" for code in ("CA", "NY", "TX", "WA", "FL")]
    problems = _lint_in_a_child(([data / "templates", *states],),
                                {"data_dirs": [data], "config": Config(jobs=jobs)}, 20)  # fmt: skip
    stopped = [p for p in problems if p.rule_id == "CG302"]
    assert len(stopped) == 1, stopped
    assert stopped[0].path.endswith(TEMPLATE) and stopped[0].line == 2
    assert "steps" in stopped[0].message


def test_builtin_templates_render_well_within_the_default_budget(monkeypatch):
    """The default budget is far above what the largest built-in document needs."""
    from consentgen.rendering import sandbox

    used = []
    real = sandbox._Budget.__init__

    def spy(self, limits):
        real(self, limits)
        used.append(self)

    monkeypatch.setattr(sandbox, "LIMITS", sandbox.Limits())
    monkeypatch.setattr(sandbox._Budget, "__init__", spy)
    doc = build_document(Request(state="CA", setting="family", supervisee=True, telehealth=True),
                         practice=PROFILE)  # fmt: skip
    render(doc, "html")
    most = max(sandbox.LIMITS.steps - b.steps for b in used)
    assert most * 10 < sandbox.LIMITS.steps


def test_lint_reports_a_template_it_cannot_read(cli, tmp_path):
    data = _override(tmp_path, "Text.\n")
    (data / "templates" / "sections" / "broken.md.j2").mkdir()  # a folder named like a template
    (data / "templates" / "sections" / "latin.md.j2").write_bytes(b"Caf\xe9\n")
    with _watchdog(20):
        result = cli("lint", "--data-dir", data, data / "templates")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stdout.splitlines() if "CG004" in line]
    assert len(lines) == 2, result.stdout
    assert any("broken.md.j2" in line for line in lines)
