"""Guidance for the clinician who builds a document: what in the profile or the request looks
like a mistake, as notices of one line each.

    from consentgen import build_document, guidance
    doc = build_document(request, practice="practice.yaml")
    warnings = [n.message for n in guidance.check_document(doc, "practice.yaml")]

The CLI prints each notice as a warning on stderr; `build --strict` refuses a document for a
notice whose `error_when_strict` is true. Nothing here prints, exits or changes a document, and
no notice is ever written into the client's copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from consentgen.model import Document, PracticeProfile
from consentgen.values import FrozenValue, frozen_value

NoticeKind = Literal["example-values", "fragment-values", "supervisee-suggested", "license-state"]

# Profile values printed as whole sentences when they are one (a capital letter first, a full stop,
# "!" or "?" last); any other text is printed after a label ("Where I store it: ..."), which reads
# but less well. The templates apply the same test.
SENTENCE_KEYS: tuple[str, ...] = (
    "practice.privacy_notice",
    "practice.after_hours",
    "policies.records.storage",
    "policies.records.destruction",
)


@frozen_value(kw_only=False)
class Notice(FrozenValue):
    kind: NoticeKind
    message: str  # one line, for the clinician
    keys: tuple[str, ...] = ()  # the practice-profile keys it is about
    error_when_strict: bool = False


@frozen_value(kw_only=False)
class Compact(FrozenValue):
    """An interstate licensure compact: the name to print, the profession it serves, and the
    names it goes by in the jurisdiction data. Naming it needs the data's own mention."""

    name: str
    profession: str
    plural: str
    spellings: tuple[str, ...]


COMPACTS: tuple[Compact, ...] = (
    Compact("PSYPACT", "psychologist", "psychologists",
            ("PSYPACT", "Psychology Interjurisdictional Compact")),
    Compact("the Counseling Compact", "counselor", "counselors", ("Counseling Compact",)),
    Compact("the Social Work Licensure Compact", "social-worker", "social workers",
            ("Social Work Licensure Compact", "Social Work Compact")),
)  # fmt: skip


def check_document(
    document: Document,
    practice: str | Path | PracticeProfile | None = None,
    *,
    data_dirs: tuple[str | Path, ...] | list[str | Path] = (),
) -> tuple[Notice, ...]:
    """Every notice for a document built from the profile `practice` (a path or a loaded
    profile), in the order a reader should see them."""
    from consentgen import engine

    profile = engine.load_profile(practice)
    found = (
        example_values_notice(document, profile),
        fragment_values_notice(document, profile),
        supervisee_notice(document, profile),
        license_state_notice(document, profile, data_dirs=data_dirs),
    )
    return tuple(n for n in found if n is not None)


def example_values_notice(document: Document, profile: PracticeProfile) -> Notice | None:
    """The profile keys whose value is still the example's (`consentgen init`'s answers) and
    that the document prints: keys only, never the values."""
    from consentgen.profile import example_values

    printed = _printed_text(document)
    keys = tuple(
        key
        for key, example in example_values().items()
        if _value(profile, key) == example and _appears(example, printed)
    )
    if not keys:
        return None
    return Notice(
        kind="example-values",
        message=f"the document prints the example profile's value for {', '.join(keys)}; "
        "put your own in the profile",
        keys=keys,
        error_when_strict=True,
    )


def is_sentence(text: str) -> bool:
    """Whether a profile value reads as a whole sentence (or several) on its own."""
    return text[:1].isupper() and text[-1:] in (".", "!", "?")


def fragment_values_notice(document: Document, profile: PracticeProfile) -> Notice | None:
    """The profile values meant as whole sentences that are not one, and that the document
    prints (older profiles wrote them as phrases: "on our website")."""
    printed = _printed_text(document)
    keys = tuple(
        key
        for key in SENTENCE_KEYS
        if isinstance(value := _value(profile, key), str)
        and value.strip()
        and not is_sentence(value)
        and _appears(value, printed)
    )
    if not keys:
        return None
    return Notice(
        kind="fragment-values",
        message=f"{', '.join(keys)} should each be a whole sentence (a capital letter first, a "
        "full stop last); the document prints them after a label",
        keys=keys,
    )


