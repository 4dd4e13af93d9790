"""The checks behind `consentgen lint`: each returns findings, never raises on bad input."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from consentgen import structure, yamlio
from consentgen.errors import InvalidFileError, Problem
from consentgen.lint import law
from consentgen.lint.rule import LintRule
from consentgen.model import Jurisdiction, PracticeProfile
from consentgen.resources import SearchPath
from consentgen.yamlio import KeyPath, Marked

# The practice profile's rules, which lint_profile reports (rules.py gathers every rule).
RULES: tuple[LintRule, ...] = (
    LintRule('CG501', 'office-privacy', 'info',
             'the practice profile leaves an office-privacy safeguard unstated or off',
             'office: {staff_trained: false}',
             passing='office: {staff_trained: true}'),
    LintRule('CG502', 'required-profile-value', 'warning',
             'the practice profile lacks a value that a notice prescribed by the license '
             "state's law, or the profession's ethics code, needs in the client's copy",
             "clinician: {license: {state: CA}}  # no expires: California's notice needs it",
             passing='clinician: {license: {state: CA, expires: 2027-06-30}}'),
)  # fmt: skip


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
        problems += law.check(marked, jurisdiction, today, max_age)
    return problems, jurisdiction if not any(p.severity == "error" for p in problems) else None


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
