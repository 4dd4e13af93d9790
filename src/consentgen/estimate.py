"""The good faith estimate (No Surprises Act, 45 CFR 149.610): a self-pay client's written
estimate of expected charges, as its own document, from the practice profile's services.

It is written through the same sandboxed templates as the consent (templates/gfe.md.j2), so a
practice may supply its own, and its HTML and PDF come from the same Markdown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

from consentgen.errors import UserError
from consentgen.jurisdictions import ResolvedLaw
from consentgen.model import EstimateItem, GoodFaithEstimate, PracticeProfile
from consentgen.version import __version__

FORMATS = ("md", "html", "json", "pdf")
MAX_MONTHS = 12  # one estimate may cover a recurring service for up to 12 months
_DIAGNOSIS = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")  # an ICD-10-CM code


def build(
    law: ResolvedLaw,
    profile: PracticeProfile,
    *,
    client: str | None,
    birth_date: dt.date | None,
    sessions: dict[str, int],
    months: int,
    diagnosis: tuple[str, ...],
    first_session: dt.date | None,
    data_version: str,
) -> GoodFaithEstimate:
    """The estimate for `sessions` (service code -> how many in `months` months; empty: one of
    each service the profile lists)."""
    rule = law.rules.get("good_faith_estimate")
    if rule is None:
        raise UserError(
            f"no good faith estimate rule is in force on {law.as_of.isoformat()} (the No "
            "Surprises Act's estimate began 2022-01-01); use a later --as-of"
        )
    if not 1 <= months <= MAX_MONTHS:
        raise UserError(f"--months must be 1 to {MAX_MONTHS} (an estimate covers at most a year)")
    bad = [code for code in diagnosis if not _DIAGNOSIS.match(code)]
    if bad:
        raise UserError(f"--diagnosis {bad[0]!r} is not an ICD-10-CM code such as F41.1")
    services = {s.code: s for s in profile.fees.services}
    if not services:
        raise UserError(
            "the practice profile lists no services: add fees.services (each {code, "
            "description, minutes, fee}) to build an estimate"
        )
    wanted = sessions or {code: 1 for code in services}
    items = []
    for code, count in wanted.items():
        if code not in services:
            raise UserError(f"service {code} is not in the profile's fees.services "
                            f"({', '.join(services)}); add it or choose one of those")  # fmt: skip
        if count < 1:
            raise UserError(f"service {code}: the number of sessions must be at least 1")
        s = services[code]
        items.append(EstimateItem(code=s.code, description=s.description, minutes=s.minutes,
                                  fee=s.fee, count=count, total=s.fee * count))  # fmt: skip
    practice, clinician = profile.practice, profile.clinician
    needed = {"practice.name": practice.name, "practice.address": practice.address,
              "practice.npi": practice.npi, "practice.tin": practice.tin}  # fmt: skip
    missing = [key for key, value in needed.items() if not value]
    return GoodFaithEstimate(
        provider=practice.name,
        clinician=clinician.name,
        npi=practice.npi,
        tin=practice.tin,
        address=practice.address,
        state=law.state.code,
        phone=practice.phone,
        client=" ".join(client.split()) if client else None,
        client_birth_date=birth_date,
        diagnosis_codes=diagnosis,
        items=tuple(items),
        total=sum(i.total for i in items),
        period_months=months,
        first_session=first_session,
        issued=law.as_of,
        dispute_threshold=rule.dispute_threshold,
        dispute_days=rule.dispute_days,
        help_url=getattr(rule, "help_url", None),
        help_phone=getattr(rule, "help_phone", None),
        consentgen_version=__version__,
        data_version=data_version,
        missing=tuple(missing),
    )


def to_dict(estimate: GoodFaithEstimate) -> dict[str, Any]:
    raw = dataclasses.asdict(estimate)
    for key in ("client_birth_date", "first_session", "issued"):
        value = getattr(estimate, key)
        raw[key] = value.isoformat() if value else None
    return raw


def to_json(estimate: GoodFaithEstimate) -> str:
    return json.dumps(to_dict(estimate), indent=2, ensure_ascii=False) + "\n"


def to_markdown(estimate: GoodFaithEstimate, env: Any) -> str:
    from consentgen.rendering.markdown import BLANK, Md, tidy
    from consentgen.rendering.sandbox import template_error

    try:
        text = env.get_template("gfe.md.j2").render(e=estimate, blank=Md(BLANK))
    except UserError:
        raise
    except Exception as exc:
        raise template_error(exc, "gfe.md.j2") from None
    return tidy(text)


def to_html(estimate: GoodFaithEstimate, env: Any) -> str:
    from consentgen.rendering.html import markdown_parser, page

    # Not the consent's section cache: an estimate holds the client's name in its text.
    body = markdown_parser().enable("table").render(to_markdown(estimate, env))
    return page(env, estimate, body, title="Good Faith Estimate")
