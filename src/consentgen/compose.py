"""The rules engine: which sections a request's document has, backed by which rules of law.

This is the one place that knows the law's logic (which setting brings in which rules, which
facts decide the signature blocks). It formats nothing: the section templates write the prose.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import urllib.parse
from typing import Any

from consentgen.jurisdictions import NAMES, ResolvedLaw
from consentgen.model import GUARDIAN_SETTINGS, DocCitation, PracticeProfile, Request, Signature
from consentgen.values import FrozenValue, frozen_value


@frozen_value(kw_only=False)
class SectionPlan(FrozenValue):
    """A section of the client's copy. It holds nothing for the clinician: `citations` carry
    official links only (what is left to check goes to the review sheet, review.py, which reads
    the law itself)."""

    id: str
    title: str
    rules: tuple[str, ...] = ()
    citations: tuple[DocCitation, ...] = ()


# --- Official sources: the only pages the client's copy links to --------------------------------

# Federal law's official publishers and the agencies that issue the rules in US.yaml.
FEDERAL_HOSTS = (
    "ecfr.gov", "govinfo.gov", "federalregister.gov", "gpo.gov", "congress.gov",
    "uscode.house.gov", "supremecourt.gov", "hhs.gov", "cms.gov", "fcc.gov", "samhsa.gov",
    "dol.gov",
)  # fmt: skip
# Federal sites that summarize state law: never a state rule's official source.
_FEDERAL_ONLY = (*FEDERAL_HOSTS, "childwelfare.gov")
# A state's own sites whose domain names neither its code nor its name (legislatures, courts,
# boards), and official ones outside .gov, as found in jurisdictions/*.yaml.
STATE_HOSTS: dict[str, tuple[str, ...]] = {
    "AK": ("akleg.gov",), "AL": ("albme.gov",), "AZ": ("azleg.gov", "azag.gov", "azbbhe.us"),
    "DC": ("dccouncil.gov", "dccouncil.us"), "FL": ("flsenate.gov",), "IL": ("ilga.gov",),
    "KS": ("ksrevisor.org", "ksbsrb.org"), "MA": ("mass.gov", "malegislature.gov"),
    "ME": ("mainelegislature.org",), "NC": ("ncleg.gov", "ncswboard.gov", "ncbmft.org",
    "ncpsychologyboard.org", "ncblcmhc.org"), "ND": ("ndcourts.gov",),
    "NJ": ("njconsumeraffairs.gov",), "NY": ("nysenate.gov", "nysed.gov"),
    "OK": ("oscn.net",), "PA": ("pacodeandbulletin.gov",), "RI": ("rilegislature.gov",),
    "SC": ("scstatehouse.gov",), "SD": ("sdlegislature.gov",), "UT": ("utcourts.gov",),
    "WV": ("courtswv.gov", "wvlegislature.gov", "wvbec.org"), "WY": ("wyo.gov", "wyoleg.gov"),
}  # fmt: skip
# Pages on official hosts that are commentary, not law: committee analyses ("cfa" files).
_COMMENTARY_PATH = re.compile(r"_cfa_|analysis", re.IGNORECASE)
# An address safe to put inside a Markdown link as it is: no spaces, brackets or quotes.
_LINKABLE = re.compile(r"https?://[A-Za-z0-9.-]+(?::443)?(?:[/?#][^\s<>()\[\]\\\"'`]*)?")


def _under(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


@functools.lru_cache(maxsize=4096)  # pure, and asked for every citation of every document
def is_official_source(url: str, jurisdiction: str) -> bool:
    """Whether `url` is an official source of `jurisdiction`'s law (a two-letter code, or US):
    the only kind of page the client's copy links to.

    Federal law: the official publishers (eCFR, govinfo, the Federal Register, GPO, Congress)
    and the agencies that issue the rules (HHS, CMS, FCC, SAMHSA, DOL). A state's law: a host of
    that state's government, i.e. under .gov or state.XX.us whose labels hold the state's code
    (leginfo.legislature.ca.gov, texreg.sos.state.tx.us) or whose name holds the state's name
    (oregon.gov, nebraskalegislature.gov), or a host listed in STATE_HOSTS for it; never a
    county's or a federal summary (childwelfare.gov). Everything else (docslib.org, casetext,
    law firms' blogs, another state's pages) is a research page: it goes to the review sheet.
    """
    if not _LINKABLE.fullmatch(url):
        return False
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if _COMMENTARY_PATH.search(parts.path + "?" + parts.query):
        return False
    if jurisdiction == "US":
        return _under(host, FEDERAL_HOSTS)
    code = jurisdiction.lower()
    if _under(host, _FEDERAL_ONLY) or "county" in host:
        return False
    if _under(host, STATE_HOSTS.get(jurisdiction, ())):
        return True
    labels = host.split(".")
    government = host.endswith(".gov") or host.endswith(f".state.{code}.us")
    name = NAMES.get(jurisdiction, "").lower().replace(" ", "")
    own = code in labels[:-1] or bool(name and name in host.replace("-", ""))
    return government and own


@functools.lru_cache(maxsize=8192)
def _client_citation(rule: str, cite: str, url: str, origin: str) -> DocCitation:
    """A citation as the client's copy holds it: the link only where it is official. One
    object for the same citation, so that comparing two plans' sections (a batch's section memo)
    finds them the same object, without comparing them field by field."""
    official = url if is_official_source(url, origin) else ""
    return DocCitation(rule=rule, cite=cite, source_url=official)


# The federal rules that are HIPAA's privacy rule (45 CFR 164): they bind covered entities only.
HIPAA_RULES = frozenset(("hipaa_privacy_notice", "right_of_access", "psychotherapy_notes",
                         "court_orders", "serious_threat", "insurance_disclosures"))  # fmt: skip


@frozen_value(kw_only=False)
class Plan(FrozenValue):
    request: Request
    law: ResolvedLaw
    profession: str | None
    sections: tuple[SectionPlan, ...]
    signatures: tuple[Signature, ...]
    notices: tuple[object, ...]  # required disclosures the client's copy gives
    disclosures: tuple[object, ...]  # every required disclosure that binds this clinician
    boards: tuple[object, ...]
    acknowledgments: tuple[str, ...]
    office_record: tuple[str, ...]


# (section id, title, rules backing it). `{state}` is replaced by the state's name.
_CORE_BEFORE = (
    ("key_facts", "Key facts", ("child_abuse_reporting", "elder_abuse_reporting",
                                "duty_to_protect", "crisis_line")),
    ("your_clinician", "Who I am", ()),
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
    request = effective_request(request, profile)
    profession = request.profession or profile.clinician.profession
    law = law.for_profession(profession)
    rows: list[tuple[str, str, tuple[str, ...]]] = list(_CORE_BEFORE)
    if request.payment == "insurance":
        rows.append(("insurance", "Insurance and managed care", ("insurance_disclosures",)))
    elif law.rules.get("good_faith_estimate") is not None:
        # The right exists only from its first form's effective date (the No Surprises Act's
        # estimate began 2022-01-01); before that a self-pay client has no such section.
        rows.append(
            ("good_faith_estimate", "Your right to a good faith estimate", ("good_faith_estimate",))
        )
    if request.supervisee:
        rows.append(("supervision", "Supervision", ("supervision",)))
    rows.append(("consultation", "Consultation with other professionals", ()))
    if request.setting in _SETTING_SECTIONS:
        rows.append(_SETTING_SECTIONS[request.setting])
    if has_minor_member(request):  # a minor inside family or group therapy
        rows.append(("minors", "When a minor takes part", ("minors",)))
    rows.append(("technology", "Email, text, fax and phone", ()))
    if request.telehealth:
        rows.append(("telehealth", "Telehealth (therapy by video or phone)", ("telehealth",)))
    rows.append(
        (
            "records",
            "Your records",
            ("records", "right_of_access", "psychotherapy_notes"),
        )
    )
    if profile.practice.part2_program and law.rules.get("substance_use_records") is not None:
        rows.append(("part2_notice", "Federal protection of substance use records",
                     ("substance_use_records",)))  # fmt: skip
    rows.append(("office_privacy", "Privacy in our office", ()))
    rows.append(("client_rights", "Your rights", ("right_of_access",)))

    disclosures = tuple(
        d
        for d in law.disclosures
        if disclosure_binds(d, profession, request.supervisee, setting=request.setting,
                            telehealth=request.telehealth, minor_member=has_minor_member(request))
    )  # fmt: skip
    # A notice is given in the client's copy; a requirement with neither its own words nor ours
    # is met by the document as a whole, and the review sheet lists it for the clinician.
    notices = tuple(d for d in disclosures if d.verbatim or d.notice)
    boards = tuple(b for b in law.boards if profession is None or b.profession == profession)
    if notices:
        rows.append(("state_notices", f"Notices required by {law.state.name} law", ()))
    rows.append(("emergencies", "Emergencies", ("crisis_line",)))

    if not covered_entity(profile):
        # HIPAA binds covered entities only: its federal rules back nothing in this form.
        rows = [(sid, title, tuple(n for n in names
                                   if not (n in HIPAA_RULES and law.origins.get(n) == "US")))
                for sid, title, names in rows]  # fmt: skip
    sections = [_section(sid, title, names, law) for sid, title, names in rows]
    sections = [_with_extra(s, notices, law.state.code) for s in sections]
    every = _all_citations(sections)
    sections.append(SectionPlan("legal_basis", "Legal basis", (), every))
    return Plan(
        request,
        law,
        profession,
        tuple(sections),
        _signatures(request, law, profile),
        notices,
        disclosures,
        boards,
        _acknowledgments(request, law, profile, notices),
        _office_record(request, law, profile),
    )


def disclosure_binds(
    d: Any,
    profession: str | None,
    supervisee: bool,
    *,
    setting: str | None = None,
    telehealth: bool | None = None,
    minor_member: bool = False,
) -> bool:
    """Whether required disclosure `d` binds a clinician of `profession` (None: any), supervised
    or not, in `setting` and for telehealth or not (None: in any setting, either way)."""
    if not ("all" in d.applies_to or profession is None or profession in d.applies_to):
        return False
    if d.status_of_clinician not in ("any", "supervisee" if supervisee else "licensed"):
        return False
    in_setting = (setting is None or not d.settings or setting in d.settings
                  or (minor_member and "minor" in d.settings))  # fmt: skip
    return in_setting and not (telehealth is False and d.telehealth_only)


def effective_request(request: Request, profile: PracticeProfile) -> Request:
    """The request as the practice's facts make it: a telehealth-only practice's every
    document is a telehealth one."""
    if profile.practice.telehealth_only and not request.telehealth:
        return dataclasses.replace(request, telehealth=True)
    return request


def has_minor_member(request: Request) -> bool:
    """A family or group with a minor in it: its parents or guardians (`--guardian`) sign."""
    return (
        request.setting in GUARDIAN_SETTINGS
        and request.setting != "minor"
        and bool(request.guardians)
    )


def covered_entity(profile: PracticeProfile) -> bool:
    """Whether HIPAA's privacy rule binds the practice; unsaid, it is taken to."""
    return profile.practice.covered_entity is not False


