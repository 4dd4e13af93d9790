"""The practice profile: load and validate it, and write the commented example for `init`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from consentgen import cache, yamlio
from consentgen.errors import InvalidFileError
from consentgen.model import PracticeProfile


def load(path: Path | None) -> PracticeProfile:
    """The profile at `path`, or an empty one (every value rendered as a fill-in blank).

    A profile that passed validation is cached under its checksum, like jurisdiction files.
    """
    if path is None:
        return PracticeProfile()
    display = str(path)
    text = yamlio.read_text(path, display)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def produce() -> tuple[PracticeProfile, Any]:
        marked = yamlio.load_text(text, display)
        return _validate(marked), cache.yaml_to_plain(marked.data)

    def rebuild(plain: Any) -> PracticeProfile:
        # Cached data is the file's parsed YAML, validated again exactly as the file would be.
        return _validate(yamlio.Marked(cache.plain_to_yaml(plain), {}, display))

    return cache.cached("profiles", digest, produce, rebuild)


def _validate(marked: yamlio.Marked) -> PracticeProfile:
    from consentgen import structure

    if marked.data is None:
        return PracticeProfile()
    profile, problems = structure.build(PracticeProfile, marked)
    if problems:
        raise InvalidFileError(problems)
    return profile


EXAMPLE = """\
# consentgen practice profile. Every key is optional: a value left out is printed in the
# document as a blank (________) to fill in by hand, and `consentgen build` lists what is missing.
# Check it with: consentgen build --state CA --practice {name}
# Values marked "a whole sentence" are printed as you write them: start with a capital letter,
# end with a full stop, and write as "I" (or "we" for a group practice), to the client as "you".

practice:
  name: {practice_name}
  address: 123 Main Street, Suite 4, Springfield
  phone: "(555) 555-0100"
  email: office@example.com
  website: https://example.com
  # Where clients find the HIPAA Notice of Privacy Practices (a whole sentence):
  privacy_notice: My Notice of Privacy Practices is on my website and in the waiting room.
  # How a client reaches you between sessions (whole sentences):
  after_hours: Between sessions, leave me a voicemail or an email. I reply within one business day.
  # Who keeps your records and contacts your clients if you die or cannot practice:
  records_custodian: Dr. Ana Ruiz, LMFT, at (555) 555-0199
  # For the good faith estimate (consentgen gfe): National Provider Identifier and tax ID.
  # npi: "1234567893"
  # tin: 12-3456789
  # covered_entity: false     # only if you never bill a health plan electronically (HIPAA)
  # part2_program: true       # a federally assisted substance use program (42 CFR Part 2)
  # telehealth_only: true     # every session by video or phone, no in-person care
  # owners:                   # a practice under a business name: each owner and license
  #   - {{name: Dr. Ana Ruiz, license: LMFT 45678}}

clinician:
  name: {clinician_name}
  credentials: {credentials}              # degree and credentials
  profession: {profession}                    # psychologist | counselor | social-worker | mft
  license: {license}
{associate}  # How you work (whole sentences):
  approach: I use cognitive behavioral and emotionally focused therapy, fitted to your goals.
  degrees:
    - {{degree: MA, discipline: Marriage and Family Therapy, institution: Example University,
       year: 2015}}
  # populations: [adults, couples]   # printed as: I work with adults and couples.
  # restrictions: none               # restrictions on your license, or none

fees:
  session: 180                       # dollars per session
  session_minutes: 50
  cancellation_hours: 24             # notice needed to cancel without a charge
  late_cancel_fee: 180
  payment_methods: [credit cards, debit cards, checks]   # printed as: I accept ... or ...
  collections_notice_days: 30        # written notice before an unpaid account goes to collection
  payment_due: at-session            # at-session | in-advance | monthly
  # sliding_scale: true
  # fee_change_notice_days: 30
  # refunds: I refund unused prepaid sessions within 14 days.
  # unpaid_balance: If a balance is unpaid for 60 days, we make a plan before booking more.
  services:                          # the fee list and the good faith estimate
    - {{code: "90791", description: First assessment session, minutes: 60, fee: 200}}
    - {{code: "90837", description: Individual therapy session, minutes: 53, fee: 180}}

