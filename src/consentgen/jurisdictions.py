"""Jurisdiction files: find them on the search path, load, validate, merge US.yaml, resolve."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import field
from pathlib import Path
from typing import Any, TypeVar

from consentgen import cache, yamlio
from consentgen.errors import InvalidFileError, UserError
from consentgen.model import RULE_NAMES, Jurisdiction, Rule
from consentgen.resources import SearchPath
from consentgen.values import FrozenValue, frozen_value

T = TypeVar("T")

FEDERAL = "US"

NAMES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip


@frozen_value(kw_only=False)
class LoadedFile(FrozenValue):
    jurisdiction: Jurisdiction
    path: Path
    origin: str  # "built-in" or the user folder it came from
    sha256: str


def available(search: SearchPath) -> dict[str, tuple[Path, str]]:
    """Every jurisdiction code on the search path (user folders win), US excluded."""
    found: dict[str, tuple[Path, str]] = {}
    for root, origin in search.roots():
        folder = root / "jurisdictions"
        try:
            names = sorted(os.listdir(folder))  # as glob("*.yaml"), at a fraction of its cost
        except OSError:  # no such folder, or one that cannot be read: as glob, nothing
            continue
        for name in names:
            code = name[: -len(".yaml")]
            if name.endswith(".yaml") and code and code != FEDERAL and code not in found:
                found[code] = (folder / name, origin)
    return found


def normalize_code(state: str, search: SearchPath) -> str:
    """Accept any case and full names; unknown codes fail with the nearest suggestions."""
    codes = available(search)
    text = state.strip()
    upper = text.upper()
    if upper in codes:
        return upper
    by_name = {name.lower(): code for code, name in NAMES.items()}
    if text.lower() in by_name and by_name[text.lower()] in codes:
        return by_name[text.lower()]
    choices = sorted(codes)
    import difflib

    guesses = difflib.get_close_matches(upper, choices, n=3, cutoff=0.4)
    guesses += [
        by_name[n]
        for n in difflib.get_close_matches(text.lower(), list(by_name), n=2, cutoff=0.6)
        if by_name[n] in codes and by_name[n] not in guesses
    ]
    if upper in NAMES:
        raise UserError(
            f"no jurisdiction file for {upper} ({NAMES[upper]}) yet; "
            f"available: {', '.join(choices)}"
        )
    hint = (
        f"; did you mean {' or '.join(guesses)}?"
        if guesses
        else f"; available: {', '.join(choices)}"
    )
    shown = state if len(state) <= 40 else state[:37] + "..."
    raise UserError(f"unknown state {shown!r}{hint}")


def load_file(path: Path, origin: str) -> LoadedFile:
    text = yamlio.read_text(path, str(path))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def produce() -> tuple[Jurisdiction, Any]:
        marked = yamlio.load_text(text, str(path))
        return _validate(marked, path), cache.yaml_to_plain(marked.data)

    def rebuild(plain: Any) -> Jurisdiction:
        # Cached data is the file's parsed YAML, validated again exactly as the file would be.
        return _validate(yamlio.Marked(cache.plain_to_yaml(plain), {}, str(path)), path)

    # Only a file that passed validation is cached, under its checksum and its name; in this
    # process too (a build, its review sheet and a batch load the same files again and again).
    key = (path.stem, digest)
    jurisdiction = _validated.get(key)
    if jurisdiction is None:
        jurisdiction = cache.cached("jurisdictions", f"{path.stem}\0{digest}", produce, rebuild)
        if len(_validated) >= 256:
            _validated.clear()
        _validated[key] = jurisdiction
    return LoadedFile(jurisdiction, path, origin, digest)


_validated: dict[tuple[str, str], Jurisdiction] = {}


def _validate(marked: yamlio.Marked, path: Path) -> Jurisdiction:
    from consentgen import structure

    jurisdiction, problems = structure.build(Jurisdiction, marked)
    if problems:
        raise InvalidFileError(problems)
    if jurisdiction.code != path.stem:
        message = f"code '{jurisdiction.code}' does not match the file name {path.name}"
        raise InvalidFileError(
            [marked.problem(("code",), message + "; rename one of them", "CG106", at_value=True)]
        )
    return jurisdiction


def load(code: str, search: SearchPath) -> tuple[LoadedFile, LoadedFile]:
    """The federal file and the state's file, validated."""
    federal = search.find(f"jurisdictions/{FEDERAL}.yaml")
    if federal is None:
        raise UserError(
            "the federal baseline jurisdictions/US.yaml is missing; reinstall consentgen"
        )
    state = available(search).get(code)
    if state is None:
        raise UserError(f"no jurisdiction file for {code}")
    return load_file(*federal), load_file(*state)


