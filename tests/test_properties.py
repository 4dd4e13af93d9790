"""Properties over any input: never crashes, never renders data as a template, same bytes twice."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgen import Request, build_document, render
from consentgen.errors import UserError

AS_OF = dt.date(2026, 11, 25)
names = st.text(min_size=1, max_size=80).filter(lambda s: s.strip())


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    clients=st.lists(names, min_size=1, max_size=3),
    setting=st.sampled_from(["individual", "couples", "family", "group", "minor"]),
    state=st.sampled_from(["CA", "NY", "TX", "FL", "CO"]),
)
def test_any_client_name_builds_the_same_bytes_and_stays_literal(clients, setting, state):
    clients = [*clients, "<b>x</b> {{ 7*7 }}"]
    request = Request(state=state, setting=setting, clients=tuple(clients), as_of=AS_OF)
    first = render(build_document(request), "html")
    assert first == render(build_document(request), "html")
    md = render(build_document(request), "md")
    body = md.split("## Signatures")[0]
    assert "{{" not in body and "{%" not in body
    assert "<b>x</b>" not in first and "&lt;b&gt;x&lt;/b&gt; {{ 7*7 }}" in first


@settings(max_examples=40, deadline=None)
@given(state=st.text(max_size=20))
def test_any_state_text_builds_or_fails_cleanly(state):
    try:
        build_document(Request(state=state, as_of=AS_OF))
    except UserError as exc:
        assert "\n" not in exc.message
        assert exc.message.startswith(("unknown state", "no jurisdiction file"))


def test_building_opens_no_socket(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("consentgen tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    doc = build_document(Request(state="CO", setting="minor", telehealth=True, as_of=AS_OF))
    for fmt in ("md", "html", "txt", "json"):
        assert render(doc, fmt)


@pytest.mark.parametrize("state", ["CA", "NY", "TX", "FL", "CO"])
def test_earlier_forms_are_dated_and_ordered_newest_first(state):
    from conftest import ROOT
    from consentgen.jurisdictions import load_file

    rules = load_file(ROOT / "jurisdictions" / f"{state}.yaml", "built-in").jurisdiction.rules
    for name in rules.__dataclass_fields__:
        rule = getattr(rules, name)
        if rule is None or isinstance(rule, tuple) or not rule.history:
            continue
        dates = [form.effective for form in rule.history]
        assert all(dates), f"{state} {name}: an earlier form has no effective date"
        assert dates == sorted(dates, reverse=True), f"{state} {name}: history not newest first"
        if rule.effective:
            assert rule.effective > dates[0], f"{state} {name}: current form older than history"


# What a document may hold (textsafe.not_text): no control character but a tab and a line feed;
# Markdown's own characters often, as they are what escaping is for.
printable = st.one_of(
    st.sampled_from("-+=1.) #*_`\\[]<>|&!~{}\t\n"),
    st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n"),
)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=printable, max_size=12))
def test_any_text_a_template_prints_is_shown_as_it_is(text):
    """A value a template prints (escape_md, with its fast path for plain text) shows in the
    page as the very text, on one line: never as Markdown, within a line or starting one."""
    import html

    from consentgen.rendering.html import markdown_parser
    from consentgen.rendering.markdown import escape_md, one_line

    # A value with four leading blanks, printed at the start of a line, would be a block of
    # code: the templates print profile text there through `sentence`, which strips it.
    for before, value in (("Value: ", text), ("", text.lstrip(" \t"))):
        if not (before + one_line(value)).strip():
            continue
        rendered = markdown_parser().render(before + escape_md(value) + "\n")
        assert rendered.startswith("<p>") and rendered.endswith("</p>\n"), rendered
        shown = html.unescape(rendered[len("<p>") : -len("</p>\n")])
        assert shown == (before + one_line(value)).strip()  # markdown-it-py strips a paragraph
