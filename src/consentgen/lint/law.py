"""The checks of a jurisdiction file's law (CG2xx), each beside its rule, as in yamllint: the
rule's id, name, default severity and documentation (what fails, what passes), then the check
that finds it. A check reads the validated Jurisdiction and yields findings at key paths of
the file; `check` runs them all and places each finding at its line.

The rules the loader finds (YAML and schema, CG0xx and CG1xx) are declared in rules.py, beside
no check of their own: yamlio.py and structure.py report them while they read a file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any, get_args

from consentgen.errors import Problem
from consentgen.lint.rule import LintRule
from consentgen.model import STATE_RULE_NAMES, Jurisdiction, Profession, Rule, client_fields
from consentgen.values import FrozenValue, frozen_value
from consentgen.yamlio import KeyPath, Marked

PROFESSIONS: tuple[str, ...] = get_args(Profession)
PENDING_BILL_MAX_AGE_DAYS = 120
_URL = re.compile(r"https?://\S+")


@frozen_value(kw_only=False)
class Finding(FrozenValue):
    path: KeyPath
    severity: str
    message: str


@frozen_value(kw_only=False)
class Law(FrozenValue):
    """What a check reads: the file's law, and the day and age limit the lint runs with."""

    jurisdiction: Jurisdiction
    today: dt.date
    max_age: int


Check = Callable[[Law], Iterator[Finding]]
RULES: list[LintRule] = []  # the rules defined here, in the order they are
_CHECKS: list[tuple[str, Check]] = []


def rule(defined: LintRule | str) -> Callable[[Check], Check]:
    """Register the check that follows for `defined`: a rule defined here, or the id of one
    the loader reports (a check of the law that reports under it too)."""

    def register(check: Check) -> Check:
        if isinstance(defined, LintRule):
            RULES.append(defined)
        _CHECKS.append((defined if isinstance(defined, str) else defined.id, check))
        return check

    return register


def check(
    marked: Marked, jurisdiction: Jurisdiction, today: dt.date, max_age: int
) -> list[Problem]:
    """Every finding of every check, each at the line and column of its key or value."""
    law = Law(jurisdiction, today, max_age)
    values = marked.value_marks or {}
    problems = []
    for rule_id, found in _CHECKS:
        for finding in found(law):
            line, col = values.get(finding.path) or marked.mark(finding.path)
            problems.append(Problem(marked.path, line, col, finding.severity, finding.message,
                                    rule_id))  # fmt: skip
    return problems


# --- Walking the law --------------------------------------------------------------------------


def _rules(j: Jurisdiction) -> Iterator[tuple[str, KeyPath, Rule]]:
    """(name, path, rule) of every rule of the file and, after each, of its profession variants
    (and theirs)."""

    def with_variants(name: str, base: KeyPath, value: Rule) -> Iterator[tuple[str, KeyPath, Rule]]:
        yield name, base, value
        for i, variant in enumerate(value.variants):
            yield from with_variants(name, (*base, "variants", i), variant)

    for name in j.rules.__dataclass_fields__:
        value = getattr(j.rules, name)
        if value is None or isinstance(value, tuple):
            continue
        yield from with_variants(name, ("rules", name), value)


def _forms(base: KeyPath, value: Rule) -> Iterator[tuple[KeyPath, Rule]]:
    """The rule's current form at `base`, then its earlier forms, newest first."""
    yield base, value
    for i, form in enumerate(value.history):
        yield (*base, "history", i), form


def _cited(j: Jurisdiction) -> Iterator[tuple[KeyPath, tuple[Any, ...], bool]]:
    """(path, citations, verified) of everything that cites the law: each form of each rule,
    each associate title, each required disclosure."""
    for _name, base, value in _rules(j):
        for path, form in _forms(base, value):
            yield path, form.citations, form.verified
        for i, title in enumerate(getattr(value, "titles", ())):
            yield (*base, "titles", i), title.citations, title.verified
    for i, item in enumerate(j.rules.required_disclosures):
        yield ("rules", "required_disclosures", i), item.citations, item.verified


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 160 else flat[:157] + "..."


# --- The rules --------------------------------------------------------------------------------


