"""What the document says, decided by the law's data and the request."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROFILE, ROOT, state_cases
from consentgen import Request, build_document, render

AS_OF = dt.date(2026, 11, 25)
RULE = """\
  {name}:
    status: {status}
    summary: Summary of {label}.
    citations: [{{cite: "Ex. Stat. {name}", source_url: "https://example.org/{name}",
                  read: primary}}]
    verified: {verified}
"""


def _state(tmp_path, statuses: dict[str, str], verified: bool = True, extra: str = ""):
    rules = "".join(
        RULE.format(name=n, label=n.replace("_", " "), status=s, verified=str(verified).lower())
        for n, s in statuses.items()
    )
    folder = tmp_path / "jurisdictions"
    folder.mkdir(exist_ok=True)
    (folder / "ZZ.yaml").write_text(
        f"code: ZZ\nname: Zedland\nlast_reviewed: 2026-01-01\nrules:\n{rules}{extra}"
    )
    return tmp_path


def _section(doc, section_id: str) -> str:
    return "\n\n".join(next(s for s in doc.sections if s.id == section_id).paragraphs)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("mandatory", "the law requires me to act to protect that person, even if you ask"),
        ("permissive", "the law allows me, but does not require me, to act to protect"),
        ("none", "The law of Zedland does not require me to warn someone you threaten"),
        ("unknown", "I may have to act to protect that person"),
    ],
)
def test_duty_to_protect_wording_follows_its_status(tmp_path, status, expected):
    data = _state(tmp_path, {"duty_to_protect": status})
    doc = build_document(Request(state="ZZ", as_of=AS_OF), data_dirs=[data])
    text = _section(doc, "duty_to_protect")
    assert expected in text
    assert "Summary of duty to protect." not in text  # the review sheet's, never the client's
    others = {"mandatory", "permissive", "none", "unknown"} - {status}
    assert all(_wording(s) not in text for s in others if _wording(s) != _wording(status))


def _wording(status: str) -> str:
    return {
        "mandatory": "the law requires me to act",
        "permissive": "allows me, but does not",
        "none": "does not require me to warn",
        "unknown": "I may have to act",
    }[status]


def test_unverified_and_missing_rules_go_to_the_review_sheet_not_the_client_copy(tmp_path):
    from consentgen import api

    data = _state(tmp_path, {"child_abuse_reporting": "mandatory"}, verified=False)
    request = Request(state="ZZ", as_of=AS_OF)
    doc = build_document(request, data_dirs=[data])
    assert all(not hasattr(s, "unverified") for s in doc.sections)
    md = render(doc, "md", data_dirs=[data])
    assert "For the therapist" not in md and "unverified" not in md
    assert "Ex. Stat. child\\_abuse\\_reporting" in md  # cited, not linked: not an official host
    assert "example.org" not in md
    sheet = {i.rule: i for i in api.review_sheet(request, data_dirs=[data]).items}
    assert sheet["ZZ.child_abuse_reporting"].pending
    assert "not yet confirmed" in sheet["ZZ.child_abuse_reporting"].check.lower()
    assert sheet["ZZ.elder_abuse_reporting"].statement is None
    assert "Not in consentgen's data for Zedland" in sheet["ZZ.elder_abuse_reporting"].check


def test_law_is_resolved_as_of_the_date():
    before = build_document(Request(state="NY", as_of=dt.date(2012, 6, 1)))
    after = build_document(Request(state="NY", as_of=AS_OF))
    assert "allows me, but does not require me" in _section(before, "duty_to_protect")
    assert "the law requires me to act" in _section(after, "duty_to_protect")
    assert before.data_version == after.data_version  # same files, different dates


def test_a_rule_not_yet_in_force_is_not_stated(tmp_path):
    extra = "    effective: 2030-01-01\n"
    data = _state(tmp_path, {"duty_to_protect": "mandatory"}, extra=extra)
    doc = build_document(Request(state="ZZ", as_of=AS_OF), data_dirs=[data])
    assert "I may have to act" in _section(doc, "duty_to_protect")
    staged = build_document(Request(state="ZZ", as_of=dt.date(2030, 1, 1)), data_dirs=[data])
    assert "the law requires me to act" in _section(staged, "duty_to_protect")


@pytest.mark.parametrize(
    ("request_", "roles"),
    [
        (Request(state="CA"), ["Client", "Therapist"]),
        (
            Request(state="CA", setting="couples", clients=("A",)),
            ["Partner", "Partner", "Therapist"],
        ),
        (
            Request(state="CA", setting="family", clients=("A", "B", "C")),
            ["Family member"] * 3 + ["Therapist"],
        ),
        (Request(state="CA", setting="group"), ["Group member", "Therapist"]),
        (
            Request(state="CA", setting="minor", clients=("M",), guardians=("P", "Q")),
            ["Minor client (assent)", "Parent or guardian", "Parent or guardian", "Therapist"],
        ),
        (
            Request(state="CA", setting="minor", clients=("M",)),
            [
                "Minor client (consenting on their own, age 12 or older)",
                "Parent or guardian",
                "Therapist",
            ],
        ),
        (
            Request(state="TX", setting="minor", clients=("M",)),
            ["Minor client (assent)", "Parent or guardian", "Therapist"],
        ),
    ],
)
def test_signature_blocks_per_setting(request_, roles):
    doc = build_document(request_)
    assert [s.role for s in doc.signatures] == roles


def test_client_values_are_never_markup_or_templates():
    names = ("<script>alert(1)</script>", "{{ 7*7 }}", "*bold* [link](http://x)", "1. list")
    doc = build_document(Request(state="CA", setting="family", clients=names, as_of=AS_OF))
    md = render(doc, "md")
    signatures = md.split("## Signatures")[1].split("## Legal basis")[0]
    assert "49" not in signatures
    assert "\\{\\{ 7\\*7 \\}\\}" in signatures
    html = render(doc, "html")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html
    assert "<em>bold</em>" not in html and 'href="http://x"' not in html
    assert "*bold* [link](http://x)" in render(doc, "txt")


def test_html_is_a_standalone_print_ready_page():
    html = render(build_document(Request(state="TX", as_of=AS_OF), practice=PROFILE), "html")
    assert html.startswith("<!DOCTYPE html>")
    assert '<h2 id="signatures">Signatures</h2>' in html
    assert "#signatures { break-before: page;" in html
    assert "@page" in html
    assert 'href="https://' in html  # sources are links


def test_text_has_no_markdown_left():
    txt = render(build_document(Request(state="CO", as_of=AS_OF), practice=PROFILE), "txt")
    assert "**" not in txt and "\\_" not in txt and "<http" not in txt
    assert "Informed Consent for Psychotherapy\n==================================" in txt
    assert max(len(line) for line in txt.splitlines()) <= 100


STATES = sorted(p.stem for p in (ROOT / "jurisdictions").glob("*.yaml") if p.stem != "US")
COMBINATIONS = list(
    itertools.product(
        ["individual", "couples", "family", "group", "minor"],
        ["insurance", "self-pay"],
        [False, True],
        [False, True],
    )
)


@pytest.mark.parametrize("state", state_cases(STATES))
def test_every_combination_renders_cleanly(state):
    for i, (setting, payment, supervisee, telehealth) in enumerate(COMBINATIONS):
        practice = PROFILE if i % 2 else None  # with and without a profile, alternately
        doc = build_document(
            Request(state=state, setting=setting, payment=payment, supervisee=supervisee,
                    telehealth=telehealth, as_of=AS_OF),
            practice=practice,
        )  # fmt: skip
        md = render(doc, "md")
        where = f"{state} {setting} {payment} {supervisee} {telehealth} {practice}"
        assert "{{" not in md and "{%" not in md, where
        assert not re.search(r"\bNone\b", md), where
        assert all(s.paragraphs for s in doc.sections), where
        assert ("## Insurance and managed care" in md) == (payment == "insurance"), where
        assert ("## Supervision" in md) == supervisee, where
        assert ("## Telehealth" in md) == telehealth, where


def test_section_memo_changes_nothing():
    from consentgen import compose, jurisdictions
    from consentgen.api import template_env
    from consentgen.model import PracticeProfile
    from consentgen.profile import load
    from consentgen.rendering.markdown import write_document
    from consentgen.resources import SearchPath

    search = SearchPath.make(())
    env = template_env(tuple(search.template_dirs()))
    federal, state = jurisdictions.load("CO", search)
    law = jurisdictions.merge(federal.jurisdiction, state.jurisdiction, AS_OF)
    for profile in (PracticeProfile(), load(PROFILE)):
        memo: dict = {}  # one memo per law and profile, as its callers keep it
        for setting, payment, supervisee, telehealth in COMBINATIONS:
            request = Request(
                state="CO", setting=setting, payment=payment, clients=("A",),
                supervisee=supervisee, telehealth=telehealth, as_of=AS_OF,
            )  # fmt: skip
            plan = compose.plan(request, law, profile)
            fresh = write_document(plan, profile, env, [], ())
            assert write_document(plan, profile, env, [], (), memo) == fresh
        assert 0 < len(memo) < 25 * len(COMBINATIONS)  # used, and bounded


@pytest.mark.parametrize("state", ["CA", "NY", "TX", "WA"])
def test_html_rendered_by_section_equals_the_whole(state, tmp_path, monkeypatch):
    from consentgen.rendering.html import markdown_parser, markdown_to_html

    doc = build_document(Request(state=state, setting="couples", clients=("A", "B"),
                                 supervisee=True, telehealth=True, as_of=AS_OF),
                         practice=PROFILE)  # fmt: skip
    markdown = render(doc, "md")
    whole = markdown_parser().render(markdown)
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path))
    assert markdown_to_html(markdown) == whole  # cold
    assert markdown_to_html(markdown) == whole  # from the cache


def test_section_templates_never_see_client_names(tmp_path):
    folder = tmp_path / "templates" / "sections"
    folder.mkdir(parents=True)
    (folder / "consultation.md.j2").write_text("Clients: {{ req.clients | join(', ') }}.\n")
    doc = build_document(Request(state="CA", clients=("Secret Name",), as_of=AS_OF),
                         data_dirs=[tmp_path])  # fmt: skip
    consultation = next(s for s in doc.sections if s.id == "consultation")
    assert consultation.paragraphs == ("Clients: .",)
    assert doc.signatures[0].name == "Secret Name"


names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


def _shown(html: str) -> list[tuple[str, ...]]:
    """What a browser builds from `html`: its tags with their attributes and its text (character
    references read), with text that is only blanks between tags left out."""
    from html.parser import HTMLParser

    events: list[tuple[str, ...]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            events.append(("start", tag, *(f"{k}={v}" for k, v in attrs)))

        def handle_endtag(self, tag):
            events.append(("end", tag))

        def handle_data(self, data):
            if data.strip():
                events.append(("text", data))

    parser = Parser(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return events


def _within(part: list, whole: list) -> bool:
    return any(whole[i : i + len(part)] == part for i in range(len(whole) - len(part) + 1))


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
@settings(max_examples=150, deadline=None)
@given(clients=st.lists(names, min_size=1, max_size=3), guardian=names)
def test_html_with_names_put_in_afterwards_equals_rendering_it_all(clients, guardian):
    """The page body comes from a cached skeleton plus escaped names; it must show exactly what
    markdown-it-py makes of the whole document (quotes may be escaped in another form)."""
    from consentgen.rendering.html import markdown_parser, to_html

    doc = build_document(Request(state="TX", setting="minor", clients=tuple(clients),
                                 guardians=(guardian,), as_of=AS_OF))  # fmt: skip
    whole = markdown_parser().render(render(doc, "md"))
    import tempfile

    from consentgen.api import search_path, template_env

    previous = os.environ["CONSENTGEN_CACHE_DIR"]
    with tempfile.TemporaryDirectory() as fresh:
        os.environ["CONSENTGEN_CACHE_DIR"] = fresh
        try:
            html = to_html(doc, template_env(tuple(search_path(()).template_dirs())))
            cached = "".join(p.read_text() for p in (Path(fresh) / "html").glob("*.json"))
            assert cached
        finally:
            os.environ["CONSENTGEN_CACHE_DIR"] = previous
    assert _within(_shown(whole), _shown(html))
    assert "CGNAME" not in html
    nameless = markdown_parser().render(
        render(build_document(Request(state="TX", setting="minor", as_of=AS_OF)), "md")
    )
    for name in [*clients, guardian]:
        shown = name.strip()
        if len(shown) > 6 and shown not in nameless:  # (a short string may be any word)
            assert shown not in cached


def test_names_that_look_like_placeholders_stay_themselves(tmp_path):
    from consentgen.rendering.html import markdown_parser

    profile = tmp_path / "p.yaml"
    profile.write_text("practice: {name: CGNAME0000PLACEHOLDER}\n")
    for practice in (None, profile):
        doc = build_document(Request(state="CA", setting="couples", as_of=AS_OF,
                                     clients=("CGNAME0001PLACEHOLDER", "Sam <b>")),
                             practice=practice)  # fmt: skip
        assert markdown_parser().render(render(doc, "md")) in render(doc, "html")


def test_a_profile_sentence_with_leading_blanks_is_text_not_code(tmp_path):
    import yaml

    profile = yaml.safe_load(PROFILE.read_text())
    profile["policies"]["records"]["retention_note"] = "    kept in a locked cabinet  "
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(profile))
    doc = build_document(Request(state="CA", as_of=AS_OF), practice=path)
    html = render(doc, "html")
    assert "<p>Kept in a locked cabinet.</p>" in html and "<pre>" not in html
