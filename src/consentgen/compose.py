"""The rules engine: which sections a request's document has, backed by which rules of law.

This is the one place that knows the law's logic (which setting brings in which rules, which
facts decide the signature blocks). It formats nothing: the section templates write the prose.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentgen.jurisdictions import ResolvedLaw
from consentgen.model import DocCitation, PracticeProfile, Request, Signature

ETHICS_CODES: dict[str, str] = {
    "psychologist": "the American Psychological Association's Ethical Principles of Psychologists "
    "and Code of Conduct",
    "counselor": "the American Counseling Association's Code of Ethics",
    "social-worker": "the National Association of Social Workers' Code of Ethics",
    "mft": "the American Association for Marriage and Family Therapy's Code of Ethics",
}

PROFESSION_NAMES: dict[str, str] = {
    "psychologist": "psychologist",
    "counselor": "professional counselor",
    "social-worker": "clinical social worker",
    "mft": "marriage and family therapist",
}


@dataclass(frozen=True)
class SectionPlan:
    id: str
    title: str
    rules: tuple[str, ...] = ()
    citations: tuple[DocCitation, ...] = ()
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    request: Request
    law: ResolvedLaw
    profession: str | None
    sections: tuple[SectionPlan, ...]
    signatures: tuple[Signature, ...]
    disclosures: tuple[object, ...]
    boards: tuple[object, ...]


# (section id, title, rules backing it). `{state}` is replaced by the state's name.
_CORE_BEFORE = (
    ("key_facts", "Key facts", ("child_abuse_reporting", "elder_abuse_reporting",
                                "duty_to_protect", "crisis_line")),
    ("your_clinician", "Your therapist", ()),
    ("about_therapy", "About therapy", ()),
    ("fees", "Fees and payment", ()),
    ("limits_of_confidentiality", "Privacy and its limits", ("hipaa_privacy_notice",)),
    ("child_abuse_reporting", "Child abuse and neglect", ("child_abuse_reporting",)),
    ("elder_abuse_reporting", "Abuse of older or dependent adults", ("elder_abuse_reporting",)),
    ("duty_to_protect", "Threats to harm another person", ("duty_to_protect", "serious_threat")),
    ("danger_to_self", "Risk of suicide or serious self-harm",
     ("danger_to_self", "serious_threat")),
    ("legal_proceedings", "Courts, subpoenas and legal privilege", ("privilege", "court_orders")),
)  # fmt: skip

_SETTING_SECTIONS = {
    "couples": ("couples", "Couples therapy: who hears what", ()),
    "family": ("family", "Family therapy: who hears what", ()),
    "group": ("group", "Group therapy: privacy among members", ()),
    "minor": ("minors", "Therapy with a minor", ("minors",)),
}


def plan(request: Request, law: ResolvedLaw, profile: PracticeProfile) -> Plan:
    profession = request.profession or profile.clinician.profession
    rows: list[tuple[str, str, tuple[str, ...]]] = list(_CORE_BEFORE)
    if request.payment == "insurance":
        rows.append(("insurance", "Insurance and managed care", ("insurance_disclosures",)))
    else:
        rows.append(
            ("good_faith_estimate", "Your right to a good faith estimate", ("good_faith_estimate",))
        )
    if request.supervisee:
        rows.append(("supervision", "Supervision", ("supervision",)))
    rows.append(("consultation", "Consultation with other professionals", ()))
    if request.setting in _SETTING_SECTIONS:
        rows.append(_SETTING_SECTIONS[request.setting])
    rows.append(("technology", "Email, text, fax and phone", ()))
    if request.telehealth:
        rows.append(("telehealth", "Telehealth (therapy by video or phone)", ("telehealth",)))
    rows.append(
        (
            "records",
            "Your records",
            ("records", "right_of_access", "psychotherapy_notes", "substance_use_records"),
        )
    )
    rows.append(("office_privacy", "Privacy in our office", ()))
    rows.append(("client_rights", "Your rights", ("right_of_access",)))

    disclosures = tuple(
        d
        for d in law.disclosures
        if "all" in d.applies_to or profession is None or profession in d.applies_to
    )
    boards = tuple(b for b in law.boards if profession is None or b.profession == profession)
    if disclosures:
        rows.append(("state_notices", f"Notices required by {law.state.name} law", ()))
    rows.append(("emergencies", "Emergencies", ("crisis_line",)))

    sections = [_section(sid, title, names, law) for sid, title, names in rows]
    sections = [_with_extra(s, disclosures, boards) for s in sections]
    every = _all_citations(sections)
    sections.append(SectionPlan("legal_basis", "Legal basis", (), every, ()))
    return Plan(
        request,
        law,
        profession,
        tuple(sections),
        _signatures(request, law, profile),
        disclosures,
        boards,
    )


def _section(sid: str, title: str, names: tuple[str, ...], law: ResolvedLaw) -> SectionPlan:
    citations: list[DocCitation] = []
    unverified: list[str] = []
    for name in names:
        rule = law.rules.get(name)
        if rule is None:
            unverified.append(
                f"{_label(name)}: not in consentgen's data for {law.state.name} on "
                f"{law.as_of.isoformat()}; add it before use"
            )
            continue
        for c in rule.citations:
            citations.append(
                DocCitation(rule=name, cite=c.cite, source_url=c.source_url, verified=rule.verified)
            )
        if not rule.verified:
            cites = "; ".join(c.cite for c in rule.citations)
            unverified.append(f"{_label(name)} ({cites}): not yet confirmed against its source")
    return SectionPlan(sid, title, names, tuple(citations), tuple(unverified))


def _with_extra(section: SectionPlan, disclosures: tuple, boards: tuple) -> SectionPlan:
    """Required disclosures and licensing boards carry their own citations and verification."""
    citations = list(section.citations)
    unverified = list(section.unverified)
    if section.id == "state_notices":
        for d in disclosures:
            citations += [
                DocCitation(
                    rule=f"required_disclosures.{d.id}",
                    cite=c.cite,
                    source_url=c.source_url,
                    verified=d.verified,
                )
                for c in d.citations
            ]
            if not d.verified:
                unverified.append(
                    f"notice '{d.title}' ({'; '.join(c.cite for c in d.citations)}): "
                    "not yet confirmed against its source"
                )
    if section.id == "client_rights":
        unverified += [
            f"contact details of the {b.name}: not yet confirmed" for b in boards if not b.verified
        ]
    return SectionPlan(
        section.id, section.title, section.rules, tuple(citations), tuple(unverified)
    )


def _all_citations(sections: list[SectionPlan]) -> tuple[DocCitation, ...]:
    """Every citation once, grouped by rule in the order the document first uses it."""
    seen: dict[tuple[str, str], DocCitation] = {}
    order: dict[str, int] = {}
    for s in sections:
        for c in s.citations:
            order.setdefault(c.rule, len(order))
            seen.setdefault((c.cite, c.source_url), c)
    return tuple(sorted(seen.values(), key=lambda c: order[c.rule]))


def _label(name: str) -> str:
    return name.replace("_", " ")


def _name(text: str | None) -> str | None:
    """A name as it is printed: whitespace of any kind folded to single spaces; blank is none."""
    return " ".join(text.split()) or None if text is not None else None


def _signatures(
    request: Request, law: ResolvedLaw, profile: PracticeProfile
) -> tuple[Signature, ...]:
    therapist = Signature(role="Therapist", name=_name(profile.clinician.name))
    clients = [_name(c) for c in request.clients]
    role = {
        "individual": "Client",
        "couples": "Partner",
        "family": "Family member",
        "group": "Group member",
    }
    if request.setting == "minor":
        minors = law.rules.get("minors")
        age = getattr(minors, "outpatient_consent_age", None)
        blocks = [Signature(role="Parent or guardian", name=_name(g)) for g in request.guardians]
        minor_role = "Minor client (assent)"
        if not request.guardians:
            if age is not None:
                limit = f", age {age} or older" if age else ""
                minor_role = f"Minor client (consenting on their own{limit})"
            blocks.append(Signature(role="Parent or guardian", name=None))
        minor_names = clients or [None]
        return (*(Signature(role=minor_role, name=n) for n in minor_names), *blocks, therapist)
    minimum = {"individual": 1, "couples": 2, "family": 2, "group": 1}[request.setting]
    names: list[str | None] = [*clients, *([None] * max(0, minimum - len(clients)))]
    return (*(Signature(role=role[request.setting], name=n) for n in names), therapist)