@rule(LintRule('CG201', 'citation-source', 'error',
               "a citation's source_url is not a web address (http or https)",
               'source_url: Westlaw',
               passing='source_url: https://leginfo.legislature.ca.gov/...'))  # fmt: skip
def citation_source(law: Law) -> Iterator[Finding]:
    for path, citations, _verified in _cited(law.jurisdiction):
        for i, citation in enumerate(citations):
            if not _URL.fullmatch(citation.source_url):
                yield Finding((*path, "citations", i, "source_url"), "error",
                              f"source_url '{citation.source_url}' is not a web address; give "
                              "the page the fact was read in")  # fmt: skip
    for i, board in enumerate(law.jurisdiction.rules.licensing_boards):
        if not _URL.fullmatch(board.source_url):
            yield Finding(("rules", "licensing_boards", i, "source_url"), "error",
                          "source_url is not a web address")  # fmt: skip


@rule(LintRule('CG202', 'unverified', 'warning',
               'a rule is not verified against its primary source; the document flags it',
               'verified: false',
               passing="verified: true  # the statute's own text was read"))  # fmt: skip
def unverified(law: Law) -> Iterator[Finding]:
    j = law.jurisdiction
    for name, base, value in _rules(j):
        for path, form in _forms(base, value):
            if not form.verified:
                note = f": {_first_sentence(form.notes)}" if form.notes else ""
                where = "an earlier form of " if path != base else ""
                yield Finding((*path, "verified"), "warning" if path == base else "info",
                              f"{where}rules.{name} is not verified against its primary "
                              f"source{note}")  # fmt: skip
        for i, title in enumerate(getattr(value, "titles", ())):
            if not title.verified:
                yield Finding((*base, "titles", i, "verified"), "warning",
                              f"the {title.profession} associate title '{title.title}' is not "
                              "verified against its primary source")  # fmt: skip
    for i, board in enumerate(j.rules.licensing_boards):
        if not board.verified:
            yield Finding(("rules", "licensing_boards", i, "verified"), "warning",
                          f"contact details of the {board.name} are not verified on the "
                          "board's own site")  # fmt: skip
    for i, item in enumerate(j.rules.required_disclosures):
        if not item.verified:
            yield Finding(("rules", "required_disclosures", i, "verified"), "warning",
                          f"required disclosure '{item.id}' is not verified against its primary "
                          "source")  # fmt: skip


@rule(LintRule('CG203', 'stale-review', 'warning',
               'last_reviewed is older than --max-age days (default 365)',
               'last_reviewed: 2020-01-01',
               passing='last_reviewed: 2026-11-01'))  # fmt: skip
def stale_review(law: Law) -> Iterator[Finding]:
    age = (law.today - law.jurisdiction.last_reviewed).days
    if age > law.max_age:
        yield Finding(
            ("last_reviewed",),
            "warning",
            f"last reviewed {age} days ago (more than "
            f"{law.max_age}); check the file against its sources and update the date",
        )


@rule("CG104")  # wrong-type: a date that cannot be right
def reviewed_in_the_future(law: Law) -> Iterator[Finding]:
    if law.jurisdiction.last_reviewed > law.today:
        yield Finding(("last_reviewed",), "error", "last_reviewed is in the future")


@rule(
    LintRule(
        "CG204",
        "effective-order",
        "error",
        "earlier forms must be dated, newest first, and older than the current form",
        "effective: 2010-01-01\nhistory: [{effective: 2015-01-01, ...}]",
        passing="effective: 2015-01-01\nhistory: [{effective: 2010-01-01, ...}]",
    )
)
def effective_order(law: Law) -> Iterator[Finding]:
    for _name, base, value in _rules(law.jurisdiction):
        previous = value.effective
        for i, form in enumerate(value.history):
            if form.effective is None:
                continue  # reported by the schema check (CG103)
            if previous is not None and form.effective >= previous:
                yield Finding((*base, "history", i, "effective"), "error",
                              "history must be newest first and older than the form before it "
                              f"({form.effective.isoformat()} is not before "
                              f"{previous.isoformat()})")  # fmt: skip
            previous = form.effective


@rule(LintRule('CG205', 'future-effective', 'info',
               'a form takes effect after today: a staged change (an earlier form in the future '
               'is an error)',
               'effective: 2030-01-01',
               passing='effective: 2024-07-01'))  # fmt: skip
