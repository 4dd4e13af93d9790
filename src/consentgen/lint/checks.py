"""The checks behind `consentgen lint`: each returns findings, never raises on bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any, get_args

from consentgen import structure, yamlio
from consentgen.errors import InvalidFileError, Problem
from consentgen.model import (
    STATE_RULE_NAMES,
    Jurisdiction,
    PracticeProfile,
    Profession,
    Rule,
    client_fields,
)
from consentgen.resources import SearchPath
from consentgen.yamlio import KeyPath, Marked

PROFESSIONS: tuple[str, ...] = get_args(Profession)
_URL = re.compile(r"https?://\S+")
PENDING_BILL_MAX_AGE_DAYS = 120


def _load(path: Path, display: str) -> tuple[Marked | None, list[Problem]]:
    try:
        return yamlio.load_text_lenient(yamlio.read_text(path, display), display)
    except InvalidFileError as exc:
        return None, list(exc.problems)


def kind_of(path: Path, data: Any) -> str:
    """'jurisdiction' or 'practice', from the folder or from the keys at the top."""
    if path.parent.name == "jurisdictions":
        return "jurisdiction"
    if isinstance(data, dict) and ("rules" in data or "code" in data):
        return "jurisdiction"
    return "practice"


def lint_yaml_file(
    path: Path, display: str, *, today: dt.date, max_age: int, search: SearchPath | None = None
) -> tuple[list[Problem], Jurisdiction | None]:
    marked, problems = _load(path, display)
    if marked is None:
        return problems, None
    if kind_of(path, marked.data) == "practice":
        return problems + lint_profile(marked, search, today), None
    jurisdiction, found = structure.build(Jurisdiction, marked)
    problems += found
    data = marked.data if isinstance(marked.data, dict) else {}
    code = data.get("code")
    named_by_code = path.parent.name == "jurisdictions" or re.fullmatch(r"[A-Z]{2}", path.stem)
    if isinstance(code, str) and named_by_code and code != path.stem:
        problems.append(marked.problem(("code",), f"code '{code}' does not match the file name "
                                       f"{path.name}; rename one of them", "CG106",
                                       at_value=True))  # fmt: skip
    if jurisdiction is not None:
        problems += LawChecks(marked, today, max_age).run(jurisdiction)
    return problems, jurisdiction if not any(p.severity == "error" for p in problems) else None


class LawChecks:
    """Checks that need the law's meaning, not only its shape."""

    def __init__(self, marked: Marked, today: dt.date, max_age: int) -> None:
        self.marked = marked
        self.today = today
        self.max_age = max_age
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, severity: str, message: str, rule_id: str) -> None:
        line, col = self.marked.mark(path)
        values = self.marked.value_marks or {}
        if path in values:
            line, col = values[path]
        self.problems.append(Problem(self.marked.path, line, col, severity, message, rule_id))

    def run(self, j: Jurisdiction) -> list[Problem]:
        age = (self.today - j.last_reviewed).days
        if age > self.max_age:
            self.add(("last_reviewed",), "warning", f"last reviewed {age} days ago (more than "
                     f"{self.max_age}); check the file against its sources and update the date",
                     "CG203")  # fmt: skip
        if j.last_reviewed > self.today:
            self.add(("last_reviewed",), "error", "last_reviewed is in the future", "CG104")
        for name in j.rules.__dataclass_fields__:
            value = getattr(j.rules, name)
            if value is None or isinstance(value, tuple):
                continue
            self._rule(name, value)
        self._boards(j)
        self._disclosures(j)
        self._pending_bills(j)
        self._client_wording(j.rules, ("rules",))
        missing = [name for name in STATE_RULE_NAMES if getattr(j.rules, name) is None]
        if j.code != "US" and missing:
            self.add(("rules",), "warning", f"no rule for {', '.join(missing)}: every state file "
                     "should state each (status unknown, with a note, if not yet researched)",
                     "CG208")  # fmt: skip
        return self.problems

    def _rule(self, name: str, rule: Rule, base: KeyPath | None = None) -> None:
        base = base or ("rules", name)
        forms = [(base, rule), *(((*base, "history", i), f) for i, f in enumerate(rule.history))]
        for path, form in forms:
            self._citations(path, form.citations, form.verified)
            if not form.verified:
                note = f": {_first_sentence(form.notes)}" if form.notes else ""
                where = "an earlier form of " if path != base else ""
                self.add((*path, "verified"), "warning" if path == base else "info",
                         f"{where}rules.{name} is not verified against its primary source{note}",
                         "CG202")  # fmt: skip
            self._contradictions(path, name, form)
        for i, title in enumerate(getattr(rule, "titles", ())):  # supervision: associate titles
            path = (*base, "titles", i)
            self._citations(path, title.citations, title.verified)
            if not title.verified:
                self.add((*path, "verified"), "warning", f"the {title.profession} associate "
                         f"title '{title.title}' is not verified against its primary source",
                         "CG202")  # fmt: skip
        if rule.effective and rule.effective > self.today:
            self.add((*base, "effective"), "info", f"rules.{name} takes effect on "
                     f"{rule.effective.isoformat()} (staged); until then its earlier form applies",
                     "CG205")  # fmt: skip
        previous = rule.effective
        for i, form in enumerate(rule.history):
            path = (*base, "history", i, "effective")
            if form.effective is None:
                continue  # reported by the schema check (CG103)
            if form.effective > self.today:
                self.add(path, "error", "an earlier form cannot take effect in the future; "
                         "move it to the current form", "CG205")  # fmt: skip
            if previous is not None and form.effective >= previous:
                self.add(path, "error", f"history must be newest first and older than the form "
                         f"before it ({form.effective.isoformat()} is not before "
                         f"{previous.isoformat()})", "CG204")  # fmt: skip
            previous = form.effective
        if rule.history and rule.effective is None:
            self.add(
                base,
                "warning",
                f"rules.{name} has earlier forms but its current form has "
                "no 'effective' date; --as-of cannot tell when it started",
                "CG207",
            )
        for i, variant in enumerate(rule.variants):
            path = (*base, "variants", i)
            self._rule(name, variant, path)
            for j, citation in enumerate(variant.citations):
                named = {p for p, pattern in _PROFESSION_WORDS.items()
                         if re.search(pattern, citation.cite, re.IGNORECASE)}  # fmt: skip
                if named and not named & set(variant.applies_to):
                    message = (f"citation '{citation.cite}' names {', '.join(sorted(named))}, "
                               f"but the variant is for {', '.join(variant.applies_to)}; check "
                               "applies_to")  # fmt: skip
                    self.add((*path, "citations", j), "warning", message, "CG212")

    def _pending_bills(self, j: Any) -> None:
        rules = j.rules
        known = {f.name for f in dataclasses.fields(rules) if getattr(rules, f.name) is not None}
        for i, bill in enumerate(j.pending_bills):
            path = ("pending_bills", i)
            for k, name in enumerate(bill.rules):
                if name not in known:
                    self.add((*path, "rules", k), "error", f"{bill.bill} names rules.{name}, which "
                             "this file does not have; name the rule the bill would change",
                             "CG214")  # fmt: skip
            if bill.status != "pending":
                self.add(
                    (*path, "status"),
                    "warning",
                    f"{bill.bill} is {bill.status}: encode the "
                    "change in the rule (effective, history) or drop the entry",
                    "CG214",
                )
            elif (self.today - bill.checked).days > PENDING_BILL_MAX_AGE_DAYS:
                self.add(
                    (*path, "checked"),
                    "warning",
                    f"{bill.bill} was last checked on "
                    f"{bill.checked.isoformat()}: look up what became of it",
                    "CG214",
                )

    def _citations(self, path: KeyPath, citations: tuple[Any, ...], verified: bool) -> None:
        if verified and not any(c.read == "primary" for c in citations):
            self.add((*path, "verified"), "error", "verified, but no citation was read in primary "
                     "text (read: primary): set verified: false, or cite the statute, regulation "
                     "or board page you read", "CG213")  # fmt: skip
        for i, citation in enumerate(citations):
            if not _URL.fullmatch(citation.source_url):
                self.add((*path, "citations", i, "source_url"), "error",
                         f"source_url '{citation.source_url}' is not a web address; give the "
                         "page the fact was read in", "CG201")  # fmt: skip

    def _contradictions(self, path: KeyPath, name: str, form: Rule) -> None:
        status = form.status
        discharge = getattr(form, "discharge", ())
        if name == "duty_to_protect" and status == "none" and discharge:
            self.add((*path, "discharge"), "warning", "status is 'none' but 'discharge' lists "
                     "ways to meet a duty; fix the status or the list", "CG206")  # fmt: skip
        if name == "duty_to_protect" and status == "mandatory" and not discharge:
            self.add((*path, "status"), "warning", "a mandatory duty to protect needs "
                     "'discharge': how the therapist meets it", "CG206")  # fmt: skip
        if name.endswith("_reporting") and status == "none" and getattr(form, "deadline", None):
            self.add((*path, "deadline"), "warning", "status is 'none' but a reporting deadline "
                     "is given; fix the status or the deadline", "CG206")  # fmt: skip
        if name == "minors":
            age = getattr(form, "outpatient_consent_age", None)
            if age is not None and not getattr(form, "conditions", None):
                self.add(
                    (*path, "outpatient_consent_age"),
                    "warning",
                    "a consent age needs its 'conditions' (what the minor or therapist must show)",
                    "CG206",
                )

    def _boards(self, j: Jurisdiction) -> None:
        seen = set()
        for i, board in enumerate(j.rules.licensing_boards):
            seen.add(board.profession)
            path: KeyPath = ("rules", "licensing_boards", i)
            if not _URL.fullmatch(board.source_url):
                self.add((*path, "source_url"), "error", "source_url is not a web address", "CG201")
            if not board.verified:
                self.add((*path, "verified"), "warning", f"contact details of the {board.name} "
                         "are not verified on the board's own site", "CG202")  # fmt: skip
        missing = [p for p in PROFESSIONS if p not in seen]
        if j.code != "US" and missing:
            self.add(("rules",), "warning", f"no licensing board for {', '.join(missing)}; the "
                     "complaint paragraph will be blank for them", "CG208")  # fmt: skip

    def _disclosures(self, j: Jurisdiction) -> None:
        ids: set[str] = set()
        for i, item in enumerate(j.rules.required_disclosures):
            path: KeyPath = ("rules", "required_disclosures", i)
            if item.id in ids:
                self.add((*path, "id"), "error", f"required disclosure id '{item.id}' is used "
                         "twice; give each its own id, or merge them", "CG211")  # fmt: skip
            ids.add(item.id)
            self._citations(path, item.citations, item.verified)
            wanted = [("phone", "board_contact"), ("address", "board_address")]
            for board in j.rules.licensing_boards:
                if "all" not in item.applies_to and board.profession not in item.applies_to:
                    continue
                lacks = [f for f, fact in wanted if fact in item.includes and not getattr(board, f)]
                if lacks:
                    message = (f"notice '{item.id}' gives the board's contact, but the "
                               f"{board.name} has no {' or '.join(lacks)}; add it to "
                               "licensing_boards")  # fmt: skip
                    self.add((*path, "includes"), "warning", message, "CG210")
            if not item.verified:
                self.add((*path, "verified"), "warning", f"required disclosure '{item.id}' is not "
                         "verified against its primary source", "CG202")  # fmt: skip

    def _client_wording(self, value: Any, path: KeyPath) -> None:
        """CG209: what the client's copy reads holds a fact, in words that fit the practice's
        voice, or nothing (see model.CLIENT)."""
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                self._client_wording(item, (*path, i))
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
                    self._client_wording(text, where)
                elif name in read:
                    problem = client_wording_problem(text, voice=name in phrases)
                    if problem:
                        self.add(where, "error", f"{'.'.join(map(str, where[1:]))} is read by "
                                 f"the client: {problem}", "CG209")  # fmt: skip


