"""A supervised clinician is called by the state's own title, from the data (issue 12, item 5)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import AS_OF, PROFILE, ROOT
from consentgen import Request, build_document, render

DATE = dt.date.fromisoformat(AS_OF)
GENERIC = "I am Jordan Lee, MA, LMFT, working toward a license as a marriage and family therapist."

# (state, profession) -> the sentence a supervisee's document opens "Who I am" with.
TITLES = {
    ("CA", "mft"): "an Associate Marriage and Family Therapist",
    ("CA", "counselor"): "an Associate Professional Clinical Counselor",
    ("CA", "social-worker"): "an Associate Clinical Social Worker",
    ("TX", "counselor"): "an LPC Associate",
    ("TX", "mft"): "an LMFT Associate",
    ("FL", "counselor"): "a Registered Mental Health Counselor Intern",
    ("FL", "mft"): "a Registered Marriage and Family Therapist Intern",
    ("FL", "social-worker"): "a Registered Clinical Social Worker Intern",
    ("CO", "psychologist"): "a Psychologist Candidate",
    ("CO", "counselor"): "a Licensed Professional Counselor Candidate",
    ("CO", "mft"): "a Marriage and Family Therapist Candidate",
    ("CO", "social-worker"): "a Clinical Social Worker Candidate",
    ("WA", "counselor"): "a Licensed Mental Health Counselor Associate",
    ("WA", "mft"): "a Licensed Marriage and Family Therapist Associate",
    ("WA", "social-worker"): "a Licensed Social Worker Associate—Independent Clinical",
    ("OR", "counselor"): "a Professional Counselor Associate",
    ("OR", "mft"): "a Marriage and Family Therapist Associate",
    ("OR", "social-worker"): "a Clinical Social Work Associate",
    ("NC", "counselor"): "a Licensed Clinical Mental Health Counselor Associate",
    ("NC", "mft"): "a Licensed Marriage and Family Therapy Associate",
    ("NC", "social-worker"): "a Licensed Clinical Social Worker Associate",
}


def _md(state: str, profession: str | None = None, *, supervisee: bool = True, data=()) -> str:
    request = Request(state=state, supervisee=supervisee, profession=profession, as_of=DATE)
    text = render(build_document(request, practice=PROFILE, data_dirs=list(data)), "md")
    assert isinstance(text, str)
    return text


def _clinician(md: str) -> str:
    """The "Who I am" section's text."""
    return md.split("## Who I am", 1)[1].split("\n## ", 1)[0]


def _override(tmp_path, state: str, edit) -> str:
    folder = tmp_path / "data" / "jurisdictions"
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "jurisdictions" / f"{state}.yaml").read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text
    (folder / f"{state}.yaml").write_text(changed, encoding="utf-8")
    return str(tmp_path / "data")


@pytest.mark.parametrize(("state", "profession"), sorted(TITLES))
def test_a_supervisee_is_called_by_the_state_title_and_a_licensee_never_is(state, profession):
    title = TITLES[(state, profession)]
    supervised = _clinician(_md(state, profession))
    assert f"I am Jordan Lee, {title}.\n" in supervised
    assert "LMFT, a" not in supervised  # no license the associate does not hold
    assert "I am not yet fully licensed." in supervised
    # FL's required notice about intern titles (state_notices) names one to every client, so
    # the licensee's check is on the section that introduces the clinician.
    licensed = _clinician(_md(state, profession, supervisee=False))
    assert title.split(" ", 1)[1] not in licensed
    assert "I am not yet fully licensed" not in licensed


def test_without_a_title_in_the_data_the_generic_sentence_stays(tmp_path):
    assert f"I am Jordan Lee, {TITLES[('CA', 'mft')]}." in _md("CA", "mft")

    # The same state's file without titles, a state that has none, and a profession without one.
    def drop_titles(text: str) -> str:
        return re.sub(r"\n    titles:\n(?:      .*\n|\n)*?(?=    citations:)", "\n", text)

    data = _override(tmp_path, "CA", drop_titles)
    assert GENERIC in _clinician(_md("CA", "mft", data=[data]))
    assert GENERIC in _clinician(_md("NY", "mft"))
    texas_social_worker = _clinician(_md("TX", "social-worker"))
    assert (
        "I am Jordan Lee, MA, LMFT, working toward a license as a clinical social worker."
        in texas_social_worker
    )
    assert "Associate" not in texas_social_worker


def test_the_title_comes_from_the_jurisdiction_data(tmp_path):
    def retitle(text: str) -> str:
        return text.replace(
            "title: Associate Marriage and Family Therapist\n        article: an",
            "title: Registered Associate Marriage and Family Therapist\n        article: a",
        )

    data = _override(tmp_path, "CA", retitle)
    md = _clinician(_md("CA", "mft", data=[data]))
    assert "I am Jordan Lee, a Registered Associate Marriage and Family Therapist." in md


def test_the_review_sheet_lists_the_title_under_your_therapist():
    from consentgen import api

    request = Request(state="TX", supervisee=True, profession="counselor", as_of=DATE)
    items = api.review_sheet(request, practice=PROFILE).items
    item = next(i for i in items if i.rule == "TX.supervision.titles.counselor")
    assert item.section == "your_clinician"
    assert "LPC Associate" in (item.statement or "")
    assert any("681.91" in cite for cite, *_ in item.citations)
    licensed = api.review_sheet(Request(state="TX", profession="counselor", as_of=DATE),
                                practice=PROFILE).items  # fmt: skip
    assert not any(".supervision.titles." in i.rule for i in licensed)