def future_effective(law: Law) -> Iterator[Finding]:
    for name, base, value in _rules(law.jurisdiction):
        if value.effective and value.effective > law.today:
            yield Finding((*base, "effective"), "info", f"rules.{name} takes effect on "
                          f"{value.effective.isoformat()} (staged); until then its earlier "
                          "form applies")  # fmt: skip
        for i, form in enumerate(value.history):
            if form.effective is not None and form.effective > law.today:
                yield Finding(
                    (*base, "history", i, "effective"),
                    "error",
                    "an earlier form cannot take effect in the future; move it to the current form",
                )


@rule(LintRule('CG206', 'status-contradiction', 'warning',
               "a rule's status does not fit its own facts",
               'status: none\ndischarge: [warn the victim]',
               passing='status: mandatory\ndischarge: [warn the victim]'))  # fmt: skip
def status_contradiction(law: Law) -> Iterator[Finding]:
    for name, base, value in _rules(law.jurisdiction):
        for path, form in _forms(base, value):
            status = form.status
            discharge = getattr(form, "discharge", ())
            if name == "duty_to_protect" and status == "none" and discharge:
                yield Finding((*path, "discharge"), "warning", "status is 'none' but "
                              "'discharge' lists ways to meet a duty; fix the status or the "
                              "list")  # fmt: skip
            if name == "duty_to_protect" and status == "mandatory" and not discharge:
                yield Finding((*path, "status"), "warning", "a mandatory duty to protect needs "
                              "'discharge': how the therapist meets it")  # fmt: skip
            if name.endswith("_reporting") and status == "none" and getattr(form, "deadline",
                                                                             None):  # fmt: skip
                yield Finding(
                    (*path, "deadline"),
                    "warning",
                    "status is 'none' but a "
                    "reporting deadline is given; fix the status or the deadline",
                )
            if name == "minors":
                age = getattr(form, "outpatient_consent_age", None)
                if age is not None and not getattr(form, "conditions", None):
                    yield Finding((*path, "outpatient_consent_age"), "warning", "a consent age "
                                  "needs its 'conditions' (what the minor or therapist must "
                                  "show)")  # fmt: skip


@rule(LintRule('CG207', 'undated-current-form', 'warning',
               'a rule has earlier forms but its current form has no effective date, so --as-of '
               'cannot tell when it started',
               'history: [...]  # and no effective on the rule',
               passing='effective: 2013-01-01\nhistory: [...]'))  # fmt: skip
def undated_current_form(law: Law) -> Iterator[Finding]:
    for name, base, value in _rules(law.jurisdiction):
        if value.history and value.effective is None:
            yield Finding(
                base,
                "warning",
                f"rules.{name} has earlier forms but its current "
                "form has no 'effective' date; --as-of cannot tell when it started",
            )


@rule(LintRule('CG208', 'missing-rule', 'warning',
               'a state file lacks a rule every state should have',
               '(a state file without duty_to_protect)',
               passing='(a state file with every rule, status unknown where not yet '
                       'researched)'))  # fmt: skip
def missing_rule(law: Law) -> Iterator[Finding]:
    j = law.jurisdiction
    if j.code == "US":
        return
    boards = {board.profession for board in j.rules.licensing_boards}
    lacking = [p for p in PROFESSIONS if p not in boards]
    if lacking:
        yield Finding(("rules",), "warning", f"no licensing board for {', '.join(lacking)}; the "
                      "complaint paragraph will be blank for them")  # fmt: skip
    missing = [name for name in STATE_RULE_NAMES if getattr(j.rules, name) is None]
    if missing:
        yield Finding(("rules",), "warning", f"no rule for {', '.join(missing)}: every state "
                      "file should state each (status unknown, with a note, if not yet "
                      "researched)")  # fmt: skip


@rule(LintRule('CG209', 'client-wording', 'error',
               "a field the client's copy reads names the clinician in the third person, speaks "
               "as 'I', holds a research caveat, a web address or a citation",
               'trigger: the client tells the therapist of a threat  # unconfirmed',
               passing='trigger: a client tells of a serious threat of violence against '
                       'someone who can be identified'))  # fmt: skip
