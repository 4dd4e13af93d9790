"""The pipeline in one place: the search path, the law as of a date, the practice profile, the
template environment, and a document composed, written and rendered. `api` is the public facade
over it; `batching`, `changes`, `guidance` and `lint` use it through these public names.

Nothing here prints or exits; errors are ConsentgenError subclasses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from consentgen import compose, jurisdictions, profile
from consentgen.errors import UserError
from consentgen.model import Document, PracticeProfile, Request, Source
from consentgen.resources import SearchPath, files_fingerprint

PathLike = str | Path
FORMATS = ("md", "html", "txt", "json", "pdf", "docx")  # each is also its file extension


def template_env(template_dirs: tuple[str, ...], fingerprint: tuple[Any, ...] | None = None) -> Any:
    """The template environment for these folders, made anew when any file in them changed
    (templates are not re-read while an environment lives). `fingerprint`: the folders'
    files_fingerprint, when the caller has just taken it."""
    if fingerprint is None:
        fingerprint = files_fingerprint(template_dirs)
    return _env_for(template_dirs, fingerprint)


@functools.lru_cache(maxsize=8)
def _env_for(template_dirs: tuple[str, ...], fingerprint: tuple[Any, ...]) -> Any:
    from consentgen.rendering.markdown import make_env

    return make_env(list(template_dirs))


def search_path(data_dirs: tuple[PathLike, ...] | list[PathLike]) -> SearchPath:
    return SearchPath.make(tuple(Path(d) for d in data_dirs))


def load_profile(practice: PathLike | PracticeProfile | None) -> PracticeProfile:
    if isinstance(practice, PracticeProfile):
        return practice
    return profile.load(Path(practice) if practice is not None else None)


def build_document(
    request: Request,
    *,
    practice: PathLike | PracticeProfile | None = None,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> Document:
    """Compose and write the consent document for `request`."""
    from consentgen.rendering.markdown import write_document

    as_of = request.as_of or dt.date.today()
    law, sources, data_files = prepare_law(request.state, as_of, data_dirs)
    request = dataclasses.replace(request, state=law.state.code, as_of=as_of)
    practice_profile = load_profile(practice)
    plan = compose.plan(request, law, practice_profile)
    env = template_env(tuple(search_path(data_dirs).template_dirs()))
    return write_document(plan, practice_profile, env, data_files, sources)


def prepare_law(
    state: str, as_of: dt.date, data_dirs: tuple[PathLike, ...] | list[PathLike] = ()
) -> tuple[jurisdictions.ResolvedLaw, tuple[Source, ...], list[tuple[str, str]]]:
    """The state's law merged over the federal baseline as of a date, its sources, and the
    (file, sha256) pairs that go into a document's data version."""
    search = search_path(data_dirs)
    code = jurisdictions.normalize_code(state, search)
    federal, loaded = jurisdictions.load(code, search)
    law = jurisdictions.merge(federal.jurisdiction, loaded.jurisdiction, as_of)
    sources = tuple(
        Source(code=f.jurisdiction.code, name=f.jurisdiction.name,
               last_reviewed=f.jurisdiction.last_reviewed, origin=f.origin)
        for f in (federal, loaded)
    )  # fmt: skip
    data_files = [(f"jurisdictions/{f.path.name}", f.sha256) for f in (federal, loaded)]
    return law, sources, data_files


def render(
    document: Document,
    format: str = "md",
    *,
    data_dirs: tuple[PathLike, ...] | list[PathLike] = (),
) -> str | bytes:
    """The document as md, html, txt or json text, or as pdf or docx bytes."""
    if format not in FORMATS:
        raise UserError(f"unknown format '{format}'; choose {', '.join(FORMATS)}")
    if format == "json":
        return to_json(document)
    return render_with(
        document, format, template_env(tuple(search_path(data_dirs).template_dirs()))
    )


def render_with(document: Document, format: str, env: Any) -> str | bytes:
    """`render` with a template environment already made (a batch makes one a chunk of rows)."""
    if format == "json":
        return to_json(document)
    if format in ("html", "pdf"):
        from consentgen.rendering.html import to_html

        html = to_html(document, env)
        if format == "html":
            return html
        from consentgen.rendering.pdf import to_pdf

        return to_pdf(html)
    from consentgen.rendering.markdown import to_markdown

    markdown = to_markdown(document, env)
    if format == "txt":
        from consentgen.rendering.text import to_text

        return to_text(markdown)
    if format == "docx":
        from consentgen.rendering.docx import to_docx

        return to_docx(document, markdown)
    return markdown


def document_dict(document: Document) -> dict[str, Any]:
    """The Document contract (DESIGN.md) as plain JSON-ready data."""
    raw = dataclasses.asdict(document)
    return {
        "jurisdiction": raw["jurisdiction"],
        "jurisdiction_name": raw["jurisdiction_name"],
        "setting": raw["setting"],
        "options": raw["options"],
        "as_of": document.as_of.isoformat(),
        "data_version": raw["data_version"],
        "consentgen_version": raw["consentgen_version"],
        "sources": [{**s, "last_reviewed": s["last_reviewed"].isoformat()} for s in raw["sources"]],
        "sections": [
            {k: s[k] for k in ("id", "title", "paragraphs", "citations")} for s in raw["sections"]
        ],
        "signatures": raw["signatures"],
        "acknowledgments": raw["acknowledgments"],
        "office_record": raw["office_record"],
        "missing": raw["missing"],
    }


def to_json(document: Document) -> str:
    return json.dumps(document_dict(document), indent=2, ensure_ascii=False) + "\n"