def _section(sid: str, title: str, names: tuple[str, ...], law: ResolvedLaw) -> SectionPlan:
    """A section and the official citations behind it. What is missing or unconfirmed is not
    recorded here: the review sheet finds it in the law (review.py)."""
    return law.derived(("section", sid, title, names),
                       lambda: _new_section(sid, title, names, law))  # fmt: skip


def _new_section(sid: str, title: str, names: tuple[str, ...], law: ResolvedLaw) -> SectionPlan:
    citations: list[DocCitation] = []
    for name in names:
        rule = law.rules.get(name)
        if rule is None:
            continue
        origin = law.origins.get(name, law.state.code)
        citations += [_client_citation(name, c.cite, c.source_url, origin)
                      for c in rule.citations if not is_commentary(c.cite)]  # fmt: skip
    return SectionPlan(sid, title, names, tuple(citations))


# A "citation" that is commentary on the law, not the law: the review sheet lists it.
_COMMENTARY_CITE = re.compile(
    r"\b(analysis|advisory|fact sheet|FAQ|description|summary|department of health)\b", re.I
)


@functools.lru_cache(maxsize=4096)  # asked for each citation of each document of a batch
def is_commentary(cite: str) -> bool:
    return _COMMENTARY_CITE.search(cite) is not None


def _with_extra(section: SectionPlan, disclosures: tuple, state: str) -> SectionPlan:
    """Required disclosures carry their own citations (`state`: the code they belong to)."""
    if section.id != "state_notices":
        return section
    citations = list(section.citations)
    for d in disclosures:
        citations += [
            _client_citation(f"required_disclosures.{d.id}", c.cite, c.source_url, state)
            for c in d.citations
            if not is_commentary(c.cite)
        ]  # fmt: skip
    return SectionPlan(section.id, section.title, section.rules, tuple(citations))