# What a field the client reads may not hold, and what to do instead.
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


# Words in a citation that name a profession (lint CG212).
_PROFESSION_WORDS = {
    "psychologist": r"psycholog",
    "counselor": r"counsel(?:or|ing)",
    "social-worker": r"social work",
    "mft": r"marriage and family",
}


def client_wording_problem(text: str, *, voice: bool = True) -> str | None:
    """Why `text` cannot stand in the client's copy, or None. `voice`: a phrase in our words,
    held to every check; otherwise a name, title, number or the law's own words, which may not
    hold a caveat."""
    for pattern, message in _CLIENT_WORDING if voice else _CLIENT_WORDING[2:3]:
        found = pattern.search(text)
        if found:
            return message.format(found.group(0))
    return None


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 160 else flat[:157] + "..."


_PRIVACY_CHECKS: tuple[tuple[KeyPath, str], ...] = (
    (("office", "staff_trained"), "say whether staff are trained in confidentiality "
     "(office.staff_trained: true)"),
    (("policies", "records", "storage"), "say where records are kept and who can reach them "
     "(policies.records.storage)"),
    (("policies", "records", "destruction"), "say how records are destroyed, e.g. shredding "
     "(policies.records.destruction)"),
    (("office", "devices_protected"), "protect computers and phones with passwords and "
     "encryption (office.devices_protected: true)"),
    (("office", "waiting_room"), "describe how the waiting room keeps conversations private "
     "(office.waiting_room)"),
)  # fmt: skip


