"""The library surface: what the CLI calls, and what scripts import.

    from consentgen import Request, build_document, render
    doc = build_document(Request(state="CA", setting="couples"), practice="practice.yaml")
    html = render(doc, "html")

Nothing here prints or exits; errors are ConsentgenError subclasses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from consentgen import compose, jurisdictions
from consentgen.engine import (
    FORMATS,
    PathLike,
    build_document,
    document_dict,
    load_profile,
    prepare_law,
    render,
    search_path,
    template_env,
    to_json,
)
from consentgen.errors import InvalidFileError, UserError
from consentgen.model import STATE_RULE_NAMES, PracticeProfile, Request

__all__ = [
    "FORMATS",
    "REVIEW_FORMATS",
    "SCHEMAS",
    "PathLike",
    "batch",
    "build_document",
    "coverage",
    "disclosures_markdown",
    "document_dict",
    "good_faith_estimate",
    "json_schema",
    "list_jurisdictions",
    "load_profile",
    "prepare_law",
    "render",
    "render_estimate",
    "render_review",
    "review_sheet",
    "search_path",
    "show",
    "template_env",
    "to_json",
]


def review_sheet(
    request: Request,
    *,
    practice: PathLike | None = None,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> Any:
    """The clinician's review sheet for the document `request` would build (review.Sheet): every
    statement of law in it, its citations and where they were read, whether it is verified and
    whether the practice has reviewed it (the profile's `reviewed`). A `reviewed` entry naming
    no known rule is an InvalidFileError at its line:col."""
    from consentgen import review

    as_of = request.as_of or dt.date.today()
    law, _, _ = prepare_law(request.state, as_of, data_dirs)
    request = dataclasses.replace(request, state=law.state.code, as_of=as_of)
    practice_profile = load_profile(practice)
    path = None if practice is None or isinstance(practice, PracticeProfile) else Path(practice)
    review.check_reviews(practice_profile, path, search_path(data_dirs))
    return review.build_sheet(compose.plan(request, law, practice_profile), practice_profile)


REVIEW_FORMATS = ("md", "html", "json")


def render_review(
    sheet: Any, format: str = "md", *, data_dirs: tuple[PathLike, ...] | list[PathLike] = ()
) -> str:
    """A review sheet as md, html or json text."""
    from consentgen import review

    if format not in REVIEW_FORMATS:
        raise UserError(f"unknown format '{format}' for a review sheet; choose "
                        f"{', '.join(REVIEW_FORMATS)}")  # fmt: skip
    if format == "json":
        return review.to_json(sheet)
    env = template_env(tuple(search_path(data_dirs).template_dirs()))
    return review.to_html(sheet, env) if format == "html" else review.to_markdown(sheet, env)


def batch(
    source: PathLike | Iterable[dict[str, Any]],
    out_dir: PathLike,
    *,
    practice: PathLike | PracticeProfile | None = None,
    formats: tuple[str, ...] = ("md",),
    jobs: int | None = None,
    force: bool = False,
    resume: bool = False,
    as_of: dt.date | None = None,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """One document per row (a CSV/JSON Lines file, or dicts with the same keys) into `out_dir`,
    with DIR/manifest.json. Returns a result with `.written` (manifest entries), `.skipped`
    (file names) and `.failed` (line, id and message of each bad row)."""
    from consentgen import batching

    rows = Path(source) if isinstance(source, str | Path) else source
    return batching.run(
        rows, Path(out_dir), practice=practice if not isinstance(practice, str) else Path(practice),
        formats=formats, jobs=jobs, force=force, resume=resume,
        data_dirs=tuple(Path(d) for d in data_dirs), default_as_of=as_of, progress=progress,
    )  # fmt: skip


def list_jurisdictions(
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> list[dict[str, Any]]:
    search = search_path(data_dirs)
    rows = []
    for code, (path, origin) in sorted(jurisdictions.available(search).items()):
        j = jurisdictions.load_file(path, origin).jurisdiction
        rows.append(
            {
                "code": code,
                "name": j.name,
                "last_reviewed": j.last_reviewed.isoformat(),
                "origin": origin,
                "path": str(path),
            }
        )
    return rows


def show(
    state: str,
    *,
    as_of: dt.date | None = None,
    profession: str | None = None,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> dict[str, Any]:
    """A jurisdiction's rules as they stood on `as_of`, merged over the federal baseline, for
    `profession` (a rule's variant for it, where it has one; its boards and disclosures only).
    Every key of a rule is present, null when the data does not say."""
    as_of = as_of or dt.date.today()
    law, sources, _ = prepare_law(state, as_of, data_dirs)
    law = law.for_profession(profession)
    rules: dict[str, Any] = {}
    for name, rule in law.rules.items():
        if rule is None:  # not in the data, or not yet in force on `as_of`
            rules[name] = None
            continue
        data = _plain(dataclasses.asdict(rule))
        for resolved in ("history", "variants", "applies_to"):  # resolved: not part of a form
            data.pop(resolved, None)
        rules[name] = {"from": law.origins[name], **data}
    mine = lambda p: profession is None or p == profession or p == "all"  # noqa: E731
    rules["licensing_boards"] = [_plain(dataclasses.asdict(b)) for b in law.boards
                                 if mine(b.profession)]  # fmt: skip
    rules["required_disclosures"] = [_plain(dataclasses.asdict(d)) for d in law.disclosures
                                     if any(mine(p) for p in d.applies_to)]  # fmt: skip
    j = law.state
    return {
        "code": j.code,
        "name": j.name,
        "last_reviewed": j.last_reviewed.isoformat(),
        "as_of": as_of.isoformat(),
        "profession": profession,
        "origin": sources[-1].origin,
        "rules": rules,
    }


def coverage(
    *,
    as_of: dt.date | None = None,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> dict[str, Any]:
    """Which state rules each jurisdiction has, in force on `as_of`, and whether each is verified.

    For maintainers: what is left to research or to confirm.
    """
    search = search_path(data_dirs)
    as_of = as_of or dt.date.today()
    rows = []
    for code, (path, origin) in sorted(jurisdictions.available(search).items()):
        try:
            j = jurisdictions.load_file(path, origin).jurisdiction
        except InvalidFileError as exc:  # one broken file must not hide the others
            rows.append(
                {
                    "code": code,
                    "name": jurisdictions.NAMES.get(code, code),
                    "last_reviewed": None,
                    "origin": origin,
                    "error": exc.message,
                    "rules": _invalid_cells(),
                }
            )
            continue
        cells: dict[str, dict[str, Any]] = {}
        for name in STATE_RULE_NAMES:
            raw = getattr(j.rules, name)
            rule = jurisdictions.resolve(raw, as_of)
            cells[name] = (
                {"status": rule.status or "present", "verified": rule.verified}
                if rule is not None
                else {"status": "missing", "verified": False}
            )
            # Each profession's variant is an entry of its own, as the form it is for.
            variants = []
            for variant in raw.variants if raw is not None else ():
                form = jurisdictions.resolve(raw, as_of, variant.applies_to[0])
                if form is not None:
                    variants.append({"applies_to": list(variant.applies_to),
                                     "status": form.status or "present",
                                     "verified": form.verified})  # fmt: skip
            cells[name]["variants"] = variants
        for name in ("licensing_boards", "required_disclosures"):
            items = getattr(j.rules, name)
            cells[name] = {
                "count": len(items),
                "verified": sum(1 for item in items if item.verified),
            }
        rows.append(
            {
                "code": code,
                "name": j.name,
                "last_reviewed": j.last_reviewed.isoformat(),
                "origin": origin,
                "rules": cells,
            }
        )
    totals = {
        name: {
            "verified": sum(1 for r in rows if r["rules"][name]["verified"] is True),
            "unverified": sum(
                1
                for r in rows
                if r["rules"][name]["status"] not in ("missing", "invalid")
                and r["rules"][name]["verified"] is False
            ),
            "missing": sum(1 for r in rows if r["rules"][name]["status"] in ("missing", "invalid")),
        }
        for name in STATE_RULE_NAMES
    }
    variants = [v for r in rows for name in STATE_RULE_NAMES
                for v in r["rules"][name].get("variants", ())]  # fmt: skip
    totals["variants"] = {
        "verified": sum(1 for v in variants if v["verified"]),
        "unverified": sum(1 for v in variants if not v["verified"]),
    }
    boards = [r["rules"]["licensing_boards"] for r in rows]
    totals["licensing_boards"] = {
        "verified": sum(b["verified"] for b in boards),
        "unverified": sum(b["count"] - b["verified"] for b in boards),
        "jurisdictions_with_all_four": sum(1 for b in boards if b["count"] >= 4),
    }
    return {"as_of": as_of.isoformat(), "jurisdictions": rows, "totals": totals}


def _invalid_cells() -> dict[str, dict[str, Any]]:
    cells: dict[str, dict[str, Any]] = {
        name: {"status": "invalid", "verified": False} for name in STATE_RULE_NAMES
    }
    cells.update(
        {name: {"count": 0, "verified": 0} for name in ("licensing_boards", "required_disclosures")}
    )
    return cells


SCHEMAS = {"jurisdiction": "Jurisdiction", "practice": "PracticeProfile", "document": "Document",
           "estimate": "GoodFaithEstimate"}  # fmt: skip
_OUTPUTS = ("document", "estimate")  # what consentgen writes, not what it reads


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema, derived from the model, of a jurisdiction file or a practice profile (what
    consentgen reads), or of a document's or a good faith estimate's JSON (what it writes)."""
    from consentgen import model, structure

    if kind not in SCHEMAS:
        raise UserError(f"unknown schema '{kind}'; choose {', '.join(SCHEMAS)}")
    title = {
        "jurisdiction": "consentgen jurisdiction file",
        "practice": "consentgen practice profile",
        "document": "consentgen consent document (build --format json)",
        "estimate": "consentgen good faith estimate (gfe --format json)",
    }
    make = structure.output_schema if kind in _OUTPUTS else structure.json_schema
    return make(getattr(model, SCHEMAS[kind]), title[kind], f"{kind}.schema.json")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def good_faith_estimate(
    *,
    practice: PathLike | PracticeProfile,
    state: str,
    client: str | None = None,
    birth_date: dt.date | None = None,
    sessions: dict[str, int] | None = None,
    months: int = 12,
    diagnosis: tuple[str, ...] = (),
    first_session: dt.date | None = None,
    as_of: dt.date | None = None,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> Any:
    """A self-pay client's good faith estimate (model.GoodFaithEstimate) from the profile's
    `fees.services`: `sessions` maps a service code to how many are expected in `months`
    (at most 12); empty, one of each service. Issued as of `as_of` (default today)."""
    from consentgen import estimate
    from consentgen.rendering.markdown import data_version

    law, _, data_files = prepare_law(state, as_of or dt.date.today(), data_dirs)
    env = template_env(tuple(search_path(data_dirs).template_dirs()))
    if client is not None and Request.name_problem(client):
        raise UserError(f"the client's name holds {Request.name_problem(client)}; remove it")
    return estimate.build(
        law, load_profile(practice), client=client, birth_date=birth_date,
        sessions=dict(sessions or {}), months=months, diagnosis=tuple(diagnosis),
        first_session=first_session, data_version=data_version(data_files, env, ["gfe.md.j2"]),
    )  # fmt: skip


def render_estimate(
    estimate_document: Any,
    format: str = "md",
    *,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> str | bytes:
    """A good faith estimate as md, html or json text, or pdf bytes."""
    from consentgen import estimate

    if format not in estimate.FORMATS:
        raise UserError(f"unknown format '{format}' for an estimate; choose "
                        f"{', '.join(estimate.FORMATS)}")  # fmt: skip
    if format == "json":
        return estimate.to_json(estimate_document)
    env = template_env(tuple(search_path(data_dirs).template_dirs()))
    if format == "md":
        return estimate.to_markdown(estimate_document, env)
    html = estimate.to_html(estimate_document, env)
    if format == "html":
        return html
    from consentgen.rendering.pdf import to_pdf

    return to_pdf(html)


def disclosures_markdown(data_dirs: tuple[PathLike, ...] | list[PathLike] = ()) -> str:
    """A Markdown table of every jurisdiction's prescribed client disclosures, as the data holds
    them (staged ones included): what the client's copy gives (in the law's words or ours) and
    what the review sheet asks the clinician to check, with how many are verified. README.md
    holds it."""
    names = {"psychologist": "psychologists", "counselor": "counselors",
             "social-worker": "social workers", "mft": "MFTs", "all": "all"}  # fmt: skip
    rows = ["| State | Given in the client's copy | Listed for the clinician to check | Verified |",
            "| --- | --- | --- | --- |"]  # fmt: skip
    search = search_path(data_dirs)
    for item in list_jurisdictions(data_dirs):
        code = item["code"]
        if code == "US":
            continue
        # Every entry, staged ones too: the table does not change with the day it is made.
        items = jurisdictions.load(code, search)[1].jurisdiction.rules.required_disclosures
        if not items:
            continue

        def who(d: Any) -> str:
            people = ", ".join(names[p] for p in d.applies_to)
            status = {"supervisee": "; supervisees", "licensed": "; licensees"}.get(
                d.status_of_clinician, ""
            )
            return f"{d.title} ({people}{status})"

        given = [who(d) + (" *exact words*" if d.verbatim else "") for d in items
                 if d.verbatim or d.notice]  # fmt: skip
        checked = [who(d) for d in items if not (d.verbatim or d.notice)]
        verified = sum(d.verified for d in items)
        cell = lambda texts: "; ".join(t.replace("|", "/") for t in texts) or "none"  # noqa: E731
        rows.append(f"| {code} | {cell(given)} | {cell(checked)} | {verified} of {len(items)} |")
    return "\n".join(rows) + "\n"