def _all_citations(sections: list[SectionPlan]) -> tuple[DocCitation, ...]:
    """Every citation once per rule (one entry for a cite read in several places, linked where
    any of them is official), grouped by rule in the order the document first uses it."""
    seen: dict[tuple[str, str], DocCitation] = {}
    order: dict[str, int] = {}
    for s in sections:
        for c in s.citations:
            order.setdefault(c.rule, len(order))
            known = seen.setdefault((c.rule, c.cite), c)
            if not known.source_url and c.source_url:
                seen[(c.rule, c.cite)] = c
    return tuple(sorted(seen.values(), key=lambda c: order[c.rule]))


def _label(name: str) -> str:
    return name.replace("_", " ")


def _name(text: str | None) -> str | None:
    """A name as it is printed: whitespace of any kind folded to single spaces; blank is none."""
    return " ".join(text.split()) or None if text is not None else None


def _npp_applies(law: ResolvedLaw, profile: PracticeProfile) -> bool:
    """A covered entity gives HIPAA's Notice of Privacy Practices; so does a Part 2 program,
    whose notice (42 CFR 2.22 as amended in 2024) takes that form too."""
    part2 = profile.practice.part2_program and law.rules.get("substance_use_records") is not None
    hipaa = law.rules.get("hipaa_privacy_notice") is not None and covered_entity(profile)
    return hipaa or part2


