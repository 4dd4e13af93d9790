"""What the professions' ethics codes ask a consent form to tell a client, and where this form
tells it.

US.yaml lists, per code, the consent elements it requires (model.ConsentElement). ELEMENTS
names the section that says each element and a pattern its text must match. So a template
(built-in or a practice's own) that drops a required element is found: by a test over every
setting, and by lint's render matrix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from consentgen.model import Document, Request
from consentgen.values import FrozenValue, frozen_value

# element -> ((section id, pattern), ...): the element is told when any listed section is in the
# document and its text matches the pattern.
ELEMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "nature_and_course": (("about_therapy", r"How long therapy lasts"),),
    "treatment_planning": (("about_therapy", r"agree on goals"),),
    "risks_and_benefits": (("about_therapy", r"\*\*Benefits\.\*\*[\s\S]*\*\*Risks\.\*\*"),),
    "alternatives": (("about_therapy", r"\*\*Other choices\.\*\*"),),
    "approach": (("about_therapy", r"\*\*How I work\.\*\*"),),
    "ending_therapy": (("about_therapy", r"\*\*Ending therapy\.\*\*"),),
    "time_frame": (("about_therapy", r"\*\*How long this agreement lasts\.\*\*"),),
    "questions": (("about_therapy", r"ask questions at any time"),),
    "qualifications": (("your_clinician", r"\b(license|registration)\b"),),
    "fees": (("fees", r"Sessions last"),),
    "third_parties": (("consultation", r"other professionals"),),
    "confidentiality_limits": (("limits_of_confidentiality", r"Confidentiality has limits"),),
    "technology": (("technology", r"not fully private"),),
    "social_media": (("technology", r"\*\*Social media\.\*\*"),),
    "diagnosis_and_reports": (("records", r"diagnosis, I will explain"),),
    "records_kept": (("records", r"I keep a record"),),
    "records_access": (("records", r"\*\*Seeing your records\.\*\*"),),
    "continuity": (("records", r"\*\*If I cannot continue\.\*\*"),),
    "refuse_or_withdraw": (("client_rights", r"refuse or stop therapy"),),
    "payer_limits": (("insurance", r"limit the number or kind of sessions"),),
    "supervisor_identity": (("your_clinician", r"under the supervision of"),),
    "roles_in_joint_therapy": (
        ("couples", r"my client is the relationship"),
        ("family", r"my client is the family"),
        ("group", r"\*\*The group agreement\.\*\*"),
    ),
    "group_confidentiality": (
        ("couples", r"\*\*Records\.\*\*"),
        ("family", r"\*\*Records\.\*\*"),
        ("group", r"cannot guarantee"),
    ),
}


@frozen_value(kw_only=False)
class Requirement(FrozenValue):
    code: str  # the code's name
    element: str
    cite: str


def _applies(item: Any, request: Request) -> bool:
    if item.settings and request.setting not in item.settings:
        return False
    if item.supervisee is not None and item.supervisee != request.supervisee:
        return False
    # Only an insurer or managed-care plan limits services; a self-pay client has none.
    return not (item.element == "payer_limits" and request.payment == "self-pay")


def requirements(
    codes: Iterable[Any], profession: str | None, request: Request
) -> list[Requirement]:
    """What the code of `profession` (every code, when it is unknown) asks this form to tell."""
    return [
        Requirement(code.name, item.element, item.cite)
        for code in codes
        if profession is None or code.profession == profession
        for item in code.requires
        if _applies(item, request)
    ]


def missing(document: Document, wanted: Iterable[Requirement]) -> list[Requirement]:
    """The requirements `document` does not meet."""
    texts = _texts(document)
    return [r for r in wanted if _told(texts, r.element) is None]


def _texts(document: Document) -> dict[str, str]:
    return {s.id: "\n\n".join(s.paragraphs) for s in document.sections}


def _told(texts: dict[str, str], element: str) -> str | None:
    """The id of the section (of those `texts`) that tells `element`, or None."""
    for section_id, pattern in ELEMENTS[element]:
        if section_id in texts and re.search(pattern, texts[section_id]):
            return section_id
    return None