supervisor:                          # used with --supervisee
  name: {supervisor_name}
  credentials: {supervisor_credentials}
  license:
    type: {supervisor_license_type}
    number: {supervisor_license_number}
    state: {supervisor_license_state}

policies:
  couples_secrets: no-secrets        # no-secrets | limited | held
  communication:
    email: true
    encrypted_email: true
    text: false
    fax: false
  records:
    # Where and how records are kept, and how they are destroyed (whole sentences):
    storage: I store all records in an encrypted electronic health record.
    destruction: I shred paper records and securely erase electronic files.
  telehealth:
    # The video service, by name (e.g. Zoom for Healthcare), printed as: I use ... .
    platform: a secure video service that protects health information
  # consent_review_months: 12        # how often you go over this consent again
  # social_media: (whole sentences; left out, the form says you do not connect online)

office:
  staff_trained: true
  devices_protected: true            # computers and phones use passwords and encryption
  soundproofing: true
  white_noise: true
  # How the waiting room protects privacy (a whole sentence):
  waiting_room: Staff sit away from the waiting area and do not say clients' names aloud.
"""

_LICENSED = """\
  # For an associate or other registered, unlicensed clinician (then build with --supervisee):
  # registration: AMFT 98765          # the registration's type and number
  # employer: Example Counseling Group
"""

_REGISTERED = """\
  registration: {registration}     # the registration's type and number; use --supervisee
  employer: {employer}
"""


# The values `init` asks for on a terminal, with the example's own answers.
QUESTIONS: dict[str, tuple[str, str]] = {
    "practice_name": ("Practice name", "Example Counseling Group"),
    "clinician_name": ("Your name", "Jordan Lee"),
    "credentials": ("Degree and credentials", "MA, LMFT"),
    "profession": ("Profession (psychologist, counselor, social-worker, mft)", "mft"),
    "license_type": (
        "License or registration type (e.g. LMFT, or AMFT if not yet licensed)",
        "LMFT",
    ),
    "license_number": ("License or registration number", "123456"),
    "license_state": ("State of your license or registration (two letters)", "CA"),
}

# Asked after QUESTIONS, of a clinician who answers yes to SUPERVISED_QUESTION.
SUPERVISED_QUESTION = (
    "Are you registered and supervised (an associate, intern or trainee, not yet fully licensed)?"
)
SUPERVISION_QUESTIONS: dict[str, tuple[str, str]] = {
    "registration": ("Registration type and number (e.g. AMFT 98765)", "AMFT 98765"),
    "employer": ("Your employer (the practice or agency you work for)", "Example Counseling Group"),
    "supervisor_name": ("Your supervisor's name", "Sam Rivera"),
    "supervisor_credentials": ("Your supervisor's degree and credentials", "PhD, LMFT"),
    "supervisor_license_type": ("Your supervisor's license type", "LMFT"),
    "supervisor_license_number": ("Your supervisor's license number", "54321"),
    "supervisor_license_state": ("Your supervisor's license state (two letters)", "CA"),
}

# The example's values that name or reach the example practice: no real profile holds them, so
# a document that prints one still holds an answer nobody gave (`guidance` warns). Values a real
# practice may well share (MA, LMFT; CA; 50 minutes; the example's policy sentences) are not here.
PLACEHOLDER_KEYS: tuple[str, ...] = (
    "practice.name",
    "practice.address",
    "practice.phone",
    "practice.email",
    "practice.website",
    "clinician.name",
    "clinician.license.number",
    "clinician.registration",
    "clinician.employer",
    "supervisor.name",
    "supervisor.license.number",
    "practice.records_custodian",
)


def profession_answer(text: str) -> str | None:
    """The profession an answer names, spelt as `--profession` accepts it (any case, `-` or
    `_`, spaces around), or None."""
    from typing import get_args

    from consentgen.model import Profession

    wanted = text.strip().lower().replace("_", "-").replace(" ", "-")
    return wanted if wanted in get_args(Profession) else None


def supervision_defaults(answers: dict[str, str]) -> dict[str, str]:
    """The answer offered to each of SUPERVISION_QUESTIONS after `answers` to QUESTIONS: what a
    registered clinician typed as a license type and number is their registration, and the
    practice they named is their employer; else the example's."""
    typed = {k: v.strip() for k, v in answers.items() if k in QUESTIONS and v and v.strip()}
    changed = {k: v for k, v in typed.items() if v != QUESTIONS[k][1]}
    registration = " ".join(changed[k] for k in ("license_type", "license_number") if k in changed)
    defaults = {key: default for key, (_question, default) in SUPERVISION_QUESTIONS.items()}
    if registration:
        defaults["registration"] = registration
    if "practice_name" in changed:
        defaults["employer"] = changed["practice_name"]
    return defaults


