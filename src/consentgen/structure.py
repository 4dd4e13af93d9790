"""The model's dataclasses as a contract: validate loaded YAML into them, and derive JSON Schema.

One source of truth: the schema files under schema/ are generated from model.py by
`json_schema()` (a test checks they are current), and `build()` enforces the same rules with
every problem reported at its line:col, with a "did you mean" for misspelt keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import types
import typing
from typing import Any, Literal, get_args, get_origin

from consentgen.errors import Problem
from consentgen.textsafe import not_text
from consentgen.yamlio import INVALID, KeyPath, Marked, is_date

_MISSING = dataclasses.MISSING


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    from consentgen import model

    return typing.get_type_hints(cls, vars(model))


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is _MISSING and f.default_factory is _MISSING


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is str:
        return "text"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a number"
    if tp is dt.date:
        return "a date (YYYY-MM-DD)"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is tuple:
        return "a list"
    if dataclasses.is_dataclass(tp):
        return "a mapping of keys"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    return str(tp)


class Builder:
    """Turns loaded YAML into model instances, collecting every problem on the way."""

    def __init__(self, marked: Marked) -> None:
        self.marked = marked
        self.problems: list[Problem] = []

    def error(self, path: KeyPath, message: str, rule_id: str, *, at_value: bool = False) -> None:
        self.problems.append(self.marked.problem(path, message, rule_id, at_value=at_value))

    def wrong(self, path: KeyPath, expected: str, item: Any) -> None:
        self.error(
            path,
            f"{_where(path)} must be {expected}, not {_describe(item)}",
            "CG104",
            at_value=True,
        )

    def build(
        self,
        cls: type,
        value: Any,
        path: KeyPath = (),
        *,
        history_of: type | None = None,
        variant_of: type | None = None,
    ) -> Any:
        if value is INVALID:
            return None
        if not isinstance(value, dict):
            where = ".".join(map(str, path)) or "the file"
            self.error(
                path,
                f"{where} must be a mapping of keys, not {_describe(value)}",
                "CG101",
                at_value=True,
            )
            return None
        fields = {f.name: f for f in _fields(cls)}
        if history_of is not None:
            fields.pop("history", None)
        if "variants" in fields:  # a rule: variants hold the professions' forms
            if history_of is not None or variant_of is not None:
                fields.pop("variants")
            if variant_of is None:
                fields.pop("applies_to", None)
        hints = _hints(cls)
        kwargs: dict[str, Any] = {}
        for key, item in value.items():
            if key not in fields:
                import difflib

                close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.75)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(fields)}"
                )
                self.error((*path, key), f"unknown key '{key}'{hint}", "CG102")
                continue
            tp = hints[key]
            if key == "history":
                kwargs[key] = self._history(cls, item, (*path, key))
            elif key == "variants":
                kwargs[key] = self._variants(cls, item, (*path, key))
            else:
                kwargs[key] = self.value(tp, item, (*path, key), fields[key].metadata)
        for name, f in fields.items():
            if name not in value and _required(f):
                self.error(path, f"missing required key '{name}' in {_where(path)}", "CG103")
        if variant_of is not None and not value.get("applies_to"):
            self.error(path, "a variant needs 'applies_to': the professions it is for", "CG103")
        if history_of is not None and value.get("effective") is None and "effective" in fields:
            self.error(path, "an earlier form under 'history' needs its 'effective' date", "CG103")
        try:
            return cls(**{k: v for k, v in kwargs.items() if v is not _INVALID})
        except TypeError:
            return None  # a required key was missing or invalid: already reported

    def _variants(self, cls: type, item: Any, path: KeyPath) -> Any:
        if not isinstance(item, list):
            self.wrong(path, "a list", item)
            return _INVALID
        forms = [self.build(cls, form, (*path, i), variant_of=cls) for i, form in enumerate(item)]
        seen: dict[str, int] = {}
        for i, form in enumerate(forms):
            for profession in getattr(form, "applies_to", ()) if form is not None else ():
                if profession in seen:
                    message = (f"{profession} already has variant {seen[profession]}; give each "
                               "profession one variant")  # fmt: skip
                    self.error((*path, i, "applies_to"), message, "CG104")
                seen.setdefault(profession, i)
        return tuple(f for f in forms if f is not None)

    def _history(self, cls: type, item: Any, path: KeyPath) -> Any:
        if not isinstance(item, list):
            self.wrong(path, "a list", item)
            return _INVALID
        forms = [self.build(cls, form, (*path, i), history_of=cls) for i, form in enumerate(item)]
        return tuple(f for f in forms if f is not None)

    def value(self, tp: Any, item: Any, path: KeyPath, meta: Any = None) -> Any:
        if item is INVALID:
            return _INVALID  # unreadable in the YAML: already reported there
        meta = meta or {}
        origin = get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            if item is None and type(None) in get_args(tp):
                return None
            for option in options:
                if _accepts(option, item):
                    return self.value(option, item, path, meta)
            if item is None:
                self.error(path, f"{_where(path)} must have a value ({_type_name(tp)})", "CG104")
            else:
                self.wrong(path, _type_name(tp), item)
            return _INVALID
        if dataclasses.is_dataclass(tp):
            built = self.build(tp, item, path)
            return _INVALID if built is None else built
        if origin is tuple:
            if not isinstance(item, list):
                self.wrong(path, "a list", item)
                return _INVALID
            if len(item) < meta.get("min_items", 0):
                self.error(
                    path, f"{_where(path)} needs at least {meta['min_items']} item(s)", "CG105"
                )
            elem = get_args(tp)[0]
            out = [self.value(elem, x, (*path, i)) for i, x in enumerate(item)]
            return tuple(x for x in out if x is not _INVALID)
        if not _accepts(tp, item):
            self.wrong(path, _type_name(tp), item)
            return _INVALID
        if isinstance(item, int | float) and not isinstance(item, bool):
            if isinstance(item, float) and not math.isfinite(item):
                self.error(path, f"{_where(path)} must be a finite number, not {item!r} "
                           "(.inf and .nan are not amounts)", "CG104", at_value=True)  # fmt: skip
                return _INVALID
            lo, hi = meta.get("minimum", -LARGEST), meta.get("maximum", LARGEST)
            if item < lo or item > hi:
                self.error(path, f"{_where(path)} must be between {lo} and {hi}", "CG104",
                           at_value=True)  # fmt: skip
                return _INVALID
            if tp is float:
                return float(item)
        if isinstance(item, str) and "pattern" in meta:
            import re

            if not re.fullmatch(meta["pattern"], item):
                self.error(
                    path, f"{_where(path)} does not match {meta['pattern']}", "CG104", at_value=True
                )
                return _INVALID
        if isinstance(item, str) and (problem := not_text(item, line_feeds=True)):
            self.error(path, f"{_where(path)} contains {problem}; remove it", "CG104",
                       at_value=True)  # fmt: skip
            return _INVALID
        if isinstance(item, str) and not item.strip():
            self.error(
                path,
                f"{_where(path)} is empty; write the value or remove the key",
                "CG104",
                at_value=True,
            )
            return _INVALID
        return item


_INVALID = object()

# Any number larger than this is a typo or an attack (fees, minutes, days, years, ages): no
# document needs it, and a 400-digit int cannot even become a float.
LARGEST = 1_000_000_000


def _accepts(tp: Any, item: Any) -> bool:
    origin = get_origin(tp)
    if tp is str:
        return isinstance(item, str)
    if tp is bool:
        return isinstance(item, bool)
    if tp is int:
        return isinstance(item, int) and not isinstance(item, bool)
    if tp is float:
        return isinstance(item, int | float) and not isinstance(item, bool)
    if tp is dt.date:
        return is_date(item)
    if origin is Literal:
        return item in get_args(tp) and isinstance(item, str)
    if origin is tuple:
        return isinstance(item, list)
    if dataclasses.is_dataclass(tp):
        return isinstance(item, dict)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(a, item) for a in get_args(tp))
    return False


def _describe(item: Any) -> str:
    if item is None:
        return "empty"
    if isinstance(item, bool):
        return f"{str(item).lower()} (a yes/no value: quote it if you meant text)"
    if isinstance(item, dict):
        return "a mapping"
    if isinstance(item, list):
        return "a list"
    if is_date(item):
        return "a date"
    if isinstance(item, int | float):
        huge = isinstance(item, int) and abs(item) > LARGEST  # str() fails past 4300 digits
        return "a very large number" if huge else f"the number {item}"
    text = str(item)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _where(path: KeyPath) -> str:
    return ".".join(map(str, path)) or "the top level"


def build(cls: type, marked: Marked) -> tuple[Any, list[Problem]]:
    """Validate `marked.data` as a `cls`; returns (instance or None, problems)."""
    builder = Builder(marked)
    instance = builder.build(cls, marked.data)
    return (None if builder.problems else instance), builder.problems


# --- JSON Schema --------------------------------------------------------------------------------


def json_schema(cls: type, title: str, schema_id: str) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _object_schema(cls, defs, history=False)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def _object_schema(
    cls: type, defs: dict[str, Any], *, history: bool, variant: bool = False
) -> dict[str, Any]:
    hints = _hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    rule = any(f.name == "variants" for f in _fields(cls))
    for f in _fields(cls):
        if history and f.name == "history":
            continue
        if rule and f.name == "variants" and (history or variant):
            continue
        if rule and f.name == "applies_to" and not variant:
            continue
        if f.name == "history":
            form = f"{cls.__name__}{'Variant' if variant else ''}Form"
            if form not in defs:
                defs[form] = {}
                defs[form] = _object_schema(cls, defs, history=True, variant=variant)
            prop: dict[str, Any] = {"type": "array", "items": {"$ref": f"#/$defs/{form}"}}
        elif f.name == "variants":
            name = f"{cls.__name__}Variant"
            if name not in defs:
                defs[name] = {}
                defs[name] = _object_schema(cls, defs, history=False, variant=True)
            prop = {"type": "array", "items": {"$ref": f"#/$defs/{name}"}}
        else:
            prop = _type_schema(hints[f.name], defs, dict(f.metadata))
        if "doc" in f.metadata:
            prop = {**prop, "description": f.metadata["doc"]}
        props[f.name] = prop
        if (
            _required(f)
            or (history and f.name == "effective")
            or (variant and not history and f.name == "applies_to")
        ):
            required.append(f.name)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if cls.__doc__ and not history and not cls.__doc__.startswith(cls.__name__ + "("):
        out["description"] = " ".join(cls.__doc__.split())
    if required:
        out["required"] = required
    return out


def _type_schema(tp: Any, defs: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        subs = [_type_schema(a, defs, meta) for a in args if a is not type(None)]
        if type(None) in args:
            subs.append({"type": "null"})
        return subs[0] if len(subs) == 1 else {"anyOf": subs}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}
            defs[name] = _object_schema(tp, defs, history=False)
        return {"$ref": f"#/$defs/{name}"}
    if origin is tuple:
        out: dict[str, Any] = {"type": "array", "items": _type_schema(get_args(tp)[0], defs, {})}
        if "min_items" in meta:
            out["minItems"] = meta["min_items"]
        return out
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if tp is str:
        out = {"type": "string", "minLength": 1}
        if "pattern" in meta:
            out["pattern"] = meta["pattern"]
        return out
    if tp is bool:
        return {"type": "boolean"}
    if tp in (int, float):
        out = {"type": "integer" if tp is int else "number"}
        if "minimum" in meta:
            out["minimum"] = meta["minimum"]
        if "maximum" in meta:
            out["maximum"] = meta["maximum"]
        return out
    if tp is dt.date:
        return {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    if origin is dict or tp is object:
        return {}  # any JSON value (a document's options)
    raise TypeError(f"no schema for {tp!r}")


def output_schema(cls: type, title: str, schema_id: str) -> dict[str, Any]:
    """The JSON Schema of what consentgen writes as `cls` (a Document, an estimate): every key is
    always present (null when unknown), and text may be empty (an unofficial source's link)."""
    schema = json_schema(cls, title, schema_id)

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("minLength", None)
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(schema)
    return schema


# --- The practice profile's keys, for the README ------------------------------------------------


def profile_keys(cls: type | None = None) -> list[tuple[str, str, str]]:
    """Every key of the practice profile (or of `cls`), as (dotted key, value, doc), in the
    model's order: the leaves of the nested dataclasses, each with its field's `doc` metadata
    ("" where it has none)."""
    if cls is None:
        from consentgen.model import PracticeProfile

        cls = PracticeProfile
    keys: list[tuple[str, str, str]] = []
    hints = _hints(cls)
    for f in _fields(cls):
        tp = hints[f.name]
        inner = [a for a in get_args(tp) if a is not type(None)] or [tp]
        if dataclasses.is_dataclass(inner[0]) and len(inner) == 1:
            keys.extend((f"{f.name}.{key}", value, text)
                        for key, value, text in profile_keys(inner[0]))  # fmt: skip
        else:
            keys.append((f.name, _key_value(tp, dict(f.metadata)), f.metadata.get("doc", "")))
    return keys


def _key_value(tp: Any, meta: dict[str, Any]) -> str:
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        tp = args[0]
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(tp))
    if get_origin(tp) is tuple:
        return f"a list of {_key_value(get_args(tp)[0], {})}"
    if tp is bool:
        return "`true` or `false`"
    name = _type_name(tp)
    if "minimum" in meta:
        name += f", {meta['minimum']} or more"
    return name


def profile_keys_markdown() -> str:
    """The README's table of the practice profile's keys (between its profile-keys markers)."""
    lines = ["| Key | Value | What it is for |", "| --- | --- | --- |"]
    for key, value, text in profile_keys():
        cells = (f"`{key}`", value, " ".join(text.split()))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
