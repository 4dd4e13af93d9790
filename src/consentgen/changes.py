"""When the law changes: what a document says differently, which signed documents are affected,
and the changelog of the law kept in the data itself (effective dates and `revised` dates)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import io
import json
from pathlib import Path
from typing import Any, get_args

from consentgen import compose, jurisdictions
from consentgen.errors import UserError
from consentgen.model import (
    Document,
    Payment,
    PracticeProfile,
    Profession,
    Request,
    Rule,
    Setting,
)
from consentgen.textsafe import csv_cell, json_text, visible


def _rule_facts(name: str, rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"rule": name, "status": None, "effective": None, "citations": [], "verified": None}
    return {
        "rule": name,
        "status": rule.status,
        "effective": rule.effective.isoformat() if rule.effective else None,
        "revised": rule.revised.isoformat() if rule.revised else None,
        "citations": [{"cite": c.cite, "source_url": c.source_url} for c in rule.citations],
        "verified": rule.verified,
    }


def document_diff(
    request: Request,
    start: dt.date,
    end: dt.date,
    *,
    practice: Any = None,
    data_dirs: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """Section by section, what `request`'s document says on `end` that it did not on `start`."""
    from consentgen.engine import build_document, load_profile, prepare_law

    profile = load_profile(practice)
    before = build_document(dataclasses.replace(request, as_of=start), practice=profile,
                            data_dirs=data_dirs)  # fmt: skip
    after = build_document(dataclasses.replace(request, as_of=end), practice=profile,
                           data_dirs=data_dirs)  # fmt: skip
    law_before = prepare_law(request.state, start, data_dirs)[0]
    law_after = prepare_law(request.state, end, data_dirs)[0]
    plan = compose.plan(dataclasses.replace(request, state=after.jurisdiction, as_of=end),
                        law_after, profile)  # fmt: skip
    rules_of = {section.id: section.rules for section in plan.sections}
    old = {s.id: s for s in before.sections}
    new = {s.id: s for s in after.sections}
    changes = []
    for section_id in list(dict.fromkeys([*old, *new])):
        a, b = old.get(section_id), new.get(section_id)
        text_a = _text(a)
        text_b = _text(b)
        if text_a == text_b or section_id == "legal_basis":
            continue
        rules = []
        for name in rules_of.get(section_id, ()):
            then, now = law_before.rules.get(name), law_after.rules.get(name)
            if then != now:
                rules.append({"before": _rule_facts(name, then), **_rule_facts(name, now)})
        changes.append({
            "id": section_id,
            "title": (b or a).title,  # type: ignore[union-attr]
            "change": "added" if a is None else "removed" if b is None else "changed",
            "diff": "".join(difflib.unified_diff(
                text_a.splitlines(keepends=True), text_b.splitlines(keepends=True),
                fromfile=f"{section_id} as of {start.isoformat()}",
                tofile=f"{section_id} as of {end.isoformat()}",
            )),
            "rules": rules,
        })  # fmt: skip
    return {"state": after.jurisdiction, "setting": after.setting, "options": after.options,
            "from": start.isoformat(), "to": end.isoformat(), "sections": changes}  # fmt: skip


def _text(section: Any) -> str:
    return "" if section is None else "\n\n".join(section.paragraphs) + "\n"


