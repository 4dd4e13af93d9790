"""Guide, don't guess: what `init` asks, what `build` warns about, and how each profile value
reads in the client's document (issue 11)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE
from consentgen.cli import app


def _init(cli, tmp_path: Path, answers: str | None = None) -> Path:
    path = tmp_path / "practice.yaml"
    if answers is None:
        result = cli("init", path, "--no-prompt")
    else:
        result = cli.runner.invoke(app, ["init", str(path), "--prompt"], input=answers)
    assert result.exit_code == 0, result.stderr
    return path


def _build(cli, practice: Path, state: str = "CA", *extra: str):
    return cli("build", "--state", state, "--practice", practice, "--as-of", AS_OF, *extra)


def _lines(stderr: str, text: str) -> list[str]:
    return [line for line in stderr.splitlines() if text in line]


# --- 1. The example's values --------------------------------------------------------------------


def test_build_names_once_the_example_values_it_prints_keys_not_values(cli, tmp_path):
    result = _build(cli, _init(cli, tmp_path))
    assert result.exit_code == 0, result.stderr
    [line] = _lines(result.stderr, "example profile")
    assert line.startswith("warning: ")
    for key in ("practice.name", "practice.address", "practice.phone", "practice.email",
                "clinician.name", "clinician.license.number"):  # fmt: skip
        assert key in line
    # The supervisor is not in a document built without --supervisee: not named.
    assert "supervisor" not in line
    for value in ("123 Main Street", "555-0100", "office@example.com", "Jordan Lee"):
        assert value not in result.stderr


def test_strict_refuses_a_document_that_prints_example_values_in_one_line(cli, tmp_path):
    practice = _init(cli, tmp_path)
    out = tmp_path / "consent.md"
    result = _build(cli, practice, "CA", "--strict", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "practice.address" in result.stderr
    assert "--strict" in result.stderr
    assert not out.exists()


def test_strict_builds_a_profile_with_the_practices_own_values(cli, tmp_path):
    practice = _init(cli, tmp_path)
    text = practice.read_text(encoding="utf-8")
    for old, new in (("123 Main Street, Suite 4, Springfield", "9 Elm Road, Dayton"),
                     ("(555) 555-0100", "(937) 555-0177"), ("office@example.com", "me@elm.example"),
                     ('"Example Counseling Group"', "Elm Road Therapy"),
                     ('"Jordan Lee"', "Ana Ruiz"), ('"123456"', '"LMFT-4471"'),
                     ("Ana Ruiz, LMFT, at (555) 555-0199", "Sam Cole, 937-555-0100")):  # fmt: skip
        assert old in text
        text = text.replace(old, new)
    # --strict also refuses statements of law neither verified nor reviewed: review them.
    from consentgen import Request, api

    practice.write_text(text, encoding="utf-8")
    sheet = api.review_sheet(Request(state="CA", as_of=dt.date.fromisoformat(AS_OF)),
                             practice=practice)  # fmt: skip
    text += "reviewed:\n" + "".join(f"  - {{rule: {i.rule}, on: {AS_OF}}}\n"
                                     for i in sheet.pending)  # fmt: skip
    practice.write_text(text, encoding="utf-8")
    result = _build(cli, practice, "CA", "--strict")
    assert result.exit_code == 0, result.stderr
    assert "example profile" not in result.stderr
    # --supervisee prints the example's supervisor: now it is named, and --strict refuses it.
    supervised = _build(cli, practice, "CA", "--supervisee", "--strict")
    assert supervised.exit_code == 2 and "supervisor.name" in supervised.stderr


# --- 2. Registration, supervisor and --supervisee ------------------------------------------------

ASSOCIATE = "\n".join([
    "Bay Counseling", "Kim Park", "MS", "MFT", "AMFT", "12345", "CA",  # the first questions
    "y",  # registered and supervised
    "",  # registration: Enter keeps "AMFT 12345", what was typed as a license
    "",  # employer: Enter keeps the practice's name
    "Rosa Diaz", "PhD, LMFT", "LMFT", "77001", "CA",  # the supervisor
]) + "\n"  # fmt: skip


def test_init_asks_about_registration_employer_and_supervisor(cli, tmp_path):
    from consentgen.profile import load

    path = tmp_path / "practice.yaml"
    result = cli.runner.invoke(app, ["init", str(path), "--prompt"], input=ASSOCIATE)
    assert result.exit_code == 0, result.stderr
    assert "--supervisee" in result.stderr.splitlines()[-1]  # the next command to run
    profile = load(path)
    assert profile.clinician.profession == "mft"
    assert profile.clinician.registration == "AMFT 12345"
    assert profile.clinician.employer == "Bay Counseling"
    assert profile.clinician.license.type is None and profile.clinician.license.state == "CA"
    assert profile.supervisor.name == "Rosa Diaz"
    assert profile.supervisor.license.number == "77001"

    document = _build(cli, path, "CA", "--supervisee")
    assert document.exit_code == 0, document.stderr
    assert "My license: AMFT" not in document.stdout
    assert "My California registration number is AMFT 12345." in document.stdout
    assert "I work for Bay Counseling, under the supervision of Rosa Diaz, PhD, LMFT." in (
        document.stdout
    )
    assert "My supervisor's California license is LMFT number 77001." in document.stdout
    assert not _lines(document.stderr, "build with --supervisee")


def test_build_suggests_supervisee_for_an_associates_profile_in_one_line(cli, tmp_path):
    path = tmp_path / "practice.yaml"
    cli.runner.invoke(app, ["init", str(path), "--prompt"], input=ASSOCIATE)
    result = _build(cli, path, "CA")
    [line] = _lines(result.stderr, "build with --supervisee")
    assert line.startswith("warning: ") and "clinician.registration" in line
    # A licensed clinician's profile (the example: a supervisor block, no registration): no hint.
    (tmp_path / "licensed").mkdir()
    licensed = _build(cli, _init(cli, tmp_path / "licensed"), "CA")
    assert not _lines(licensed.stderr, "build with --supervisee")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("MFT", "mft"), ("mft", "mft"), ("Social-Worker", "social-worker"),
     ("social_worker", "social-worker"), (" Psychologist ", "psychologist")],
)  # fmt: skip
def test_init_profession_accepts_the_spellings_of_the_profession_option(
    cli, tmp_path, typed, expected
):
    from consentgen.profile import load

    path = tmp_path / "practice.yaml"
    # Answers that end early keep the example's answers for the rest.
    result = cli.runner.invoke(app, ["init", str(path), "--prompt"], input=f"\n\n\n{typed}\n")
    assert result.exit_code == 0, result.stderr
    assert "Choose one of" not in result.stderr
    assert load(path).clinician.profession == expected


# --- 3. Every profile value reads in its sentence -----------------------------------------------

ODD = """\
practice:
  name: O'Brien & Ng Counseling, LLC
  address: "PO Box 12, Unit #3"
  phone: 555.555.0199 ext. 2
  email: hello@obrien-ng.example
  privacy_notice: You can read my Notice of Privacy Practices at https://obrien-ng.example/privacy.
  after_hours: Call or text me between 9 a.m. and 5 p.m.! I reply the same day.