def for_profession(rule: Rule | None, profession: str | None) -> Rule | None:
    """`rule` as it stands for `profession`: its variant for that profession, else the default
    (with the variants left out either way)."""
    if rule is None:
        return None
    chosen = next((v for v in rule.variants if profession in v.applies_to), rule)
    return dataclasses.replace(chosen, variants=())


def resolve(rule: Rule | None, as_of: dt.date, profession: str | None = None) -> Rule | None:
    """The form of `rule` in force on `as_of` for `profession` (None: the default form),
    walking its forms newest first.

    A form with no `effective` date is taken to start after the next older dated form (the
    current form of a rule whose start date is unknown). None when every known form starts
    after `as_of`: the data does not say what the law was then.
    """
    rule = for_profession(rule, profession)
    if rule is None:
        return None
    forms = [rule, *rule.history]
    for i, form in enumerate(forms):
        start = form.effective
        if start is None:
            start = next((f.effective for f in forms[i + 1 :] if f.effective), None)
        if start is None or start <= as_of:
            return dataclasses.replace(form, history=())
    return None


@frozen_value(kw_only=False)
class ResolvedLaw(FrozenValue):
    """The federal rules overlaid by the state's, each as it stood on `as_of`."""

    state: Jurisdiction
    federal: Jurisdiction
    as_of: dt.date
    rules: dict[str, Rule | None]
    origins: dict[str, str]  # rule name -> jurisdiction code it came from
    profession: str | None = None  # the profession the rules were resolved for
    # What is derived from this law alone, kept with it (see `derived`).
    _derived: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def derived(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """What `make` derives from this law alone, made once a law (a batch builds every row of
        a state from one law): the law for another profession, its client view, compose's
        sections and their citations. `key` names it."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]  # type: ignore[no-any-return]

    def for_profession(self, profession: str | None) -> ResolvedLaw:
        """The same law resolved for `profession` (a rule's variant for it, where it has one)."""
        if profession == self.profession:
            return self
        return self.derived(
            ("profession", profession),
            lambda: merge(self.federal, self.state, self.as_of, profession),
        )

    @property
    def boards(self) -> tuple[Any, ...]:
        return self.state.rules.licensing_boards

    @property
    def ethics_codes(self) -> tuple[Any, ...]:
        return self.federal.rules.ethics_codes

    @property
    def disclosures(self) -> tuple[Any, ...]:
        as_of = self.as_of
        return tuple(
            d
            for d in self.state.rules.required_disclosures
            if d.effective is None or d.effective <= as_of
        )


def merge(
    federal: Jurisdiction, state: Jurisdiction, as_of: dt.date, profession: str | None = None
) -> ResolvedLaw:
    rules: dict[str, Rule | None] = {}
    origins: dict[str, str] = {}
    for name in RULE_NAMES:
        state_rule = getattr(state.rules, name)
        chosen, origin = (
            (state_rule, state.code)
            if state_rule is not None
            else (getattr(federal.rules, name), federal.code)
        )
        rules[name] = resolve(chosen, as_of, profession)
        origins[name] = origin
    return ResolvedLaw(state, federal, as_of, rules, origins, profession)
