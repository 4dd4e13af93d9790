"""The clinician's review sheet: every statement of law a client's copy rests on, where it was
read, whether it is confirmed, what to check, and whether the practice has checked it.

The client's copy holds none of this (see WRITING.md): compose.py keeps only official links in
it, and this module reads the law itself for the rest.

A practice records its own checks in the profile (`reviewed: [{rule: CA.privilege, on:
2026-11-30, by: J. Lee}]`). A review counts until the rule's data changes after that day: while
the rule's `effective` and `revised` dates (and a required notice's `effective` date) are on or
before `on`. Maintainers set `revised` whenever they correct a rule's facts, so a correction
made after a review asks for a new one; a rule first added to the data after the review has
only a later date, or none of its own, and is then judged by its `effective` date.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from pathlib import Path
from typing import Any

from consentgen import jurisdictions, yamlio
from consentgen.compose import Plan
from consentgen.errors import InvalidFileError, Problem
from consentgen.jurisdictions import FEDERAL, ResolvedLaw
from consentgen.model import RULE_NAMES, STATE_RULE_NAMES, PracticeProfile, Review
from consentgen.resources import SearchPath
from consentgen.values import FrozenValue, frozen_value

LABELS: dict[str, str] = {
    "child_abuse_reporting": "Child abuse and neglect reporting",
    "elder_abuse_reporting": "Elder and dependent-adult abuse reporting",
    "duty_to_protect": "Duty to protect",
    "danger_to_self": "Danger to self",
    "serious_threat": "Serious threats to health or safety",
    "privilege": "Privilege",
    "court_orders": "Court orders and subpoenas",
    "hipaa_privacy_notice": "Notice of Privacy Practices",
    "insurance_disclosures": "Insurance",
    "good_faith_estimate": "Good faith estimate",
    "supervision": "Supervision",
    "minors": "Minors",
    "telehealth": "Telehealth",
    "records": "Records",
    "right_of_access": "Access to records",
    "psychotherapy_notes": "Psychotherapy notes",
    "substance_use_records": "Substance use disorder records",
    "crisis_line": "Suicide and crisis lifeline",
}


@frozen_value(kw_only=False)
class Item(FrozenValue):
    """One statement of law in the client's copy."""

    rule: str  # e.g. CA.privilege, US.crisis_line, CA.required_disclosures.bbs_notice
    label: str
    section: str  # the section id where the client reads it
    section_title: str
    statement: str | None  # the facts as the data states them; None: not in the data
    citations: tuple[tuple[str, str, str], ...]  # (cite, source_url, read: primary|secondary)
    verified: bool
    reviewed: bool
    check: str  # what the clinician should check, as sentences
    review: Review | None = None  # the practice's review that counts, if any

    @property
    def pending(self) -> bool:
        """Neither verified in the data nor reviewed by the practice."""
        return not (self.verified or self.reviewed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "section": self.section,
            "statement": self.statement,
            "citations": [{"cite": c, "source_url": u, "read": r} for c, u, r in self.citations],
            "verified": self.verified,
            "reviewed": self.reviewed,
            "check": self.check,
        }


@frozen_value(kw_only=False)
class Sheet(FrozenValue):
    jurisdiction: str
    jurisdiction_name: str
    setting: str
    options: dict[str, object]
    as_of: dt.date
    items: tuple[Item, ...]

    @property
    def pending(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.pending)


