"""The practice profile: load and validate it, and write the commented example for `init`."""

from __future__ import annotations

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

practice:
  name: {practice_name}
  address: 123 Main Street, Suite 4, Springfield
  phone: "(555) 555-0100"
  email: office@example.com
  website: https://example.com
  privacy_notice: on our website and in the waiting room   # where clients find the HIPAA notice
  after_hours: leave a voicemail; we return calls within one business day

clinician:
  name: {clinician_name}
  credentials: {credentials}              # degree and credentials
  profession: {profession}                    # psychologist | counselor | social-worker | mft
  license: {{type: {license_type}, number: {license_number}, state: {license_state}}}
  # For an associate or other registered, unlicensed clinician:
  # registration: AMFT 98765
  # employer: Example Counseling Group

fees:
  session: 180                       # dollars per session
  session_minutes: 50
  cancellation_hours: 24             # notice needed to cancel without a charge
  late_cancel_fee: 180
  payment_methods: [credit card, debit card, check]
  collections_notice_days: 30        # written notice before an unpaid account goes to collection

supervisor:                          # used with --supervisee
  name: Dr. Sam Rivera
  credentials: PhD, LMFT
  license: {{type: LMFT, number: "54321", state: CA}}

policies:
  couples_secrets: no-secrets        # no-secrets | limited | held
  communication:
    email: true
    encrypted_email: true
    text: false
    fax: false
  records:
    storage: an encrypted electronic health record with access limited to staff who need it
    destruction: shredding and secure deletion
  telehealth:
    platform: a HIPAA-compliant video service with a business associate agreement

office:
  staff_trained: true
  devices_protected: true            # computers and phones use passwords and encryption
  soundproofing: true
  white_noise: true
  waiting_room: staff sit away from the waiting area and do not say clients' names aloud
"""


# The values `init` asks for on a terminal, with the example's own answers.
QUESTIONS: dict[str, tuple[str, str]] = {
    "practice_name": ("Practice name", "Example Counseling Group"),
    "clinician_name": ("Your name", "Jordan Lee"),
    "credentials": ("Degree and credentials", "MA, LMFT"),
    "profession": ("Profession (psychologist, counselor, social-worker, mft)", "mft"),
    "license_type": ("License type", "LMFT"),
    "license_number": ("License number", "123456"),
    "license_state": ("License state (two letters)", "CA"),
}


def example(name: str = "practice.yaml", answers: dict[str, str] | None = None) -> str:
    """The commented example profile, with `answers` (from `init`'s questions) filled in."""
    values = {key: default for key, (_question, default) in QUESTIONS.items()}
    values.update({k: v for k, v in (answers or {}).items() if v and v.strip()})
    # JSON strings are valid YAML scalars: any answer stays one plain, quoted value.
    quoted = {key: json.dumps(value.strip(), ensure_ascii=False) for key, value in values.items()}
    return EXAMPLE.format(name=name, **quoted)
