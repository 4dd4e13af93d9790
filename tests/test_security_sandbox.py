"""A practice's own templates (--data-dir) run in the sandbox: nothing they call, filter or format
reaches Python's internals, changes shared data, or loads code from a cache."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE, ROOT

BUILD = ("build", "--state", "CA", "--as-of", AS_OF)


def _override(tmp_path: Path, source: str, name: str = "sections/consultation.md.j2") -> Path:
    path = tmp_path / "data" / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return tmp_path / "data"


def _one_line(result, template: str, line: int | None) -> str:
    """Exit 2, one line on stderr naming the template (and line), no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout[-300:], result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    where = template if line is None else f"{template}:{line}"
    assert where in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "key",
    ["__class__.__init__.__globals__", "practice.__class__", "practice._name",
     "practice.name.upper", "fees.payment_methods.count"],
)  # fmt: skip
def test_fill_looks_up_profile_fields_only(cli, tmp_path, key):
    marker = tmp_path / "marker"
    payload = (
        f'Hello.\n{{% set g = fill("{key}") %}}\n'
        f'{{{{ g["__builtins__"]["open"]("{marker}", "w") if g is mapping else g }}}}\n'
    )
    data = _override(tmp_path, payload)
    message = _one_line(cli(*BUILD, "--practice", PROFILE, "--data-dir", data),
                        "consultation.md.j2", 2)  # fmt: skip
    assert "fill(" in message and "not a practice-profile field" in message
    assert "Harbor Light" not in message  # the key is named, never a value
    assert not marker.exists()


def test_fill_of_a_field_still_works(cli, tmp_path):
    data = _override(tmp_path, 'Call {{ fill("practice.phone") }} or {{ fill("fees.session") }}.\n')
    result = cli(*BUILD, "--practice", PROFILE, "--data-dir", data, "-o", tmp_path / "c.md")
    assert result.exit_code == 0, result.stderr
    assert "Call " in (tmp_path / "c.md").read_text()


@pytest.mark.parametrize(
    "payload",
    [
        "{{ law.clear() }}",  # the law is shared by every section and every row of a batch
        "{{ section_ids.append('x') }}",
        "{{ law.update({'minors': none}) }}",
    ],
)
def test_templates_cannot_change_shared_data(cli, tmp_path, payload):
    data = _override(tmp_path, "Text.\n" + payload + "\n", "sections/about_therapy.md.j2")
    message = _one_line(cli(*BUILD, "--practice", PROFILE, "--data-dir", data),
                        "about_therapy.md.j2", 2)  # fmt: skip
    assert "unsafe operation" in message


@pytest.mark.parametrize(
    "payload",
    ["{{ state | money }}", "{{ fill | money }}", "{{ as_of | money }}", "{{ 'x' | money }}"],
)
def test_money_formats_numbers_only(cli, tmp_path, payload):
    data = _override(tmp_path, "Fee:\n" + payload + "\n")
    message = _one_line(cli(*BUILD, "--practice", PROFILE, "--data-dir", data),
                        "consultation.md.j2", 2)  # fmt: skip
    assert "money" in message


def test_str_format_cannot_read_private_attributes(cli, tmp_path):
    """str.format runs through the sandbox's formatter (the attribute walk is refused)."""
    data = _override(tmp_path, "A\n{{ '{0.__init__.__globals__}'.format(fill) }}\n")
    _one_line(cli(*BUILD, "--practice", PROFILE, "--data-dir", data), "consultation.md.j2", 2)


def test_html_page_template_errors_are_one_line(cli, tmp_path):
    data = _override(tmp_path, "<html>\n{{ ''.__class__.__mro__ }}\n</html>\n", "page.html.j2")
    result = cli(*BUILD, "--practice", PROFILE, "--data-dir", data, "-o", tmp_path / "c.html")
    assert "unsafe operation" in _one_line(result, "page.html.j2", 2)
    assert not (tmp_path / "c.html").exists()


def test_consent_template_error_names_its_file_and_line(cli, tmp_path):
    data = _override(tmp_path, "# Consent\n\n{{ doc.nothing_here }}\n", "consent.md.j2")
    _one_line(cli(*BUILD, "--practice", PROFILE, "--data-dir", data), "consent.md.j2", 3)


def test_a_planted_bytecode_cache_file_is_never_loaded(cli, tmp_path, monkeypatch):
    """Compiled templates are not cached on disk: nothing read back from a cache is code."""
    from jinja2 import FileSystemBytecodeCache
    from jinja2.bccache import Bucket
    from jinja2.sandbox import SandboxedEnvironment

    from consentgen import __version__
    from consentgen.resources import builtin_root

    cache = tmp_path / "cache"
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(cache))
    marker = tmp_path / "marker"
    folder = cache / "templates"
    folder.mkdir(parents=True, mode=0o700)
    cache.chmod(0o700)
    bcc = FileSystemBytecodeCache(str(folder), pattern=f"{__version__}-%s.cache")
    env = SandboxedEnvironment()
    templates = builtin_root() / "templates"
    for template in templates.rglob("*.j2"):
        name = template.relative_to(templates).as_posix()
        source = template.read_text(encoding="utf-8")
        bucket = Bucket(env, bcc.get_cache_key(name, str(template)),
                        bcc.get_source_checksum(source))  # fmt: skip
        bucket.code = compile(f"open({str(marker)!r}, 'w').close()", str(template), "exec")
        bcc.dump_bytecode(bucket)
    planted = sorted(p.name for p in folder.iterdir())
    result = cli(*BUILD, "--practice", PROFILE, "-o", tmp_path / "c.md")
    assert not marker.exists()
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == planted  # and nothing new is written


# --- memo keys: on template content, never on the environment object -------------------------


def test_an_edited_template_is_never_served_from_a_stale_memo(tmp_path):
    """In a long-lived process whose environment reloads changed templates, a section memo and
    the document's data version follow the template's content."""
    from consentgen import compose
    from consentgen.api import load_profile, prepare_law
    from consentgen.model import Request
    from consentgen.rendering.markdown import make_env, write_document

    data = _override(tmp_path, "First wording.\n")
    path = data / "templates" / "sections" / "consultation.md.j2"
    env = make_env([str(data / "templates"), str(ROOT / "templates")])
    env.auto_reload = True
    as_of = dt.date.fromisoformat(AS_OF)
    law, sources, files = prepare_law("CA", as_of)
    profile = load_profile(PROFILE)
    plan = compose.plan(Request(state="CA", as_of=as_of), law, profile)
    memo: dict = {}
    first = write_document(plan, profile, env, files, sources, memo)
    path.write_text("Second wording.\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    second = write_document(plan, profile, env, files, sources, memo)

    def text(doc):
        return next(s for s in doc.sections if s.id == "consultation").paragraphs

    assert text(first) == ("First wording.",)
    assert text(second) == ("Second wording.",)
    assert first.data_version != second.data_version


def test_a_template_error_never_shows_a_clients_name(cli, tmp_path):
    """The consent template sees clients' names: an error it makes about one must not print it."""
    data = _override(tmp_path, "# Consent\n\n{{ {}[doc.signatures[0].name] }}\n", "consent.md.j2")
    result = cli(*BUILD, "--practice", PROFILE, "--data-dir", data, "--client", "Ann Secretname")
    message = _one_line(result, "consent.md.j2", 3)
    assert "Secretname" not in message