def _words(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def _last_change(*dates: dt.date | None) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def _review_for(
    rule_id: str, changed: dt.date | None, reviews: tuple[Review, ...]
) -> tuple[Review | None, Review | None]:
    """(the review that counts, the latest one that no longer does)."""
    mine = sorted((r for r in reviews if r.rule == rule_id), key=lambda r: r.on, reverse=True)
    if not mine:
        return None, None
    latest = mine[0]
    if changed is None or changed <= latest.on:
        return latest, None
    return None, latest


def _check(
    *,
    verified: bool,
    review: Review | None,
    stale: Review | None,
    changed: dt.date | None,
    extra: list[str],
    source: str = "the law's own text",
) -> str:
    parts: list[str] = []
    if not verified:
        parts.append(f"Not yet confirmed against {source}: read the citations' "
                     "official text and confirm the statement.")  # fmt: skip
    parts += extra
    if review is not None:
        who = f" by {review.by}" if review.by else ""
        parts.append(f"Reviewed{who} on {review.on.isoformat()}.")
    elif stale is not None:
        who = f" by {stale.by}" if stale.by else ""
        when = changed.isoformat() if changed else "later"
        parts.append(f"The review{who} on {stale.on.isoformat()} no longer counts: this rule's "
                     f"data changed on {when}. Check it again and update the date.")  # fmt: skip
    if not parts:
        parts.append("Confirmed against its source in consentgen's data: read the statement as "
                     "the client will.")  # fmt: skip
    return " ".join(parts)


def _rule_facts(rule: Any) -> list[str]:
    """What a report or a protective step takes: for the clinician, never the client."""
    facts = []
    if getattr(rule, "status", None):
        facts.append(f"Status: {rule.status}.")
    for key, label in (
        ("reporters", "Who must report"),
        ("reportable", "What is reported"),
        ("protected_persons", "Who the law protects"),
        ("report_to", "Report to"),
        ("deadline", "Deadline to report"),
        ("trigger", "What sets the duty off"),
    ):
        value = _words(getattr(rule, key, None))
        if value:
            facts.append(f"{label}: {value.rstrip('.')}.")
    discharge = getattr(rule, "discharge", ())
    if discharge:
        facts.append("How the duty is met: " + "; ".join(_words(d) or "" for d in discharge) + ".")
    return facts


def build_sheet(plan: Plan, profile: PracticeProfile) -> Sheet:
    """The review sheet for the document `plan` describes."""
    law = plan.law
    reviews = profile.reviewed
    items: list[Item] = []
    placed: set[str] = set()
    sections = [s for s in plan.sections if s.id != "legal_basis"]
    # A rule is listed once, under the section that states it in full (key facts repeat some).
    ordered = [s for s in sections if s.id != "key_facts"] + [
        s for s in sections if s.id == "key_facts"
    ]
    for section in ordered:
        for name in section.rules:
            if name in placed:
                continue
            placed.add(name)
            items.append(_rule_item(name, section.id, section.title, law, reviews))
        if section.id == "state_notices":
            items += [_disclosure_item(d, section.title, law, reviews) for d in plan.notices]
        if section.id == "client_rights":
            items += [_board_item(b, section.title, law, reviews) for b in plan.boards]
        if section.id == "your_clinician" and plan.request.supervisee:
            items += [_title_item(t, section.title, law, reviews) for t in _titles(plan)]
    # What the law asks a written consent to cover, without words of its own: the form as a
    # whole meets it, or the clinician adds what is missing.
    whole_form = f"{law.state.name} requirements for the whole form"
    items += [
        _disclosure_item(d, whole_form, law, reviews)
        for d in plan.disclosures
        if d not in plan.notices
    ]
    items += [_ethics_item(code, plan, reviews) for code in law.ethics_codes
              if code.profession == plan.profession]  # fmt: skip
    position = {s.id: i for i, s in enumerate(sections)}
    items.sort(key=lambda i: position.get(i.section, len(position)))
    req = plan.request
    return Sheet(law.state.code, law.state.name, req.setting, req.options(), law.as_of,
                 tuple(items))  # fmt: skip


def _origin(name: str, law: ResolvedLaw) -> str:
    if law.rules.get(name) is not None:
        return law.origins.get(name, law.state.code)
    return law.state.code if name in STATE_RULE_NAMES else FEDERAL


def _rule_item(
    name: str, section: str, title: str, law: ResolvedLaw, reviews: tuple[Review, ...]
) -> Item:
    origin = _origin(name, law)
    rule_id = f"{origin}.{name}"
    rule = law.rules.get(name)
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    if rule is None:
        review, stale = _review_for(rule_id, None, reviews)
        where = law.state.name if origin != FEDERAL else "federal law"
        check = _check(
            verified=False, review=review, stale=stale, changed=None,
            extra=[f"Not in consentgen's data for {where} on {law.as_of.isoformat()}: the "
                   "section uses general wording only. Find the law on this, and add it to the "
                   "data (or confirm that the general wording is right)."],
        )  # fmt: skip
        return Item(rule_id, label, section, title, None, (), False, review is not None, check,
                    review)  # fmt: skip
    changed = _last_change(rule.effective, rule.revised)
    review, stale = _review_for(rule_id, changed, reviews)
    extra = _rule_facts(rule)
    if origin == FEDERAL and law.state.code != FEDERAL:
        extra.append(f"Federal law; {law.state.name} law may add to it.")
    source = law.state if origin == law.state.code else law.federal
    for b in source.pending_bills:
        if name in b.rules:
            action = f"; {b.last_action}" if b.last_action else ""
            extra.append(
                f"A bill would change this: {b.bill} would {b.would.rstrip('.')} "
                f"({b.status} when last checked, {b.checked.isoformat()}{action})."
            )
    return Item(
        rule_id, label, section, title, _words(rule.summary),
        tuple((c.cite, c.source_url, c.read) for c in rule.citations), rule.verified,
        review is not None,
        _check(verified=rule.verified, review=review, stale=stale, changed=changed, extra=extra),
        review,
    )  # fmt: skip


def _ethics_item(code: Any, plan: Plan, reviews: tuple[Review, ...]) -> Item:
    """The ethics code the form follows: each standard on consent, and the section that meets
    it (standards.ELEMENTS)."""
    from consentgen import standards

    rule_id = f"{FEDERAL}.ethics_codes.{code.profession}"
    review, stale = _review_for(rule_id, None, reviews)
    titles = {s.id: s.title for s in plan.sections}
    met: dict[str, list[str]] = {}
    for req in standards.requirements((code,), code.profession, plan.request):
        where = next((titles[sid] for sid, _ in standards.ELEMENTS[req.element]
                      if sid in titles), "no section of this form")  # fmt: skip
        met.setdefault(req.cite, []).append(f"{req.element.replace('_', ' ')} ({where})")
    statement = f"{code.name} ({code.edition}) asks a consent to cover: " + "; ".join(
        f"{cite}: {', '.join(parts)}" for cite, parts in met.items()
    )
    extra = ["Each document follows the code of its clinician's profession; the sections named "
             "say each point (a test checks the wording is there)."]  # fmt: skip
    check = _check(verified=code.verified, review=review, stale=stale, changed=None, extra=extra,
                   source="the code's own published text")  # fmt: skip
    return Item(
        rule_id, f"Ethics code: {code.name}", "ethics", "Your profession's ethics code",
        statement, tuple((c.cite, c.source_url, c.read) for c in code.citations), code.verified,
        review is not None, check, review,
    )  # fmt: skip


def _disclosure_item(d: Any, title: str, law: ResolvedLaw, reviews: tuple[Review, ...]) -> Item:
    rule_id = f"{law.state.code}.required_disclosures.{d.id}"
    review, stale = _review_for(rule_id, d.effective, reviews)
    given = bool(d.verbatim or d.notice)
    extra = [
        "The law prescribes the exact words: compare the notice with them."
        if d.verbatim
        else "Check that the notice gives everything the law asks for."
        if given
        else "Check that the form covers this, and add what it lacks before use."
    ]
    return Item(
        rule_id, d.title, "state_notices" if given else "requirements", title, _words(d.summary),
        tuple((c.cite, c.source_url, c.read) for c in d.citations), d.verified, review is not None,
        _check(verified=d.verified, review=review, stale=stale, changed=d.effective,
               extra=extra),
        review,
    )  # fmt: skip


def _titles(plan: Plan) -> list[Any]:
    """The state's title for the clinician's profession that the document uses, if any."""
    rule = plan.law.rules.get("supervision")
    titles = getattr(rule, "titles", ())
    return [t for t in titles if t.profession == plan.profession][:1]


def _title_item(t: Any, title: str, law: ResolvedLaw, reviews: tuple[Review, ...]) -> Item:
    rule_id = f"{_origin('supervision', law)}.supervision.titles.{t.profession}"
    rule = law.rules.get("supervision")
    changed = _last_change(rule.effective, rule.revised) if rule is not None else None
    review, stale = _review_for(rule_id, changed, reviews)
    return Item(
        rule_id, f"Title: {t.title}", "your_clinician", title,
        f"A supervised clinician in this profession is called {t.article} {t.title}.",
        tuple((c.cite, c.source_url, c.read) for c in t.citations), t.verified, review is not None,
        _check(verified=t.verified, review=review, stale=stale, changed=changed,
               extra=["Check that the title is the one on the clinician's registration or "
                      "license."]),
        review,
    )  # fmt: skip


def _board_item(b: Any, title: str, law: ResolvedLaw, reviews: tuple[Review, ...]) -> Item:
    rule_id = f"{law.state.code}.licensing_boards.{b.profession}"
    review, stale = _review_for(rule_id, None, reviews)
    contact = ", ".join(x for x in (b.url, b.phone, b.address) if x)
    return Item(
        rule_id, b.name, "client_rights", title, f"{b.name}: {contact}.",
        ((b.name, b.source_url, "primary" if b.verified else "secondary"),), b.verified,
        review is not None,
        _check(verified=b.verified, review=review, stale=stale, changed=None,
               extra=["Check the board's name, address, phone and website on its own site."]),
        review,
    )  # fmt: skip


# --- The profile's `reviewed` entries: known rules only ------------------------------------------


def known_rules(code: str, search: SearchPath) -> set[str] | None:
    """The rule ids a review of jurisdiction `code` may name, or None if there is no such file."""
    if code == FEDERAL:
        found = search.find(f"jurisdictions/{FEDERAL}.yaml")
        if found is None:
            return None
        rules = jurisdictions.load_file(*found).jurisdiction.rules
        names = {f"US.{n}" for n in RULE_NAMES if getattr(rules, n) is not None}
        return names | {f"US.ethics_codes.{c.profession}" for c in rules.ethics_codes}
    where = jurisdictions.available(search).get(code)
    if where is None:
        return None
    rules = jurisdictions.load_file(*where).jurisdiction.rules
    names = {f"{code}.{n}" for n in RULE_NAMES if getattr(rules, n) is not None}
    names |= {f"{code}.{n}" for n in STATE_RULE_NAMES}  # a missing rule can be reviewed too
    names |= {f"{code}.required_disclosures.{d.id}" for d in rules.required_disclosures}
    names |= {f"{code}.licensing_boards.{b.profession}" for b in rules.licensing_boards}
    if rules.supervision is not None:
        names |= {f"{code}.supervision.titles.{t.profession}" for t in rules.supervision.titles}
    return names


def check_reviews(profile: PracticeProfile, practice: Path | None, search: SearchPath) -> None:
    """Refuse a `reviewed` entry that names no rule consentgen knows, at its line:col."""
    if not profile.reviewed:
        return
    marked = None
    if practice is not None:
        display = str(practice)
        marked = yamlio.load_text(yamlio.read_text(practice, display), display)
    problems = review_problems(profile, marked, search)
    if problems:
        raise InvalidFileError(problems)


def review_problems(
    profile: PracticeProfile, marked: yamlio.Marked | None, search: SearchPath
) -> list[Problem]:
    """A problem for each `reviewed` entry that names no rule consentgen knows (at its line:col
    when the profile's YAML is given); `build` refuses them, `lint` reports them."""
    problems: list[Problem] = []
    cache: dict[str, set[str] | None] = {}
    for i, review in enumerate(profile.reviewed):
        code = review.rule.split(".", 1)[0]
        if code not in cache:
            cache[code] = known_rules(code, search)
        known = cache[code]
        if known is not None and review.rule in known:
            continue
        if known is None:
            message = (
                f"reviewed[{i}].rule '{review.rule}': there is no jurisdiction "
                f"'{code}' (use a state's two-letter code, or US for federal law)"
            )
        else:
            close = difflib.get_close_matches(review.rule, sorted(known), n=1, cutoff=0.6)
            hint = (f"; did you mean {close[0]}?" if close
                    else "; `consentgen review` lists the rules of a document")  # fmt: skip
            message = f"reviewed[{i}].rule '{review.rule}' is not a rule consentgen knows{hint}"
        if marked is not None:
            problems.append(marked.problem(("reviewed", i, "rule"), message, "CG104",
                                           at_value=True))  # fmt: skip
        else:
            problems.append(Problem("(practice profile)", 0, 0, "error", message, "CG104"))
    return problems


# --- Output --------------------------------------------------------------------------------------


def sheet_dict(sheet: Sheet) -> dict[str, Any]:
    return {
        "jurisdiction": sheet.jurisdiction,
        "jurisdiction_name": sheet.jurisdiction_name,
        "setting": sheet.setting,
        "options": sheet.options,
        "as_of": sheet.as_of.isoformat(),
        "pending": len(sheet.pending),
        "items": [i.as_dict() for i in sheet.items],
    }


def to_json(sheet: Sheet) -> str:
    return json.dumps(sheet_dict(sheet), indent=2, ensure_ascii=False) + "\n"


def to_markdown(sheet: Sheet, env: Any) -> str:
    from consentgen.rendering.markdown import BLANK, Md, template_error, tidy

    try:
        text = env.get_template("review.md.j2").render(sheet=sheet, blank=Md(BLANK))
    except Exception as exc:
        raise template_error(exc, "review.md.j2") from None
    return tidy(text)


def to_html(sheet: Sheet, env: Any) -> str:
    """The same Markdown → HTML path as documents (markdown-it-py, print.css), in a page of its
    own title."""
    import html

    from consentgen.rendering import html as html_render

    body = html_render.markdown_to_html(to_markdown(sheet, env))
    css = env.loader.get_source(env, "print.css")[0]
    style = getattr(html_render, "style_text", None)
    css = style(css) if style else css.replace("</", "<\\/")
    title = html.escape(f"Review sheet: {sheet.jurisdiction_name}, {sheet.setting}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
        f'<main class="review">\n{body}</main>\n</body>\n</html>\n'
    )