clinician:
  name: Dr. Lee-Ann O'Brien
  credentials: PsyD
  profession: psychologist
  license: {type: Psychologist, number: PSY 1, state: california}
  registration: "98765"
  employer: Bay Area Health, Inc.
fees: {session: 95.5, session_minutes: 45, cancellation_hours: 48, late_cancel_fee: 0,
       payment_methods: [cash], collections_notice_days: 10}
supervisor:
  name: Sam Rivera-Ng
  credentials: PhD
  license: {type: PSY, number: "0042", state: NY}
policies:
  records:
    storage: Records are kept in an encrypted health record (SimplePractice).
    retention_note: records of minors are kept until the client turns 28
    destruction: a bonded service shreds paper and wipes drives
  telehealth: {platform: Doxy.me}
office:
  waiting_room: there is no waiting room; clients wait in a private hallway
"""

# Text a broken sentence shows: a fragment after a verb it does not fit, a doubled mark.
BROKEN = re.compile(
    r"\bby (leave|call|email|text)\b|\bit an\b|\bI use (I|we|my)\b|\.\.|\s[.,;:]|,\.|:\.",
    re.IGNORECASE,
)
CASES = [
    ("CA", ("--setting", "couples", "--telehealth")),
    ("NY", ("--supervisee", "--payment", "self-pay")),
    ("TX", ("--setting", "minor", "--telehealth", "--supervisee")),
    ("WI", ("--setting", "family",)),
    ("DC", ("--setting", "group", "--telehealth")),
    ("CO", ()),  # Colorado's notice prints each credential's basis
]  # fmt: skip
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z(\"'])")
ABBREVIATIONS = ("Dr", "Mr", "Ms", "Mrs", "St", "Inc", "ext")


def _paragraphs(markdown: str) -> list[str]:
    """The document's paragraphs and list items as plain text, each on one line."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace("**", "")
    items: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        for piece in re.split(r"\n(?=- )", block):
            items.append(" ".join(piece.removeprefix("- ").split()))
    return items