def _acknowledgments(
    request: Request, law: ResolvedLaw, profile: PracticeProfile, notices: tuple
) -> tuple[str, ...]:
    """What the client initials above the signatures: what a law or standard asks to be
    acknowledged, not said in the text."""
    lines = []
    if _npp_applies(law, profile):
        lines.append("You received my Notice of Privacy Practices.")
    if notices:
        lines.append(f"You received the notices required by {law.state.name} law, in this form.")
    if request.payment == "self-pay" and law.rules.get("good_faith_estimate") is not None:
        lines.append("You were told of your right to a Good Faith Estimate of the cost of care.")
    telehealth = law.rules.get("telehealth")
    if request.telehealth and getattr(telehealth, "consent_required", None):
        lines.append("You agree to therapy by telehealth, as this form describes it.")
    if request.setting in ("couples", "family"):
        who = "partner" if request.setting == "couples" else "family member"
        lines.append(f"You accept my policy on what one {who} tells me alone.")
    if request.setting == "group":
        lines.append("You agree to keep private what other group members say.")
    return tuple(lines)


def _office_record(request: Request, law: ResolvedLaw, profile: PracticeProfile) -> tuple[str, ...]:
    """Lines the practice fills in, where a rule asks it to record what the client did not
    sign (HIPAA: a good-faith effort to get the acknowledgment of the privacy notice)."""
    if not _npp_applies(law, profile):
        return ()
    return (
        "If the client did not initial receipt of the Notice of Privacy Practices: the notice "
        "was offered on (date) ______________ by ______________; the reason it was not "
        "acknowledged: ______________________________",
    )


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
    members = [Signature(role=role[request.setting], name=n) for n in names]
    guardians = [
        Signature(role="Parent or guardian of a minor member", name=_name(g))
        for g in request.guardians
    ]
    return (*members, *guardians, therapist)
