"""Jinja2 turns a composed plan into the Document, and the Document into Markdown.

Every value that comes from data (a profile, a client's name, a jurisdiction fact) is escaped
for Markdown on output, so none of it can add formatting, links or HTML, and none of it is ever
rendered as a template. Templates are Jinja2 run in a SandboxedEnvironment, because a practice
can supply its own through --data-dir.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import weakref
from collections.abc import Iterable
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
)
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from consentgen import __version__
from consentgen.cache import cache_dir
from consentgen.compose import ETHICS_CODES, PROFESSION_NAMES, Plan
from consentgen.errors import UserError
from consentgen.jurisdictions import NAMES
from consentgen.model import Document, PracticeProfile, Section, Source

BLANK = "________"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#!~{}])")
_NEWLINES = re.compile(r"[ \t]*[\r\n\v\f\x85\u2028\u2029]+[ \t]*")
_ORDERED_START = re.compile(r"^(\d+)([.)])(?=\s|$)")
_BULLET_START = re.compile(r"^([-+=])(?=\s|$)")
_URL = re.compile(r"https?://[^\s<>\\]+")


class Md(str):
    """Text that is already Markdown: passes through output escaping unchanged."""

    __slots__ = ()


def escape_md(value: Any) -> str:
    if isinstance(value, Md):
        return value
    if value is None:
        return Md(BLANK)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _NEWLINES.sub(" ", str(value))  # no newline may start a new Markdown block
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A value that starts like a list item would change the block structure.
    return _BULLET_START.sub(r"\\\1", _ORDERED_START.sub(r"\1\\\2", text))


def url_md(value: Any) -> str:
    """A web address as a Markdown autolink; anything else is escaped text."""
    text = str(value)
    if _URL.fullmatch(text):
        return Md(f"<{text}>")
    return escape_md(text)


class Blanks:
    """Looks values up in the profile; a missing one renders as a blank and is remembered."""

    def __init__(self, profile: PracticeProfile) -> None:
        self.profile = profile
        self.missing: list[str] = []
        self.asked: list[str] = []  # every missing key asked for, in order, repeats included

    def __call__(self, key: str) -> Any:
        value: Any = self.profile
        for part in key.split("."):
            value = getattr(value, part, None)
            if value is None:
                break
        if value is None or value == () or value == "":
            self.note(key)
            return Md(BLANK)
        return value

    def note(self, key: str) -> None:
        self.asked.append(key)
        if key not in self.missing:
            self.missing.append(key)


def _money(value: Any) -> str:
    if isinstance(value, Md):
        return value
    return f"${value:,.2f}".replace(".00", "")


def _state_name(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in NAMES:
        return NAMES[value.upper()]
    return value


def _join(items: Iterable[Any], last: str = "and") -> str:
    items = [escape_md(i) for i in items]
    if len(items) <= 2:
        return Md(f" {last} ".join(items))
    return Md(", ".join(items[:-1]) + f", {last} " + items[-1])


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    folder = cache_dir("templates")
    if folder is None:
        return None
    return FileSystemBytecodeCache(str(folder), pattern=f"{__version__}-%s.cache")


def make_env(template_dirs: list[str]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        bytecode_cache=_bytecode_cache(),
        loader=ChoiceLoader([FileSystemLoader(d) for d in template_dirs]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=escape_md,
        auto_reload=False,  # templates do not change while a process runs: no stat per render
    )
    env.filters["money"] = _money
    env.filters["join_and"] = _join
    env.filters["md"] = Md
    env.filters["url"] = url_md
    env.filters["state_name"] = _state_name
    return env


def template_error(exc: Exception, name: str) -> UserError:
    if isinstance(exc, TemplateSyntaxError):
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
        return UserError(f"{where}: template syntax error: {exc.message}; fix the template")
    if isinstance(exc, SecurityError):
        return UserError(f"template {name} tried an unsafe operation and was refused: {exc}")
    if isinstance(exc, TemplateNotFound):
        return UserError(f"template {exc.name} not found; check --data-dir templates")
    return UserError(f"template {name} failed: {exc}; fix the template or remove the override")


def _paragraphs(markdown: str) -> tuple[str, ...]:
    blocks = re.split(r"\n[ \t]*\n", markdown.strip())
    return tuple(b.strip("\n") for b in blocks if b.strip())


def write_document(
    plan: Plan,
    profile: PracticeProfile,
    env: SandboxedEnvironment,
    data_files: list[tuple[str, str]],
    sources: tuple[Source, ...],
    memo: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] | None = None,
) -> Document:
    """Render every planned section's template into the Document's paragraphs.

    `memo`, for many documents from one law and one profile (lint's matrix, batches): a section
    whose template reads nothing of the request is rendered once and reused.
    """
    fill = Blanks(profile)
    law = plan.law
    req = plan.request
    context: dict[str, Any] = {
        "state": law.state,
        "law": law.rules,
        "as_of": law.as_of,
        # Sections never see clients' names (only the signature blocks do), so a section's text,
        # its checksum in a manifest and its cached HTML hold no client data, even with a
        # practice's own templates.
        "req": dataclasses.replace(req, clients=(), guardians=()),
        "guardian_consents": bool(req.guardians),
        "setting": req.setting,
        "profession": plan.profession,
        "profession_name": PROFESSION_NAMES.get(plan.profession or "", None),
        "ethics_code": ETHICS_CODES.get(plan.profession or "", None),
        "boards": plan.boards,
        "disclosures": plan.disclosures,
        "profile": profile,
        "fill": fill,
        "blank": Md(BLANK),
        "sections": plan.sections,
        "section_ids": [s.id for s in plan.sections],
    }
    sections: list[Section] = []
    used_templates: list[str] = []
    for sp in plan.sections:
        name = f"sections/{sp.id}.md.j2"
        key = None
        if memo is not None:
            key = (
                name,
                *(
                    _frozen(sp if v == "section" else context[v])
                    for v in _request_variables(env, name)
                ),
            )
        if key is not None and key in memo:
            text, asked = memo[key]
            for blank_key in asked:
                fill.note(blank_key)
        else:
            mark = len(fill.asked)
            try:
                text = env.get_template(name).render(context, section=sp)
            except (TemplateError, SecurityError) as exc:
                raise template_error(exc, name) from None
            if key is not None:
                memo[key] = (text, tuple(fill.asked[mark:]))
        used_templates.append(name)
        sections.append(
            Section(
                id=sp.id,
                title=sp.title,
                paragraphs=_paragraphs(text),
                citations=sp.citations,
                unverified=sp.unverified,
            )
        )
    return Document(
        jurisdiction=law.state.code,
        jurisdiction_name=law.state.name,
        setting=req.setting,
        options=req.options(),
        as_of=law.as_of,
        data_version=data_version(data_files, env, [*used_templates, "consent.md.j2"]),
        consentgen_version=__version__,
        sources=sources,
        sections=tuple(sections),
        signatures=plan.signatures,
        missing=tuple(fill.missing),
    )


def data_version(
    data_files: list[tuple[str, str]], env: SandboxedEnvironment, templates: list[str]
) -> str:
    """A hash of the jurisdiction files (name, sha256) and templates a document was built from."""
    h = hashlib.sha256()
    for label, digest in data_files:
        h.update(f"{label}\0{digest}\n".encode())
    for name in sorted(set(templates)):
        h.update(name.encode() + b"\0" + _template_digest(env, name))
    return h.hexdigest()


# Context variables that differ from one request to another; `section` is the template's own plan.
_REQUEST_VARIABLES = frozenset(
    ("req", "setting", "profession", "profession_name", "ethics_code", "boards", "disclosures",
     "sections", "section_ids", "section", "guardian_consents")
)  # fmt: skip
_USES: weakref.WeakKeyDictionary[SandboxedEnvironment, dict[str, tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


def _request_variables(env: SandboxedEnvironment, name: str) -> tuple[str, ...]:
    """The request-dependent variables a template reads (itself and what it includes)."""
    uses = _USES.setdefault(env, {})
    if name not in uses:
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        found = meta.find_undeclared_variables(env.parse(source))
        imported = meta.find_referenced_templates(env.parse(source))
        if any(ref is None or ref != "macros.md.j2" for ref in imported):
            found |= _REQUEST_VARIABLES  # an include we cannot see through: key on everything
        uses[name] = tuple(sorted(found & _REQUEST_VARIABLES))
    return uses[name]


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_DIGESTS: weakref.WeakKeyDictionary[SandboxedEnvironment, dict[str, bytes]] = (
    weakref.WeakKeyDictionary()
)


def _template_digest(env: SandboxedEnvironment, name: str) -> bytes:
    digests = _DIGESTS.setdefault(env, {})
    if name not in digests:
        source, _filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digests[name] = hashlib.sha256(source.encode()).digest()
    return digests[name]


def to_markdown(document: Document, env: SandboxedEnvironment) -> str:
    try:
        template = env.get_template("consent.md.j2")
        text = template.render(
            doc=document, blank=Md(BLANK), short_version=document.data_version[:12]
        )
    except (TemplateError, SecurityError) as exc:
        raise template_error(exc, "consent.md.j2") from None
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