def _sentence_spans(para: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for end in SENTENCE_END.finditer(para):
        if para[start : end.start()].endswith(ABBREVIATIONS):
            continue  # "Dr. Lee" goes on
        spans.append((start, end.end()))
        start = end.end()
    return [*spans, (start, len(para))]


def _sentences_holding(markdown: str, value: str) -> list[str]:
    """Every sentence that holds (part of) `value`, whole."""
    found = []
    for para in _paragraphs(markdown):
        for where in (m.start() for m in re.finditer(re.escape(value), para)):
            spans = _sentence_spans(para)
            found += [para[a:b].strip() for a, b in spans if a < where + len(value) and b > where]
    return found


def _values(profile) -> list[str]:
    """Every free-text value of a profile that a document prints as typed."""
    import dataclasses

    skip = {"website", "profession", "state", "couples_secrets", "payment_due"}  # choices
    values: list[str] = []

    def walk(obj):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value)
            elif isinstance(value, str) and f.name not in skip:
                values.append(value)
            elif isinstance(value, tuple):
                values.extend(v for v in value if isinstance(v, str))

    walk(profile)
    return values


@pytest.mark.parametrize("which", ["init example", "odd values"])
def test_every_profile_value_reads_as_part_of_a_whole_sentence(cli, tmp_path, which):
    from consentgen.profile import load

    if which == "init example":  # the exact text `init` writes
        practice = _init(cli, tmp_path)
    else:
        practice = tmp_path / "odd.yaml"
        practice.write_text(ODD, encoding="utf-8")
    values = _values(load(practice))
    seen: set[str] = set()
    for state, extra in CASES:
        args = ("--client", "A B", "--client", "C D", *extra)
        result = _build(cli, practice, state, *args)
        assert result.exit_code == 0, result.stderr
        document = result.stdout.split("\n## Signatures")[0]  # the sentences, not the blocks
        # Sentences the document has without a profile are the law's, not the profile's ("LMFT").
        profession = ("--profession", load(practice).clinician.profession)
        blank = cli("build", "--state", state, "--as-of", AS_OF, *profession, *args).stdout
        not_ours = {s for p in _paragraphs(blank) for a, b in _sentence_spans(p) for s in [p[a:b]]}
        for value in values:
            # A phrase may be printed with its first letter capitalised (after a label).
            for form in {value, value[:1].upper() + value[1:]}:
                for sentence in _sentences_holding(document, form.rstrip(".!?")):
                    if sentence in not_ours or sentence.startswith(f"{load_state_name(state)} · "):
                        continue
                    seen.add(value)
                    where = f"{which}, {state}, {value!r}: {sentence!r}"
                    assert sentence[:1].isupper() or sentence[:1].isdigit(), where
                    assert sentence[-1:] in ".!?", where
                    assert not BROKEN.search(sentence), where
                    assert not re.search(r"\b(\w+) \1\b", sentence, re.IGNORECASE), where
    assert seen == set(values)  # each value was printed somewhere, and checked
    if which == "odd values":  # a state typed in lower case still reads as a name
        document = _build(cli, practice, "TX").stdout
        assert "My California license is Psychologist number PSY 1." in document
        supervised = _build(cli, practice, "TX", "--supervisee").stdout
        assert "My California registration number is 98765." in supervised