def example(
    name: str = "practice.yaml", answers: dict[str, str] | None = None, *, supervised: bool = False
) -> str:
    """The commented example profile, with `answers` (from `init`'s questions) filled in.

    `supervised`: the clinician works under a registration and a supervisor; the profile then
    holds the registration and employer, and the license only its state.
    """
    questions = {**QUESTIONS, **SUPERVISION_QUESTIONS}
    values = {key: default for key, (_question, default) in questions.items()}
    values.update({k: v for k, v in (answers or {}).items() if v and v.strip()})
    values["profession"] = profession_answer(values["profession"]) or values["profession"]
    # JSON strings are valid YAML scalars: any answer stays one plain, quoted value.
    quoted = {key: json.dumps(value.strip(), ensure_ascii=False) for key, value in values.items()}
    if supervised:
        license = (
            f"{{state: {quoted['license_state']}}}   # not licensed yet: the registration's state"
        )
        associate = _REGISTERED.format(**quoted)
    else:
        license = (
            f"{{type: {quoted['license_type']}, number: {quoted['license_number']}, "
            f"state: {quoted['license_state']}, expires: 2027-06-30,\n"
            "            basis: \"a master's degree, 3,000 hours of supervised practice and a "
            'state exam"}'
        )
        associate = _LICENSED
    return EXAMPLE.format(name=name, license=license, associate=associate, **quoted)


def example_values() -> dict[str, Any]:
    """The example profile's value for each of PLACEHOLDER_KEYS, with every question answered
    by the example (a supervised clinician's, so that the registration is there too)."""
    return dict(_example_values())


@functools.cache
def _example_values() -> tuple[tuple[str, Any], ...]:
    # Parsing YAML costs a build more than all the rest of its start-up: cache the result (plain
    # data, checked on load) under the example's own text.
    texts = (example(supervised=True), example())
    digest = hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()

    def produce() -> tuple[tuple[tuple[str, Any], ...], Any]:
        found = _parse_example_values(*texts)
        return found, [list(pair) for pair in found]

    def rebuild(plain: Any) -> tuple[tuple[str, Any], ...] | None:
        scalar = (str, int, float)
        ok = isinstance(plain, list) and all(
            isinstance(pair, list) and len(pair) == 2 and pair[0] in PLACEHOLDER_KEYS
            and (isinstance(pair[1], scalar) or (isinstance(pair[1], list)
                                                 and all(isinstance(v, scalar) for v in pair[1])))
            for pair in plain
        )  # fmt: skip
        return tuple((key, value) for key, value in plain) if ok else None

    return cache.cached("examples", digest, produce, rebuild)


def _parse_example_values(supervised: str, unsupervised_text: str) -> tuple[tuple[str, Any], ...]:
    import yaml

    data = yaml.safe_load(supervised)
    unsupervised = yaml.safe_load(unsupervised_text)
    data["clinician"]["license"] = unsupervised["clinician"]["license"]
    found: list[tuple[str, Any]] = []
    for key in PLACEHOLDER_KEYS:
        value: Any = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            found.append((key, value))
    return tuple(found)


def profile_hash(profile: PracticeProfile) -> str:
    """sha256 of the profile's content, written out as its repr (so manifests from before agree),
    but built from the values alone: never an object's identity or a subclass's own repr."""
    return hashlib.sha256(_canonical(profile).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(f"{f.name}={_canonical(getattr(value, f.name))}"
                           for f in dataclasses.fields(value) if f.repr)  # fmt: skip
        return f"{type(value).__qualname__}({fields})"
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, dt.datetime):
        return repr(dt.datetime.fromisoformat(value.isoformat()))
    if isinstance(value, dt.date):
        return repr(dt.date(value.year, value.month, value.day))
    if isinstance(value, tuple):
        items = [_canonical(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = sorted((_canonical(k), _canonical(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(_canonical(v) for v in value)) + "}"
    return f"<{type(value).__qualname__}>"  # never an address