def recheck_manifest(
    manifest_path: Path,
    *,
    as_of: dt.date,
    practice: Any = None,
    data_dirs: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """Which documents of a batch manifest would now say something different, and why."""
    from consentgen.engine import load_profile
    from consentgen.manifest import documents_of
    from consentgen.yamlio import read_bytes

    raw = read_bytes(manifest_path, str(manifest_path), limit=MANIFEST_MAX_BYTES)
    try:
        entries = list(documents_of(json.loads(raw.decode("utf-8"))))
    except (ValueError, KeyError, TypeError, RecursionError, AttributeError):
        entries = None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UserError(f"{manifest_path} is not a consentgen manifest")
    latest: dict[str, dict[str, Any]] = {}  # one document per id: its newest, whatever its formats
    for entry in entries:
        key = str(entry.get("id", ""))
        if key not in latest or str(entry.get("as_of")) > str(latest[key].get("as_of")):
            latest[key] = entry
    profile: PracticeProfile = load_profile(practice)
    warnings = _profile_warnings(manifest_path, list(latest.values()), practice, profile)
    results = [_recheck_one(entry, profile, as_of, data_dirs) for entry in latest.values()]
    needing = [r for r in results if r["status"] == "changed"]
    not_checked = [r for r in results if r["status"] in NOT_CHECKED]
    return {"manifest": str(manifest_path), "as_of": as_of.isoformat(), "documents": results,
            "needing_reconsent": len(needing), "not_checked": len(not_checked),
            "warnings": warnings}  # fmt: skip


def _profile_warnings(
    manifest_path: Path, entries: list[dict[str, Any]], practice: Any, profile: PracticeProfile
) -> list[str]:
    """The manifest records each document's profile by its checksum (`practice_sha256`), not the
    profile itself. Without `practice`, a batch built with a profile cannot be rebuilt (every
    document would come out with blanks and differ): UserError asking for it. With a profile that
    is not the one recorded, a warning saying so (each such document is reported as changed)."""
    from consentgen.profile import profile_hash

    recorded = [e["practice_sha256"] for e in entries if isinstance(e.get("practice_sha256"), str)]
    if practice is None:
        if any(sha != profile_hash(PracticeProfile()) for sha in recorded):
            raise UserError(f"the documents in {manifest_path} were built with a practice "
                            "profile; give the same profile with --practice FILE")  # fmt: skip
        return []
    differ = sum(1 for sha in recorded if sha != profile_hash(profile))
    if not differ:
        return []
    shown = practice if isinstance(practice, str | Path) else "the practice profile given"
    return [f"{shown} is not the profile that {differ} of {len(entries)} document(s) were built "
            "with (its checksum differs), so they are reported as changed; give --practice the "
            "profile the batch used, unless the profile itself changed"]  # fmt: skip


# A document with one of these statuses could not be checked: `recheck` fails (exit code 1) for
# it as for a document that changed, since nobody can say it is still right.
NOT_CHECKED = ("error", "unknown")
# A manifest lists every document of a batch with its section checksums (about 0.6 kB each): this
# is room for some hundred thousand documents, and a bound for a device or a runaway file.
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
_TEXT_FIELDS = ("id", "file", "state", "setting", "as_of")


def _recheck_one(
    entry: dict[str, Any], profile: PracticeProfile, as_of: dt.date, data_dirs: tuple[Any, ...]
) -> dict[str, Any]:
    from consentgen.batching import section_hashes
    from consentgen.engine import build_document, prepare_law
    from consentgen.profile import profile_hash

    base = {"id": entry.get("id"), "file": entry.get("file"), "state": entry.get("state"),
            "setting": entry.get("setting"), "signed_as_of": entry.get("as_of")}  # fmt: skip
    wrong = [name for name in _TEXT_FIELDS if not isinstance(entry.get(name), str)]
    if wrong:
        base = {k: v if isinstance(v, str) else None for k, v in base.items()}
        return {**base, "status": "error", "reason": "the manifest entry has no text for "
                f"{', '.join(wrong)}; it was not made by consentgen batch"}  # fmt: skip
    if "sections" not in entry:
        return {**base, "status": "unknown", "reason": "the manifest has no section checksums "
                "(made by an older consentgen); rebuild it with consentgen batch"}  # fmt: skip
    options = entry.get("options") or {}
    then = entry["sections"]
    if not isinstance(options, dict) or not isinstance(then, dict):
        return {**base, "status": "error", "reason": "the manifest entry's options or sections "
                "are not a mapping; it was not made by consentgen batch"}  # fmt: skip
    known = {"setting": get_args(Setting), "payment": get_args(Payment),
             "profession": (*get_args(Profession), None)}  # fmt: skip
    given = {"setting": entry["setting"], "payment": options.get("payment", "insurance"),
             "profession": options.get("profession")}  # fmt: skip
    odd = [name for name, value in given.items() if value not in known[name]]
    odd += [name for name in ("supervisee", "telehealth")
            if not isinstance(options.get(name, False), bool)]  # fmt: skip
    if odd:
        return {**base, "status": "error", "reason": f"the manifest entry's {', '.join(odd)} "
                "is not one consentgen knows; it was not made by consentgen batch"}  # fmt: skip
    try:
        try:
            signed = dt.date.fromisoformat(entry["as_of"])
        except ValueError:
            raise ValueError("its as_of is not a date (YYYY-MM-DD)") from None
        request = Request(state=entry["state"], setting=entry["setting"],
                          payment=options.get("payment", "insurance"),
                          supervisee=bool(options.get("supervisee")),
                          telehealth=bool(options.get("telehealth")),
                          profession=options.get("profession"), as_of=as_of)  # fmt: skip
        document: Document = build_document(request, practice=profile, data_dirs=data_dirs)
        law_then = prepare_law(entry["state"], signed, data_dirs)[0]
        law_now = prepare_law(entry["state"], as_of, data_dirs)[0]
    except (UserError, KeyError, ValueError, TypeError) as exc:
        return {**base, "status": "error", "reason": str(exc)}
    now = section_hashes(document)
    changed = sorted(s for s in set(now) | set(then) if now.get(s) != then.get(s))
    if not changed:
        return {**base, "status": "same"}
    plan = compose.plan(dataclasses.replace(request, state=document.jurisdiction),
                        law_now, profile)  # fmt: skip
    rules_of = {s.id: s.rules for s in plan.sections}
    by_rule: dict[str, dict[str, Any]] = {}
    unexplained: list[str] = []
    for section_id in changed:
        explained = False
        for name in rules_of.get(section_id, ()):
            before, after = law_then.rules.get(name), law_now.rules.get(name)
            if after is not None and after.effective is not None and after.effective > signed:
                kind = "law changed"
            elif after is not None and after.revised is not None and after.revised > signed:
                kind = "data corrected"
            elif before != after:
                kind = "law changed"
            else:
                continue
            explained = True
            by_rule.setdefault(name, {"kind": kind, **_rule_facts(name, after), "sections": []})
            by_rule[name]["sections"].append(section_id)
        if not explained:
            unexplained.append(section_id)
    reasons = list(by_rule.values())
    if entry.get("practice_sha256") and entry["practice_sha256"] != profile_hash(profile):
        reasons.append({"kind": "practice profile differs", "rule": None, "sections": []})
    if unexplained:
        reasons.append({"kind": "wording, templates or undated data changed", "rule": None,
                        "sections": unexplained})  # fmt: skip
    return {**base, "status": "changed", "sections": changed, "reasons": reasons}


def law_changes(
    since: dt.date,
    *,
    state: str | None = None,
    data_dirs: tuple[Any, ...] = (),
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Every rule whose form took effect, or whose facts were corrected, on or after `since`
    (staged future changes included: those after `today`, default the system date), newest
    first: of every state, or of `state`, and of federal law (`federal`: true); `state` "US"
    lists the federal changes alone."""
    from consentgen.engine import search_path

    search = search_path(data_dirs)
    files = jurisdictions.available(search)
    if state is not None and state.strip().upper() == jurisdictions.FEDERAL:
        files = {}  # federal changes only
    elif state is not None:
        code = jurisdictions.normalize_code(state, search)
        files = {code: files[code]}
    # Federal law is part of every state's document (each state's file is merged over it), so
    # its changes are listed with any state's, marked `federal`.
    federal = search.find(f"jurisdictions/{jurisdictions.FEDERAL}.yaml")
    targets = dict(files)
    if federal is not None:
        targets[jurisdictions.FEDERAL] = federal
    today = today or dt.date.today()
    found: list[dict[str, Any]] = []
    for code, (path, origin) in sorted(targets.items()):
        rules = jurisdictions.load_file(path, origin).jurisdiction.rules
        for name in rules.__dataclass_fields__:
            rule = getattr(rules, name)
            if rule is None or isinstance(rule, tuple):
                continue
            for form in (rule, *rule.history):
                for kind, date in (("effective", form.effective), ("revised", form.revised)):
                    if date is None or date < since:
                        continue
                    label = "staged" if kind == "effective" and date > today else kind
                    found.append({"state": code, "federal": code == jurisdictions.FEDERAL,
                                  "rule": name, "change": label,
                                  "date": date.isoformat(), "summary": form.summary,
                                  **{k: v for k, v in _rule_facts(name, form).items()
                                     if k != "rule"}})  # fmt: skip
    return sorted(found, key=lambda c: (c["date"], c["state"], c["rule"]), reverse=True)


# --- Reports ------------------------------------------------------------------------------------


def rule_line(rule: dict[str, Any]) -> str:
    """One changed rule in a line: its status change, effective date and citations."""
    before = rule.get("before")
    status = ""
    if before is not None and before.get("status") != rule.get("status"):
        status = f"{before.get('status') or 'not stated'} -> {rule.get('status') or 'not stated'}, "
    when = f"effective {rule['effective']}" if rule.get("effective") else "effective date unknown"
    cites = "; ".join(c["cite"] for c in rule.get("citations", []))
    return f"rule {rule['rule']}: {status}{when}; {cites}"


def diff_text(data: dict[str, Any]) -> str:
    """`consentgen diff` as plain text: a unified diff of each section that differs."""
    out = [f"# {data['state']} {data['setting']}: {len(data['sections'])} section(s) differ "
           f"between {data['from']} and {data['to']}\n"]  # fmt: skip
    for section in data["sections"]:
        out.append(f"# section {section['id']} ({section['change']})\n")
        out.extend(f"# {visible(rule_line(rule))}\n" for rule in section["rules"])
        out.append(visible(section["diff"], keep="\n"))
    return "".join(out)


def recheck_text(report: dict[str, Any], fmt: str) -> str:
    """`recheck_manifest`'s report as json, csv (one line per document and reason) or table (the
    documents that changed or could not be checked, each reason under them, and a count)."""
    rows = report["documents"]
    if fmt == "json":
        return json_text(report)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "file", "state", "setting", "signed_as_of", "status", "sections",
                         "kind", "rule", "effective"])  # fmt: skip
        for row in rows:
            for reason in row.get("reasons") or [{}]:
                kind = reason.get("kind") or row.get("reason", "")
                writer.writerow(csv_cell(cell) for cell in (
                    row["id"], row["file"], row["state"], row["setting"], row["signed_as_of"],
                    row["status"], " ".join(reason.get("sections", [])), kind,
                    reason.get("rule") or "", reason.get("effective") or ""))  # fmt: skip
        return buffer.getvalue()
    lines = []
    for row in rows:
        if row["status"] == "same":
            continue
        detail = ", ".join(row.get("sections", [])) or row.get("reason", "")
        lines.append("\t".join(visible(row[key] if key else detail)
                               for key in ("id", "state", "setting", "status", "")))  # fmt: skip
        for reason in row.get("reasons", []):
            if reason.get("rule"):
                lines.append(visible(f"\t{reason['kind']}: {rule_line(reason)}", keep="\t"))
            else:
                lines.append(visible(f"\t{reason['kind']}", keep="\t"))
    unchecked = report["not_checked"] and f"; {report['not_checked']} could not be checked"
    lines.append(f"{report['needing_reconsent']} of {len(rows)} document(s) need re-consent as of "
                 f"{report['as_of']}{unchecked or ''}")  # fmt: skip
    return "\n".join(lines) + "\n"