def lint_profile(
    marked: Marked, search: SearchPath | None = None, today: dt.date | None = None
) -> list[Problem]:
    profile, problems = structure.build(PracticeProfile, marked)
    if profile is None:
        return problems
    if profile.reviewed:  # the same check `build` makes: a review must name a rule we know
        from consentgen.review import review_problems

        problems += review_problems(profile, marked, search or SearchPath.make(()))
    for path, advice in _PRIVACY_CHECKS:
        value: Any = profile
        for part in path:
            value = getattr(value, part, None)
        if value is None or value is False or value == "":
            problems.append(_info(marked, path, f"office privacy: {advice}"))
    office, comm = profile.office, profile.policies.communication
    if not (office.soundproofing or office.white_noise):
        problems.append(
            _info(
                marked,
                ("office",),
                "office privacy: use soundproofing or a "
                "white-noise machine (office.soundproofing, office.white_noise)",
            )
        )
    search = search or SearchPath.make(())
    for key, why in required_values(profile, search, today or dt.date.today()):
        line, col = marked.mark(_path(key))
        problems.append(Problem(marked.path, line, col, "warning",
                                f"{key} is missing: {why}; add it", "CG502"))  # fmt: skip
    if comm.email and comm.encrypted_email is not True:
        problems.append(
            _info(
                marked,
                ("policies", "communication"),
                "office privacy: email with clients is not encrypted (encrypted_email: true)",
            )
        )
    return problems