def supervisee_notice(document: Document, profile: PracticeProfile) -> Notice | None:
    """A profile that looks like an associate's (a registration and a supervisor) in a document
    built without --supervisee."""
    if document.options.get("supervisee"):
        return None
    supervisor = profile.supervisor
    if not (_given(profile.clinician.registration) and _given(supervisor.name)):
        return None
    return Notice(
        kind="supervisee-suggested",
        message="the profile has a registration (clinician.registration) and a supervisor: if "
        "you are not yet fully licensed, build with --supervisee",
        keys=("clinician.registration", "supervisor.name"),
    )


def license_state_notice(
    document: Document,
    profile: PracticeProfile,
    *,
    data_dirs: tuple[str | Path, ...] | list[str | Path] = (),
) -> Notice | None:
    """The client's state is not the state of the clinician's license (or registration): what
    seeing that client by telehealth needs, as far as the client state's data says."""
    from consentgen import engine
    from consentgen.jurisdictions import NAMES

    license = profile.clinician.license
    if license is None or not _given(license.state):
        return None
    code = state_code(license.state or "")
    if code == document.jurisdiction:
        return None
    there = _place(document.jurisdiction, document.jurisdiction_name)
    licensed_in = _place(code, NAMES[code]) if code else license.state
    law, _sources, _files = engine.prepare_law(document.jurisdiction, document.as_of, data_dirs)
    rule = law.rules.get("telehealth") if law.origins.get("telehealth") == law.state.code else None
    profession = document.options.get("profession") or profile.clinician.profession
    needs = _what_telehealth_needs(there, rule, profession if isinstance(profession, str) else None)
    return Notice(
        kind="license-state",
        message=f"the client is in {there}, but your license (clinician.license.state) is from "
        f"{licensed_in}: to see a client in {there} by telehealth you need {needs}",
        keys=("clinician.license.state",),
    )


def state_code(text: str) -> str | None:
    """The two-letter code of a state written as a code or a name, any case; None if unknown."""
    from consentgen.jurisdictions import NAMES

    wanted = " ".join(text.split()).casefold()
    for code, name in NAMES.items():
        if wanted in (code.casefold(), name.casefold()):
            return code
    return None


def _what_telehealth_needs(there: str, rule: Any, profession: str | None) -> str:
    """A license in the client's state, or the compacts the state's telehealth data names for
    this profession; without such data, a pointer to that state's licensing rules."""
    fallback = f"a license in {there} or another legal basis; check {there}'s licensing rules"
    if rule is None:
        return fallback
    texts = [rule.summary, *getattr(rule, "requirements", ()), *(c.cite for c in rule.citations)]
    text = " ".join(t for t in texts if t)
    named = [c for c in COMPACTS if any(s.casefold() in text.casefold() for s in c.spellings)]
    unverified = "" if rule.verified else f" (consentgen's {there} data on this is unverified)"
    if profession is None and named:
        listed = ", ".join(f"{c.name} ({c.plural})" for c in named)
        return f"a license in {there}, or, where it covers you, a privilege under {listed}" + (
            unverified
        )
    mine = [c.name for c in named if c.profession == profession]
    if mine:
        return f"a license in {there} or a privilege under {' or '.join(mine)}" + unverified
    if not named and re.search(r"\bcompact\b", text, re.IGNORECASE):
        return (
            f"a license in {there} or, if {there} has joined a compact for your profession, a "
            f"privilege under it; check {there}'s licensing rules"
        )
    return fallback


def _place(code: str, name: str) -> str:
    """A state's name as it reads in a sentence: "the District of Columbia"."""
    return f"the {name}" if code == "DC" else name


def _value(profile: PracticeProfile, key: str) -> Any:
    value: Any = profile
    for part in key.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _given(value: str | None) -> bool:
    return bool(value and value.strip())


def _printed_text(document: Document) -> str:
    parts: list[str] = [p for s in document.sections for p in s.paragraphs]
    parts += [s.name for s in document.signatures if s.name]
    return "\n".join(parts)


def _appears(value: Any, printed: str) -> bool:
    """Whether a profile value is in the document's text, as printed (Markdown-escaped) or as
    typed."""
    from consentgen.rendering.markdown import escape_md

    forms: Iterable[str] = {str(value), escape_md(value)}
    return any(form and form in printed for form in forms)
