"""Jinja2 turns a composed plan into the Document, and the Document into Markdown.

Every value that comes from data (a profile, a client's name, a jurisdiction fact) is escaped
for Markdown on output, so none of it can add formatting, links or HTML, and none of it is ever
rendered as a template. Templates run in the sandbox of rendering/sandbox.py, because a practice can
supply its own through --data-dir; the helpers they get here look up plain data only (`fill`
walks practice-profile field names, nothing else).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import re
import typing
from collections.abc import Iterable
from typing import Any

from jinja2 import (
    ChoiceLoader,
    StrictUndefined,
    TemplateRuntimeError,
    meta,
    nodes,
)
from jinja2.sandbox import (
    SecurityError,
)

from consentgen import cache
from consentgen.compose import Plan
from consentgen.errors import UserError
from consentgen.jurisdictions import NAMES
from consentgen.model import (
    ETHICS_CODES,
    PROFESSION_NAMES,
    ClientFacts,
    Document,
    PracticeProfile,
    Section,
    Source,
    client_view,
)
from consentgen.profile import profile_hash
from consentgen.rendering import compiled
from consentgen.rendering.sandbox import (
    ITERATE_FILTER,
    Loader,
    Sandbox,
    TemplateFailure,
    bounded_filter,
    count_iteration,
    template_error,
)
from consentgen.version import __version__

BLANK = "________"
_MD_SPECIAL = "\\`*_[]<>|&#!~{}"
_ESCAPED = str.maketrans({char: "\\" + char for char in _MD_SPECIAL})  # each with a backslash
# Two blank lines or more. (Written so, not as \n{3,}: the regex engine then searches for its
# literal start, ten times faster on a whole document.)
_BLANK_LINES = re.compile(r"\n\n\n+")
_NEWLINES = re.compile(r"[ \t]*[\r\n\v\f\x85\u2028\u2029]+[ \t]*")
_ORDERED_START = re.compile(r"^(\d+)([.)])(?=\s|$)")
_BULLET_START = re.compile(r"^([-+=])(?=\s|$)")
_URL = re.compile(r"https?://[^\s<>\\]+")
# Text that none of the four escapes above would change: no special character or line break,
# and no start that could begin a list item (most titles, labels, dates and numbers).
_NOTHING_TO_ESCAPE = re.compile(r"(?![-+=])(?!\d+[.)])"
                                r"[^\\`*_\[\]<>|&#!~{}\r\n\v\f\x85\u2028\u2029]+")  # fmt: skip


class Md(str):
    """Text that is already Markdown: passes through output escaping unchanged."""

    __slots__ = ()


def tidy(text: str) -> str:
    """A rendered document's text: at most one blank line in a row, and one line break at the
    end (templates leave blank lines where a block was left out)."""
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def one_line(text: str) -> str:
    """`text` with each line break, and the blanks around it, made one space."""
    return _NEWLINES.sub(" ", text)


def escape_md(value: Any) -> str:
    if isinstance(value, Md):
        return value
    if value is None:
        return Md(BLANK)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if _NOTHING_TO_ESCAPE.fullmatch(text):
        return text
    text = one_line(text).translate(_ESCAPED)  # no newline may start a new Markdown block
    # A value that starts like a list item would change the block structure.
    return _BULLET_START.sub(r"\\\1", _ORDERED_START.sub(r"\1\\\2", text))


def url_md(value: Any) -> str:
    """A web address as a Markdown autolink; anything else is escaped text."""
    text = str(value)
    if _URL.fullmatch(text):
        return Md(f"<{text}>")
    return escape_md(text)


# --- What a template can call -----------------------------------------------------------------


def _dataclass_types(annotation: Any) -> list[type]:
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return [annotation]
    return [t for arg in typing.get_args(annotation) for t in _dataclass_types(arg)]


@functools.cache
def _profile_keys() -> frozenset[str]:
    """Every dotted key of a practice-profile field: `practice`, `practice.name`..."""
    keys: set[str] = set()

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = prefix + field.name
            keys.add(key)
            for inner in _dataclass_types(hints[field.name]):
                walk(inner, key + ".")

    walk(PracticeProfile, "")
    return frozenset(keys)


def _first_unknown(key: Any) -> Any:
    """The first part of a dotted key that does not name a profile field."""
    if not isinstance(key, str):
        return key
    walked = ""
    for part in key.split("."):
        walked = f"{walked}.{part}" if walked else part
        if walked not in _profile_keys():
            return part
    return key


def _shown(text: Any) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."


class Blanks:
    """`fill("practice.name")`: a practice-profile value by its field names; a missing one
    renders as a blank and is remembered. A key that is not a field path is refused: it never
    reaches an attribute (nothing is looked up but the profile's own fields)."""

    def __init__(self, profile: PracticeProfile) -> None:
        self._profile = profile
        self._missing: list[str] = []
        self._asked: list[str] = []  # every missing key asked for, in order, repeats included

    def __call__(self, key: Any) -> Any:
        if not isinstance(key, str) or key not in _profile_keys():
            raise SecurityError(
                f"fill({_shown(key)}): {_shown(_first_unknown(key))} is not a practice-profile "
                "field; use a key such as 'practice.name' or 'fees.session'"
            )
        value: Any = self._profile
        for part in key.split("."):
            value = getattr(value, part)
            if value is None:
                break
        if value is None or value == () or value == "":
            self._note(key)
            return Md(BLANK)
        return value

    def _note(self, key: str) -> None:
        self._asked.append(key)
        if key not in self._missing:
            self._missing.append(key)


def _money(value: Any) -> str:
    if isinstance(value, Md):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateRuntimeError(f"money takes a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise TemplateRuntimeError("money takes a finite number")
    return f"${value:,.2f}".replace(".00", "")


def _state_name(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in NAMES:
        return NAMES[value.upper()]
    return value


def _join(items: Iterable[Any], last: str = "and") -> str:
    if not isinstance(last, str):
        raise TemplateRuntimeError(f"join_and's last word must be text, not {type(last).__name__}")
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise TemplateRuntimeError(f"join_and takes a list, not {type(items).__name__}")
    texts = [escape_md(i) for i in items]
    if len(texts) <= 2:
        return Md(f" {last} ".join(texts))
    return Md(", ".join(texts[:-1]) + f", {last} " + texts[-1])


def _full_stop(value: Any) -> Any:
    """A profile's or the data's text ended as a sentence: without blanks at either end (four
    at the start of a line would make it a block of code), a full stop added unless it ends with
    one of . ! ?"""
    if not isinstance(value, str):
        raise TemplateRuntimeError(f"full_stop takes text, not {type(value).__name__}")
    value = value.strip()
    return value if value[-1:] in ".!?" else value + "."


def _sentence(value: Any) -> Any:
    """Text as a whole sentence: its first letter capitalised and a full stop at its end."""
    text = _full_stop(value)
    return text[:1].upper() + text[1:]


def make_env(template_dirs: list[str]) -> Sandbox:
    # The built-in folder comes last: a user folder is never taken for it.
    last = len(template_dirs) - 1
    loaders = [Loader(d, builtin=i == last and compiled.is_builtin(d))
               for i, d in enumerate(template_dirs)]  # fmt: skip
    env = Sandbox(
        loader=ChoiceLoader(loaders),
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
    env.filters["full_stop"] = _full_stop
    env.filters["sentence"] = _sentence
    env.filters = {name: bounded_filter(name, func) for name, func in env.filters.items()}
    env.filters[ITERATE_FILTER] = count_iteration
    return env


def _paragraphs(markdown: str) -> tuple[str, ...]:
    blocks = re.split(r"\n[ \t]*\n", markdown.strip())
    return tuple(b.strip("\n") for b in blocks if b.strip())


def write_document(
    plan: Plan,
    profile: PracticeProfile,
    env: Any,
    data_files: list[tuple[str, str]],
    sources: tuple[Source, ...],
    memo: dict[tuple[Any, ...], tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> Document:
    """Render every planned section's template into the Document's paragraphs.

    `memo`, for many documents from one law and one profile (lint's matrix, batches): a section
    whose template reads nothing of the request is rendered once and reused. Its keys hold the
    checksums of the template (and of what it imports), of the profile and of the law's files,
    never an object's identity.
    """
    fill = Blanks(profile)
    law = plan.law
    req = plan.request
    # Templates get the law through client views (model.client_view): the facts a client's
    # copy may state, never a rule's summary, notes, sources or verification state.
    context: dict[str, Any] = {
        "state": ClientFacts(code=law.state.code, name=law.state.name),
        "law": law.derived(
            ("client view",), lambda: {name: client_view(rule) for name, rule in law.rules.items()}
        ),
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
        "boards": client_view(plan.boards),
        "notices": client_view(plan.notices),
        "profile": profile,
        "fill": fill,
        "blank": Md(BLANK),
        "sections": plan.sections,
        "section_ids": [s.id for s in plan.sections],
    }
    inputs = None
    if memo is not None:
        inputs = (
            _profile_digest(profile, memo),
            tuple(data_files),
            law.state.code,
            law.as_of,
        )
    sections: list[Section] = []
    used_templates: list[str] = []
    digests: dict[str, bytes] = {}  # the checksum of each template this document used
    for sp in plan.sections:
        name = f"sections/{sp.id}.md.j2"
        try:
            template = env.get_template(name)
            key = None
            if inputs is not None and memo is not None:
                variables, imports, req_fields = _uses(env, name, template)
                key = (
                    name,
                    *(_digest_of(env, ref, digests) for ref in (name, *imports)),
                    inputs,
                    *(_key_value(v, sp, context, req_fields) for v in variables),
                )
            # One lookup: a key's hash is not kept, and it may hash a plan's every citation.
            held = memo.get(key) if key is not None and memo is not None else None
            if held is not None:
                if isinstance(held, TemplateFailure):  # it went over a limit for these
                    raise held  # inputs: it would again, as slowly
                paragraphs, asked = held
                for blank_key in asked:
                    fill._note(blank_key)
            else:
                mark = len(fill._asked)
                try:
                    paragraphs = _paragraphs(template.render(context, section=sp))
                except TemplateFailure as failure:
                    if failure.limit and key is not None and memo is not None:
                        memo[key] = failure  # type: ignore[assignment]
                    raise
                if key is not None and memo is not None:
                    memo[key] = (paragraphs, tuple(fill._asked[mark:]))
        except UserError:
            raise
        except Exception as exc:
            raise template_error(exc, name) from None
        used_templates.append(name)
        sections.append(
            Section(id=sp.id, title=sp.title, paragraphs=paragraphs, citations=sp.citations)
        )
    try:
        version = data_version(data_files, env, [*used_templates, "consent.md.j2"], digests)
    except UserError:
        raise
    except Exception as exc:
        raise template_error(exc, "consent.md.j2") from None
    return Document(
        jurisdiction=law.state.code,
        jurisdiction_name=law.state.name,
        setting=req.setting,
        options=req.options(),
        as_of=law.as_of,
        data_version=version,
        consentgen_version=__version__,
        sources=sources,
        sections=tuple(sections),
        signatures=plan.signatures,
        acknowledgments=plan.acknowledgments,
        office_record=plan.office_record,
        missing=tuple(fill._missing),
    )


def _profile_digest(profile: PracticeProfile, memo: dict[Any, Any]) -> str:
    """profile_hash, made once a profile (it walks every value). The entry holds the profile
    itself, so its id is never another's."""
    key = ("profile digest", id(profile))
    held = memo.get(key)
    if held is not None and held[0] is profile:
        return held[1]  # type: ignore[no-any-return]
    digest = profile_hash(profile)
    memo[key] = (profile, digest)
    return digest


def data_version(
    data_files: list[tuple[str, str]],
    env: Any,
    templates: list[str],
    digests: dict[str, bytes] | None = None,
) -> str:
    """A hash of the jurisdiction files (name, sha256) and templates a document was built from."""
    digests = {} if digests is None else digests
    h = hashlib.sha256()
    for label, digest in data_files:
        h.update(f"{label}\0{digest}\n".encode())
    for name in sorted(set(templates)):
        h.update(name.encode() + b"\0" + _digest_of(env, name, digests))
    return h.hexdigest()


# Context variables that differ from one request to another; `section` is the template's own plan.
_REQUEST_VARIABLES = frozenset(
    ("req", "setting", "profession", "profession_name", "ethics_code", "boards", "notices",
     "sections", "section_ids", "section", "guardian_consents")
)  # fmt: skip
# Template source checksum -> (request variables it reads, templates it imports, the fields of
# `req` it reads or None for all of them); keyed on content, so an edited template is a new
# entry (and a stale one is never found).
_USES: dict[bytes, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...] | None]] = {}


def _uses(
    env: Any, name: str, template: Any
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...] | None]:
    """The request-dependent variables a template reads (itself and what it imports), the
    templates it imports, and which fields of `req` it reads (None: it uses `req` whole)."""
    digest = _template_digest(env, name, template)
    uses = _USES.get(digest)
    if uses is None:
        # Parsing a template to see what it reads costs more than rendering it a few times: a
        # new process (a batch's or lint's worker) takes the answer from the cache, as data.
        def produce() -> tuple[Any, Any]:
            found = _analysed(env, name, template)
            return found, [list(found[0]), list(found[1]), _frozen_list(found[2])]

        uses = cache.cached("template-reads", digest.hex(), produce, _uses_from_plain, ("jinja2",))
        if len(_USES) > 4096:
            _USES.clear()
        _USES[digest] = uses
    return uses


def _analysed(
    env: Any, name: str, template: Any
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...] | None]:
    source = getattr(template, "_cg_source", None)
    if source is None:
        source = env.loader.get_source(env, name)[0]
    tree = env.parse(source)
    found = meta.find_undeclared_variables(tree)
    imported = tuple(meta.find_referenced_templates(tree))
    if any(ref is None or ref != "macros.md.j2" for ref in imported):
        found |= _REQUEST_VARIABLES  # an include we cannot see through: key on everything
    return (
        tuple(sorted(found & _REQUEST_VARIABLES)),
        tuple(sorted({ref for ref in imported if ref is not None})),
        _fields_read(tree, "req") if "req" in found else (),
    )


def _frozen_list(fields: tuple[str, ...] | None) -> list[str] | None:
    return None if fields is None else list(fields)


def _uses_from_plain(
    plain: Any,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...] | None] | None:
    """A cached analysis, checked: request variables we know, template names and field names."""
    if not (isinstance(plain, list) and len(plain) == 3):
        return None
    variables, imports, fields = plain
    names_ok = isinstance(variables, list) and all(
        isinstance(v, str) and v in _REQUEST_VARIABLES for v in variables
    )
    imports_ok = isinstance(imports, list) and all(isinstance(i, str) for i in imports)
    fields_ok = fields is None or (
        isinstance(fields, list) and all(isinstance(f, str) and f.isidentifier() for f in fields)
    )
    if not (names_ok and imports_ok and fields_ok):
        return None
    return tuple(variables), tuple(imports), None if fields is None else tuple(fields)


def _fields_read(tree: Any, variable: str) -> tuple[str, ...] | None:
    """The attributes of `variable` the template reads as `variable.field`; None when it uses
    the variable any other way (passes it on, subscripts it), so the whole value counts."""
    names = [n for n in tree.find_all(nodes.Name) if n.name == variable]
    reads = [g for g in tree.find_all(nodes.Getattr)
             if isinstance(g.node, nodes.Name) and g.node.name == variable]  # fmt: skip
    if len(reads) != len(names):
        return None
    return tuple(sorted({g.attr for g in reads}))


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _key_value(
    variable: str, section: Any, context: dict[str, Any], req_fields: tuple[str, ...] | None
) -> Any:
    """What a section's memo key holds for one variable it reads: for `req`, only the fields
    the template reads (most read two or three of the request's)."""
    if variable == "section":
        return section
    if variable == "req" and req_fields is not None:
        req = context["req"]
        return ("req", *((f, _frozen(getattr(req, f, None))) for f in req_fields))
    return _frozen(context[variable])


def _digest_of(env: Any, name: str, known: dict[str, bytes]) -> bytes:
    if name not in known:
        known[name] = _template_digest(env, name)
    return known[name]


def _template_digest(env: Any, name: str, template: Any = None) -> bytes:
    """The checksum of the source of the template `env` renders under `name`."""
    template = template if template is not None else env.get_template(name)
    digest = getattr(template, "_cg_sha256", None)
    if digest is None:  # a template not loaded by our loader
        source = env.loader.get_source(env, name)[0]
        digest = hashlib.sha256(source.encode("utf-8")).digest()
    return digest


def to_markdown(document: Document, env: Any) -> str:
    try:
        template = env.get_template("consent.md.j2")
        text = template.render(
            doc=document, blank=Md(BLANK), short_version=document.data_version[:12]
        )
    except UserError:
        raise
    except Exception as exc:
        raise template_error(exc, "consent.md.j2") from None
    return tidy(text)