def client_wording(law: Law) -> Iterator[Finding]:
    """What the client's copy reads holds a fact, in words that fit the practice's voice, or
    nothing (see model.CLIENT)."""

    def walk(value: Any, path: KeyPath) -> Iterator[Finding]:
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                yield from walk(item, (*path, i))
            return
        if not hasattr(value, "__dataclass_fields__"):
            return
        read = client_fields(type(value))
        phrases = client_fields(type(value), phrases=True)
        for name in value.__dataclass_fields__:
            item = getattr(value, name)
            texts = item if isinstance(item, tuple) else (item,)
            for i, text in enumerate(texts):
                where = (*path, name, i) if isinstance(item, tuple) else (*path, name)
                if not isinstance(text, str):
                    yield from walk(text, where)
                elif name in read:
                    problem = client_wording_problem(text, voice=name in phrases)
                    if problem:
                        yield Finding(where, "error", f"{'.'.join(map(str, where[1:]))} is read "
                                      f"by the client: {problem}")  # fmt: skip

    yield from walk(law.jurisdiction.rules, ("rules",))


@rule(LintRule('CG210', 'notice-board-contact', 'warning',
               "a notice gives the licensing board's contact or address, and a board it names "
               'lacks the phone or the mailing address',
               'includes: [board_address]  # and the board has no address',
               passing='includes: [board_address]  # and the board has its address'))  # fmt: skip
def notice_board_contact(law: Law) -> Iterator[Finding]:
    rules = law.jurisdiction.rules
    wanted = [("phone", "board_contact"), ("address", "board_address")]
    for i, item in enumerate(rules.required_disclosures):
        for board in rules.licensing_boards:
            if "all" not in item.applies_to and board.profession not in item.applies_to:
                continue
            lacks = [f for f, fact in wanted if fact in item.includes and not getattr(board, f)]
            if lacks:
                yield Finding(("rules", "required_disclosures", i, "includes"), "warning",
                              f"notice '{item.id}' gives the board's contact, but the "
                              f"{board.name} has no {' or '.join(lacks)}; add it to "
                              "licensing_boards")  # fmt: skip


@rule(LintRule('CG211', 'duplicate-id', 'error',
               'two required disclosures in one file share an id (a review names it, so it must '
               'be unique)',
               '- id: intake_notice ...\n- id: intake_notice ...',
               passing='- id: intake_notice ...\n- id: telehealth_notice ...'))  # fmt: skip
def duplicate_id(law: Law) -> Iterator[Finding]:
    ids: set[str] = set()
    for i, item in enumerate(law.jurisdiction.rules.required_disclosures):
        if item.id in ids:
            yield Finding(("rules", "required_disclosures", i, "id"), "error", "required "
                          f"disclosure id '{item.id}' is used twice; give each its own id, or "
                          "merge them")  # fmt: skip
        ids.add(item.id)


# Words in a citation that name a profession.
_PROFESSION_WORDS = {
    "psychologist": r"psycholog",
    "counselor": r"counsel(?:or|ing)",
    "social-worker": r"social work",
    "mft": r"marriage and family",
}


@rule(LintRule('CG212', 'variant-professions', 'warning',
               "a profession variant's citation names professions the variant is not for",
               "variants: [{applies_to: [mft], citations: [{cite: 'Psychologists Act § 5'}]}]",
               passing="variants: [{applies_to: [mft], citations: [{cite: 'Marriage and Family "
                       "Therapists Act § 5'}]}]"))  # fmt: skip
def variant_professions(law: Law) -> Iterator[Finding]:
    for _name, base, value in _rules(law.jurisdiction):
        for i, variant in enumerate(value.variants):
            path = (*base, "variants", i)
            for k, citation in enumerate(variant.citations):
                named = {p for p, pattern in _PROFESSION_WORDS.items()
                         if re.search(pattern, citation.cite, re.IGNORECASE)}  # fmt: skip
                if named and not named & set(variant.applies_to):
                    yield Finding((*path, "citations", k), "warning",
                                  f"citation '{citation.cite}' names "
                                  f"{', '.join(sorted(named))}, but the variant is for "
                                  f"{', '.join(variant.applies_to)}; check applies_to")  # fmt: skip