# What each fact a notice gives needs from the profile (a licensee's; a supervisee's).
_FACT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "clinician_license": (("clinician.name", "clinician.license.type", "clinician.license.number"),
                          ("clinician.name", "clinician.registration")),
    "license_expiration": (("clinician.license.expires",), ("clinician.registration_expires",)),
    "clinician_credentials": (("clinician.license.basis", "clinician.degrees"),
                              ("clinician.degrees",)),
    "license_restrictions": (("clinician.restrictions",), ("clinician.restrictions",)),
    "supervisor_license": ((), ("supervisor.name", "supervisor.license.type",
                                "supervisor.license.number")),
    "employer": ((), ("clinician.employer",)),
    # practice_owners: only a practice under a business name has to list them; lint cannot
    # tell, so the review sheet asks.
}  # fmt: skip
# What an ethics code's consent elements need from the profile.
_ELEMENT_KEYS: dict[str, str] = {
    "approach": "clinician.approach",
    "continuity": "practice.records_custodian",
}


def _value(profile: PracticeProfile, key: str) -> Any:
    value: Any = profile
    for part in key.split("."):
        value = getattr(value, part, None)
    return value


def _path(key: str) -> KeyPath:
    return tuple(key.split("."))  # lint points at the nearest key the profile has


def required_values(profile: PracticeProfile, search: SearchPath, today: dt.date) -> list[
        tuple[str, str]]:  # fmt: skip
    """(profile key, why) for each value the profile lacks that its license state's prescribed
    notices or its profession's ethics code need."""
    from consentgen import jurisdictions
    from consentgen.compose import disclosure_binds
    from consentgen.errors import ConsentgenError

    clinician = profile.clinician
    profession = clinician.profession
    supervised = bool(clinician.registration)
    states = {lic.state.upper() for lic in (clinician.license, *clinician.other_licenses)
              if lic is not None and lic.state}  # fmt: skip
    found: dict[str, str] = {}
    for code in sorted(states):
        try:
            federal_file, state_file = jurisdictions.load(code, search)
        except ConsentgenError:
            continue  # an unknown state is the license's own problem, not a notice's
        law = jurisdictions.merge(federal_file.jurisdiction, state_file.jurisdiction, today)
        for d in law.disclosures:
            if not disclosure_binds(d, profession, supervised):
                continue
            for fact in d.includes:
                keys = _FACT_KEYS.get(fact, ((), ()))[1 if supervised else 0]
                for key in keys:
                    if _value(profile, key) in (None, "", ()):
                        found.setdefault(key, f"{code} law's notice '{d.title}' "
                                              f"({d.citations[0].cite}) prints it")  # fmt: skip
    where = search.find("jurisdictions/US.yaml")
    try:
        codes = jurisdictions.load_file(*where).jurisdiction.rules.ethics_codes if where else ()
    except ConsentgenError:
        codes = ()  # a broken federal file is reported as a file of its own
    for code in codes:
        if profession is not None and code.profession != profession:
            continue
        for item in code.requires:
            key = _ELEMENT_KEYS.get(item.element)
            if key and _value(profile, key) in (None, "", ()):
                found.setdefault(key, f"{code.name} ({item.cite}) asks the form to say it")
    return sorted(found.items())


def _info(marked: Marked, path: KeyPath, message: str) -> Problem:
    line, col = marked.mark(path)
    return Problem(marked.path, line, col, "info", message, "CG501")