def load_state_name(code: str) -> str:
    from consentgen.jurisdictions import NAMES

    return NAMES[code]


def test_the_issues_two_broken_sentences_are_gone(cli, tmp_path):
    document = _build(cli, _init(cli, tmp_path), "CA", "--telehealth").stdout
    assert "I store it an" not in document and "reach me by leave" not in document
    after_hours = (
        "Between sessions, leave me a voicemail or an email. I reply within one business day."
    )
    assert f"services. {after_hours}" in document
    assert "I store all records in an encrypted electronic health record. Only people" in document
    assert "I use a secure video service that protects health information. No one" in document


def test_phrases_from_older_profiles_still_read_and_get_one_line_asking_for_sentences(
    cli, tmp_path
):
    older = tmp_path / "older.yaml"
    older.write_text(
        PROFILE.read_text()
        .replace("after_hours: Between sessions, leave me a voicemail at (555) 555-0142. I return "
                 "calls within one business day.", "after_hours: leaving a voicemail at (555) "
                 "555-0142; I return calls within one business day")
        .replace("storage: I store records in an encrypted electronic health record.",
                 "storage: in an encrypted electronic health record")
    )  # fmt: skip
    result = _build(cli, older, "CA")
    assert result.exit_code == 0
    assert (
        "How to reach me between sessions: leaving a voicemail at (555) 555-0142; I return calls "
        "within one business day." in result.stdout
    )
    assert "Where I store it: in an encrypted electronic health record. Only" in result.stdout
    [line] = _lines(result.stderr, "whole sentence")
    assert "practice.after_hours" in line and "policies.records.storage" in line
    assert "voicemail" not in line  # keys, not values


# --- 4. A client in another state -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "profession", "named", "not_named"),
    [
        ("WI", "counselor", "the Counseling Compact", ("PSYPACT",)),
        ("MN", "psychologist", "PSYPACT", ("Counseling Compact",)),
        ("WI", "mft", "check Wisconsin's licensing rules", ("Compact", "PSYPACT")),
        ("OR", "psychologist", "check Oregon's licensing rules", ("Compact", "PSYPACT")),
    ],
)
def test_a_client_in_another_state_gets_one_line_naming_only_the_datas_compacts(
    cli, state, profession, named, not_named
):
    result = _build(cli, PROFILE, state, "--profession", profession, "--telehealth")
    assert result.exit_code == 0
    [line] = _lines(result.stderr, "your license")
    assert line.startswith("warning: ") and "from California" in line
    assert named in line
    for name in not_named:
        assert name not in line
    # In the license's own state: no such line.
    same_state = _build(cli, PROFILE, "CA", "--profession", profession, "--telehealth")
    assert same_state.exit_code == 0 and not _lines(same_state.stderr, "your license")


def test_the_checks_are_a_library_call_returning_notices(tmp_path):
    from consentgen import api, guidance
    from consentgen.model import Request

    request = Request(state="WI", profession="counselor")
    document = api.build_document(request, practice=PROFILE)
    notices = guidance.check_document(document, PROFILE)
    kinds = [n.kind for n in notices]
    assert kinds == ["example-values", "supervisee-suggested", "license-state"]
    assert [n.error_when_strict for n in notices] == [True, False, False]
    assert all("\n" not in n.message for n in notices)