@rule(LintRule('CG213', 'verified-without-primary', 'error',
               'a rule is verified but none of its citations was read in primary text',
               'verified: true\ncitations: [{cite: ..., source_url: ..., read: secondary}]',
               passing='verified: true\ncitations: [{cite: ..., source_url: ..., read: '
                       'primary}]'))  # fmt: skip
def verified_without_primary(law: Law) -> Iterator[Finding]:
    for path, citations, verified in _cited(law.jurisdiction):
        if verified and not any(c.read == "primary" for c in citations):
            yield Finding((*path, "verified"), "error", "verified, but no citation was read in "
                          "primary text (read: primary): set verified: false, or cite the "
                          "statute, regulation or board page you read")  # fmt: skip


@rule(LintRule('CG214', 'pending-bill', 'warning',
               'a tracked bill was last checked over 120 days ago, or is no longer pending (an '
               'entry naming a rule the file lacks is an error)',
               'pending_bills: [{bill: HB 1, status: enacted, ...}]',
               passing='pending_bills: [{bill: HB 1, status: pending, checked: 2026-11-27, '
                       '...}]'))  # fmt: skip
def pending_bill(law: Law) -> Iterator[Finding]:
    rules = law.jurisdiction.rules
    known = {f.name for f in dataclasses.fields(rules) if getattr(rules, f.name) is not None}
    for i, bill in enumerate(law.jurisdiction.pending_bills):
        path = ("pending_bills", i)
        for k, name in enumerate(bill.rules):
            if name not in known:
                yield Finding((*path, "rules", k), "error", f"{bill.bill} names rules.{name}, "
                              "which this file does not have; name the rule the bill would "
                              "change")  # fmt: skip
        if bill.status != "pending":
            yield Finding(
                (*path, "status"),
                "warning",
                f"{bill.bill} is {bill.status}: encode "
                "the change in the rule (effective, history) or drop the entry",
            )
        elif (law.today - bill.checked).days > PENDING_BILL_MAX_AGE_DAYS:
            yield Finding((*path, "checked"), "warning", f"{bill.bill} was last checked on "
                          f"{bill.checked.isoformat()}: look up what became of it")  # fmt: skip


# --- What a field the client reads may not hold (CG209), and what to do instead ----------------

_CLIENT_WORDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:therapists?|clinicians?)\b|\b(?:the|your|their) (?:counselor|"
                r"psychologist|social worker|provider|practitioner|licensee)s?\b|\b(?:the|your) "
                r"(?:licensed )?(?:mental health |health care )?(?:professional|practitioner|"
                r"provider)s?\b", re.I),
     "it names the clinician in the third person ('{}'); write it without the clinician (the "
     "template says 'I')"),
    (re.compile(r"\bI\b|\b(?:[Mm]e|[Mm]y|[Ww]e|[Oo]ur|[Uu]s)\b"),
     "it speaks in the first person ('{}'); the voice is the template's, so leave the clinician "
     "out"),
    (re.compile(r"\b(?:unverified|not verified|not confirmed|unconfirmed|not read|believed|"
                r"probably|reportedly|as reported|ask your|check with|we found|not found|"
                r"unclear|from memory|TODO)\b|\bno (?:specific |single |separate )?(?:period|"
                r"rule|law)\b[^.;]*\b(?:found|set)\b|\bwas found\b", re.I),
     "it holds a research caveat ('{}'); state the fact, or leave the field out and say what is "
     "open in 'notes'"),
    (re.compile(r"https?://|\bwww\.", re.I),
     "it holds a web address ('{}'); sources belong in 'citations'"),
    (re.compile(r"§|\b[Ss]ection \d|\bU\.S\.C\.|\bCFR\b|\b(?:Code|TAC|RSMo|ILCS|RCW|ORS|"
                r"KRS|MCA|NRS|MRSA|MCL|Stat\.|Ann\.)\s+\d"),
     "it cites the law in running text ('{}'); citations belong in 'citations'"),
)  # fmt: skip


def client_wording_problem(text: str, *, voice: bool = True) -> str | None:
    """Why `text` cannot stand in the client's copy, or None. `voice`: a phrase in our words,
    held to every check; otherwise a name, title, number or the law's own words, which may not
    hold a caveat."""
    for pattern, message in _CLIENT_WORDING if voice else _CLIENT_WORDING[2:3]:
        found = pattern.search(text)
        if found:
            return message.format(found.group(0))
    return None
