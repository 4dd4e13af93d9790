"""Golden documents: every change to law, wording or layout shows up as a reviewable diff.

Regenerate on purpose with `pytest --update-golden`, then read the diff before committing.
"""

from __future__ import annotations

import pytest

from conftest import AS_OF, GOLDEN, PROFILE, ROOT, write_golden

SETTINGS = ["individual", "couples", "family", "group", "minor"]
STATES = sorted(p.stem for p in (ROOT / "jurisdictions").glob("*.yaml") if p.stem != "US")
DEEP = ("CA", "NY", "TX")  # every setting; every other state: individual
CASES = [(state, setting, ()) for state in DEEP for setting in SETTINGS]
CASES += [(state, "individual", ()) for state in STATES if state not in DEEP]
CASES += [
    ("CA", "individual", ("--payment", "self-pay", "--supervisee", "--telehealth")),
    ("CO", "minor", ("--guardian", "Pat Doe", "--profession", "counselor")),
    ("FL", "individual", ("--payment", "self-pay", "--profession", "counselor")),
    ("CO", "individual", ("--supervisee", "--profession", "counselor")),
    # New York's SAFE Act report binds a psychologist; for an MFT it is unsettled (a variant).
    ("NY", "individual", ("--profession", "psychologist")),
    ("NY", "individual", ("--profession", "mft")),
    # The day before a duty-to-protect law changed: the document as a client signed it then.
    ("NY", "individual", ("--as-of", "2012-06-01")),  # Mental Hygiene Law 9.46, 2013-03-16
    ("CA", "individual", ("--as-of", "2012-12-31")),  # Civil Code 43.92 amended, 2013-01-01
    ("FL", "individual", ("--as-of", "2019-06-30")),  # Fla. Stat. 491.0147 amended, 2019-07-01
]


def _name(state: str, setting: str, extra: tuple[str, ...]) -> str:
    suffix = "".join(x.strip("-").replace(" ", "-").lower() + "_" for x in extra if x)
    return f"{state}_{setting}{'_' + suffix.rstrip('_') if suffix else ''}.md"


@pytest.mark.parametrize(("state", "setting", "extra"), CASES)
def test_golden_document(cli, update_golden, state, setting, extra):
    args = ["build", "--state", state, "--setting", setting, "--practice", PROFILE]
    if "--as-of" not in extra:
        args += ["--as-of", AS_OF]
    clients = {
        "couples": ["Alex Doe", "Sam Roe"],
        "family": ["Alex Doe", "Kim Doe", "Lee Doe"],
        "minor": ["Riley Doe"],
    }.get(setting, ["Alex Doe"])
    for name in clients:
        args += ["--client", name]
    result = cli(*args, *extra)
    assert result.exit_code == 0, result.stderr
    golden = GOLDEN / _name(state, setting, extra)
    if update_golden or not golden.exists():
        write_golden(golden, result.stdout)
        if not update_golden:
            pytest.fail(f"{golden.name} was missing and has been written; review and commit it")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_no_golden_document_is_left_over():
    expected = {_name(*case) for case in CASES}
    assert {p.name for p in GOLDEN.glob("*.md")} <= expected
