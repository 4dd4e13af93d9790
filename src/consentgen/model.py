"""The data model: jurisdiction files, the practice profile, a build request and the Document.

Frozen dataclasses (their __init__, ==, hash and repr from values.FrozenValue) and nothing else:
every other module builds on these, and this one imports nothing of ours but textsafe and values.
`structure.py` derives the JSON Schema and the YAML validation from these classes, so a field is
declared exactly once: here. A field's ``doc`` metadata becomes its description in the schema.
"""

# No `from __future__ import annotations`: real annotation objects let structure.py read the
# types without evaluating strings, which keeps a cold `consentgen build` fast.
import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from consentgen.textsafe import made_text, not_text
from consentgen.values import FrozenValue, frozen_value

Status = Literal["mandatory", "permissive", "none", "unknown"]
Profession = Literal["psychologist", "counselor", "social-worker", "mft"]
Setting = Literal["individual", "couples", "family", "group", "minor"]
# Settings where a parent or guardian signs: a minor's therapy, or a minor in a family or group.
GUARDIAN_SETTINGS: tuple[str, ...] = ("minor", "family", "group")
Payment = Literal["insurance", "self-pay"]
SecretsPolicy = Literal["no-secrets", "limited", "held"]

# Each profession's name and code of ethics, in the words the client's copy uses (compose and
# the templates both read them).
ETHICS_CODES: dict[str, str] = {
    "psychologist": "the American Psychological Association's Ethical Principles of Psychologists "
    "and Code of Conduct",
    "counselor": "the American Counseling Association's Code of Ethics",
    "social-worker": "the National Association of Social Workers' Code of Ethics",
    "mft": "the American Association for Marriage and Family Therapy's Code of Ethics",
}

PROFESSION_NAMES: dict[str, str] = {
    "psychologist": "psychologist",
    "counselor": "professional counselor",
    "social-worker": "clinical social worker",
    "mft": "marriage and family therapist",
}


def doc(text: str) -> dict[str, str]:
    return {"doc": text}


# The client's copy reads a jurisdiction file only through the fields marked `CLIENT` (see
# `client_view`): a template cannot print a rule's summary, notes, sources or verification
# state, because it is never given them. A client field holds a fact in words that fit any
# sentence the template puts it in: no "the therapist", no "I", no caveat (lint CG209).
CLIENT = "client"


PHRASE = "phrase"  # a client field in our words, read inside the template's sentences


def client(text: str, **more: object) -> dict[str, object]:
    return {"doc": text, CLIENT: True, **more}


def phrase(text: str) -> dict[str, object]:
    return client(text, **{PHRASE: True})


# --- Jurisdiction files ------------------------------------------------------------------------


@frozen_value
class Citation(FrozenValue):
    cite: str = field(metadata=doc("The statute, regulation or case, in the usual citation form."))
    source_url: str = field(metadata=doc("The public page the fact was read in."))
    read: Literal["primary", "secondary"] = field(
        metadata=doc("What the page at source_url holds: `primary`, the cited text itself (the "
                     "statute, regulation or opinion, in any faithful copy, or the board's or "
                     "agency's own page when that page is what is cited); `secondary`, the law "
                     "only as quoted, summarized or charted by someone else, or a secondary work "
                     "(an article, a chart, a firm's summary). A rule is `verified` only when "
                     "at least one of its citations was read in primary text (lint CG213), and "
                     "the review sheet names each citation read only in a secondary source."),
    )  # fmt: skip
    note: str | None = field(default=None, metadata=doc("What this citation supports."))


@frozen_value
class Rule(FrozenValue):
    """Fields every rule has. `history` holds earlier forms of the same rule, newest first."""

    summary: str = field(
        metadata=doc("The rule in plain words, for the clinician's review sheet. Never printed "
                     "in the client's copy, which says the rule in its own sentences from the "
                     "structured facts.")
    )  # fmt: skip
    citations: tuple[Citation, ...] = field(metadata={"min_items": 1, **doc("At least one.")})
    verified: bool = field(
        metadata=doc("True only when the rule's facts rest on primary text: at least one "
                     "citation `read: primary` (lint CG213), and every fact checked there.")
    )  # fmt: skip
    status: Status | None = field(
        default=None, metadata=client("Whether the law requires, allows or does not address it.")
    )
    effective: dt.date | None = field(
        default=None, metadata=doc("The date this form of the rule took effect.")
    )
    notes: str | None = field(default=None, metadata=doc("Maintainers' notes; never rendered."))
    revised: dt.date | None = field(
        default=None,
        metadata=doc("When this entry's facts were last corrected, where the law itself did not "
                     "change (consentgen changes --since lists it)."),
    )  # fmt: skip
    history: tuple["Rule", ...] = field(
        default=(), metadata=doc("Earlier forms, newest first; each needs `effective`.")
    )
    variants: tuple["Rule", ...] = field(
        default=(),
        metadata=doc("The rule as it stands for some professions only, where it differs from "
                     "this default: each a whole rule of the same kind with `applies_to`, its "
                     "own citations, status, facts and history. A document for one of those "
                     "professions uses the variant."),
    )  # fmt: skip
    applies_to: tuple[Profession, ...] = field(
        default=(),
        metadata={"min_items": 1,
                  **doc("In a variant only: the professions it is the rule for.")},
    )  # fmt: skip


@frozen_value
class ReportingRule(Rule):
    status: Status = field(metadata=client("mandatory, permissive, none or unknown."))  # type: ignore[misc]
    reporters: str | None = field(default=None, metadata=doc("Who must report."))
    reportable: str | None = field(
        default=None,
        metadata=phrase("What must be reported, as a noun phrase the client reads after 'I must "
                        "report': 'known or suspected abuse or neglect of a child under 18'."),
    )  # fmt: skip
    report_to: str | None = field(
        default=None,
        metadata=phrase("Who receives the report, as a noun phrase the client reads after 'The "
                        "report goes to': 'the county child welfare agency or the police'."),
    )  # fmt: skip
    deadline: str | None = field(default=None, metadata=doc("How fast, in plain words."))


@frozen_value
class ElderReportingRule(ReportingRule):
    protected_persons: str | None = field(
        default=None,
        metadata=phrase("Whom the law protects, as a noun phrase: 'adults 65 or older, and "
                        "adults 18 to 64 who cannot protect themselves'."),
    )  # fmt: skip


@frozen_value
class DutyToProtectRule(Rule):
    status: Status = field(metadata=client("mandatory, permissive, none or unknown."))  # type: ignore[misc]
    trigger: str | None = field(
        default=None,
        metadata=phrase("What sets the duty off, as a noun phrase the client reads after 'This "
                        "applies to': 'a serious threat of physical violence against a person "
                        "who can be identified'."),
    )  # fmt: skip
    discharge: tuple[str, ...] = field(
        default=(),
        metadata=phrase("How the duty is met, each a verb phrase the client reads after 'I "
                        "must' or 'I may': 'make reasonable efforts to warn the person "
                        "threatened'."),
    )  # fmt: skip
    immunity: str | None = None


@frozen_value
class StatusRule(Rule):
    status: Status = field(metadata=client("mandatory, permissive, none or unknown."))  # type: ignore[misc]


@frozen_value
class MinorsRule(Rule):
    outpatient_consent_age: int | None = field(
        metadata=client(
            "Age at which a minor may consent alone to outpatient care; null if none.",
            minimum=0,
            maximum=21,
        )
    )
    conditions: str | None = field(
        default=None,
        metadata=phrase("When a minor may consent alone, as a clause the client reads after "
                        "'when': 'the young person is mature enough to take part in therapy in "
                        "a meaningful way'."),
    )  # fmt: skip
    parental_access: str | None = field(
        default=None,
        metadata=phrase("What parents may see, as whole sentences about parents and records "
                        "(never 'the therapist')."),
    )  # fmt: skip
    parent_involvement: str | None = field(
        default=None,
        metadata=phrase("When parents must be involved, as whole sentences (never 'the "
                        "therapist')."),
    )  # fmt: skip
    session_limit: str | None = field(
        default=None,
        metadata=phrase("A limit on care a minor consents to alone, as whole sentences."),
    )


@frozen_value
class ProfessionRetention(FrozenValue):
    profession: Profession = field(metadata=client("The profession this period is for."))
    retention: str = field(
        metadata=phrase("How long, as a phrase the client reads after 'I keep records for': "
                        "'at least 7 years after therapy ends'.")
    )  # fmt: skip


@frozen_value
class RecordsRule(Rule):
    retention_years_adult: int | None = field(
        metadata=client("Years records are kept after the last session.", minimum=0, maximum=100)
    )
    retention_minors: str | None = field(
        default=None,
        metadata=phrase("For a minor, as a phrase the client reads after 'for a minor,': 'at "
                        "least 7 years after the client turns 18'."),
    )  # fmt: skip
    by_profession: tuple[ProfessionRetention, ...] = field(
        default=(), metadata=client("Where a profession's board sets its own period.")
    )
    destruction: str | None = None


@frozen_value
class PrivilegeRule(Rule):
    covers: tuple[Profession, ...] = field(
        default=(),
        metadata=client("The professions the privilege covers, where the law names only some; "
                        "empty when it covers all four."),
    )  # fmt: skip
    exceptions: tuple[str, ...] = field(
        default=(),
        metadata=phrase("When a court may still get the information, each a clause the client "
                        "reads in a list: 'you make your own mental health an issue in a "
                        "lawsuit'."),
    )  # fmt: skip


@frozen_value
class AssociateTitle(FrozenValue):
    """The state's own title for a registered or provisional clinician who is not yet fully
    licensed in one profession (an associate, intern or candidate)."""

    profession: Profession = field(metadata=client("The profession the title is for."))
    title: str = field(
        metadata=client("The title as the statute or rule gives it, in title case, e.g. "
                        "'Associate Marriage and Family Therapist', 'LPC Associate'.")
    )  # fmt: skip
    article: Literal["a", "an"] = field(
        metadata=client("The article the client's document puts before the title: 'an' Associate "
                     "..., 'an' LPC Associate, 'a' Registered ... Intern.")
    )  # fmt: skip
    citations: tuple[Citation, ...] = field(
        metadata={"min_items": 1, **doc("The statute or rule that gives the title, each with "
                                        "the public page it was read in.")}
    )  # fmt: skip
    verified: bool = field(
        metadata=doc("True only when the title was read in the statute's, rule's or board's "
                     "own text.")
    )  # fmt: skip
    notes: str | None = field(default=None, metadata=doc("Maintainers' notes; never rendered."))


@frozen_value
class SupervisionRule(Rule):
    required_items: tuple[str, ...] = ()
    titles: tuple[AssociateTitle, ...] = field(
        default=(),
        metadata=client("The state's titles for clinicians who are not yet fully licensed, at most "
                     "one per profession; a supervisee's document calls the clinician by it."),
    )  # fmt: skip


@frozen_value
class TelehealthRule(Rule):
    consent_required: bool | None = field(
        default=None,
        metadata=client("The law asks for the client's consent to telehealth (the document "
                        "then has a line to give it)."),
    )  # fmt: skip
    requirements: tuple[str, ...] = ()


@frozen_value
class GoodFaithEstimateRule(Rule):
    dispute_threshold: int | None = field(
        default=None,
        metadata=client("Dollars over the estimate that open patient-provider dispute."),
    )
    dispute_days: int | None = field(
        default=None, metadata=client("Days from the bill's date to start a dispute.")
    )
    help_url: str | None = field(
        default=None, metadata=client("The federal page on the right and on disputes.")
    )
    help_phone: str | None = field(
        default=None, metadata=client("The federal help desk's phone number.")
    )


@frozen_value
class InsuranceRule(Rule):
    self_pay_restriction: bool = field(
        default=False,
        metadata=client("A client who pays in full may stop a disclosure to their health plan."),
    )


@frozen_value
class SubstanceUseRule(Rule):
    """42 CFR Part 2: what a Part 2 program's client is told of its records' protection."""

    without_consent: tuple[str, ...] = field(
        default=(),
        metadata=phrase("When the program may share records without the client's consent, each "
                        "as a phrase after 'unless': 'it is needed in a medical emergency'."),
    )  # fmt: skip
    proceedings: str | None = field(
        default=None,
        metadata=phrase("The limit on using the records against the client, as a whole "
                        "sentence to the client ('you')."),
    )  # fmt: skip
    complaint_to: str | None = field(
        default=None,
        metadata=client("The federal office that takes complaints, printed after 'a complaint "
                        "with': 'the U.S. Department of Health and Human Services'."),
    )  # fmt: skip


@frozen_value
class CrisisLineRule(Rule):
    line: str = field(metadata=client("The line's name: '988 Suicide & Crisis Lifeline'."))
    call: str = field(metadata=client("The number to call, as it is written: '988'."))
    text: str | None = field(default=None, metadata=client("The number to text, if any."))
    chat: str | None = field(
        default=None, metadata=client("The chat's web address, if any: '988lifeline.org'.")
    )


@frozen_value
class LicensingBoard(FrozenValue):
    profession: Profession = field(metadata=client("The profession the board licenses."))
    name: str = field(metadata=client("The board's name."))
    url: str | None = field(
        default=None, metadata=client("The board's website; left out until confirmed.")
    )
    phone: str | None = field(
        default=None, metadata=client("The board's phone number; left out until confirmed.")
    )
    address: str | None = field(default=None, metadata=client("The board's mailing address."))
    email: str | None = field(default=None, metadata=client("The board's email address."))
    source_url: str
    verified: bool
    notes: str | None = None


DisclosureFact = Literal[
    "board_contact", "board_address", "clinician_license", "license_expiration",
    "clinician_credentials",
    "license_restrictions", "supervisor_license", "employer", "practice_owners",
]  # fmt: skip

# What a client must be told to give informed consent, as the professions' ethics codes list it.
# Each is said by a fixed part of the document (compose.ELEMENTS names where); a code's entry
# in US.yaml lists the ones it asks for, with its own section numbers.
ConsentElement = Literal[
    "nature_and_course", "risks_and_benefits", "alternatives", "fees", "third_parties",
    "confidentiality_limits", "questions", "qualifications", "approach", "continuity",
    "technology", "social_media", "diagnosis_and_reports", "records_access", "treatment_planning",
    "refuse_or_withdraw", "payer_limits", "time_frame", "supervisor_identity",
    "roles_in_joint_therapy", "group_confidentiality", "ending_therapy", "records_kept",
]  # fmt: skip


@frozen_value
class EthicsRequirement(FrozenValue):
    element: ConsentElement = field(metadata=doc("What the client must be told."))
    cite: str = field(metadata=doc("The code's standard that asks for it, e.g. 'ACA A.2.b'."))
    settings: tuple[Setting, ...] = field(
        default=(), metadata=doc("Only in these settings (empty: in every setting).")
    )
    supervisee: bool | None = field(
        default=None,
        metadata=doc("True: only when the clinician is supervised; false: only when not."),
    )


@frozen_value
class EthicsCode(FrozenValue):
    """A profession's code of ethics, as far as it sets what informed consent tells a client.
    Each document follows the code of the clinician's profession."""

    profession: Profession
    name: str = field(metadata=client("The code's name, e.g. 'the ACA Code of Ethics'."))
    edition: str = field(metadata=doc("The edition and amendments read, e.g. '2014'."))
    requires: tuple[EthicsRequirement, ...] = field(metadata={"min_items": 1})
    citations: tuple[Citation, ...] = field(metadata={"min_items": 1})
    verified: bool = field(metadata=doc("True only when read in the code's own published text."))
    notes: str | None = None


@frozen_value
class RequiredDisclosure(FrozenValue):
    """Something a state's law asks a clinician to tell clients. One with a `notice` or a
    `verbatim` is given in the client's copy; one without is a requirement the document must
    meet, listed on the review sheet for the clinician to check."""

    id: str = field(
        metadata=client("A short name, unique in the file.", pattern="^[a-z][a-z0-9_]*$")
    )
    title: str = field(metadata=client("The notice's heading in the client's copy."))
    applies_to: tuple[Profession | Literal["all"], ...] = field(metadata={"min_items": 1})
    status_of_clinician: Literal["any", "supervisee", "licensed"] = field(
        default="any",
        metadata=doc("Whom it binds: any clinician, only one not yet fully licensed "
                     "(supervisee), or only a licensee."),
    )  # fmt: skip
    summary: str = field(metadata=doc("What the law asks, for the clinician's review sheet."))
    verbatim: str | None = field(
        default=None,
        metadata=client("The notice in the exact words the law prescribes; the client's copy "
                        "gives it as it is."),
    )  # fmt: skip
    includes: tuple[DisclosureFact, ...] = field(
        default=(),
        metadata=client("Facts the notice gives from the data: the licensing board's name, "
                        "website and phone (board_contact) and its mailing address "
                        "(board_address); the clinician's name and license or registration "
                        "number (clinician_license) and its expiration date "
                        "(license_expiration); every credential with the education, "
                        "experience and training it required, and the degrees "
                        "(clinician_credentials); restrictions on the license "
                        "(license_restrictions); the supervisor's name and license "
                        "(supervisor_license); the employer (employer); the owners of a "
                        "practice under a business name and their licenses (practice_owners)."),
    )  # fmt: skip
    type_points: int | None = field(
        default=None,
        metadata=doc(
            "The smallest type size the law allows for the notice, in points (HTML "
            "and PDF print it at least that large)."
        ),
    )
    settings: tuple[Setting, ...] = field(
        default=(),
        metadata=doc("Only for documents in these settings (empty: every setting), e.g. [minor] "
                     "for custody papers (a minor inside family or group therapy counts)."),
    )  # fmt: skip
    telehealth_only: bool = field(
        default=False, metadata=doc("Only for telehealth documents (--telehealth).")
    )
    notice: str | None = field(
        default=None,
        metadata=phrase("A notice the law asks to be given without prescribing its words, in "
                        "our plain words to the client (no 'the therapist')."),
    )  # fmt: skip
    citations: tuple[Citation, ...] = field(metadata={"min_items": 1})
    verified: bool
    effective: dt.date | None = None
    notes: str | None = None


@frozen_value
class Rules(FrozenValue):
    # State law
    child_abuse_reporting: ReportingRule | None = None
    elder_abuse_reporting: ElderReportingRule | None = None
    duty_to_protect: DutyToProtectRule | None = None
    danger_to_self: StatusRule | None = None
    minors: MinorsRule | None = None
    records: RecordsRule | None = None
    privilege: PrivilegeRule | None = None
    supervision: SupervisionRule | None = None
    telehealth: TelehealthRule | None = None
    licensing_boards: tuple[LicensingBoard, ...] = ()
    required_disclosures: tuple[RequiredDisclosure, ...] = ()
    ethics_codes: tuple[EthicsCode, ...] = field(
        default=(), metadata=doc("The professions' ethics codes on consent (US.yaml only).")
    )
    # Federal law (US.yaml)
    hipaa_privacy_notice: Rule | None = None
    right_of_access: Rule | None = None
    psychotherapy_notes: Rule | None = None
    insurance_disclosures: InsuranceRule | None = None
    good_faith_estimate: GoodFaithEstimateRule | None = None
    substance_use_records: SubstanceUseRule | None = None
    court_orders: Rule | None = None
    serious_threat: Rule | None = None
    crisis_line: CrisisLineRule | None = None


class ClientFacts(dict):  # type: ignore[type-arg]
    """A rule as the client's copy sees it: its client fields only, read-only (see CLIENT)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))


def client_fields(cls: type, *, phrases: bool = False) -> tuple[str, ...]:
    """The fields of `cls` the client's copy reads (`phrases`: only those in our words)."""
    return tuple(
        f.name
        for f in cls.__dataclass_fields__.values()  # type: ignore[attr-defined]
        if f.metadata.get(CLIENT) and (not phrases or f.metadata.get(PHRASE))
    )


def client_view(value: object) -> object:
    """`value` (a rule, a board, a list of them) with every field the client's copy may not
    read left out."""
    if isinstance(value, tuple | list):
        return tuple(client_view(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return ClientFacts(
            (name, client_view(getattr(value, name))) for name in client_fields(type(value))
        )
    return value


# The rules every state file states (the others in Rules are lists or federal).
STATE_RULE_NAMES: tuple[str, ...] = (
    "child_abuse_reporting",
    "elder_abuse_reporting",
    "duty_to_protect",
    "danger_to_self",
    "minors",
    "records",
    "privilege",
    "supervision",
    "telehealth",
)
RULE_NAMES: tuple[str, ...] = tuple(
    n
    for n in Rules.__dataclass_fields__
    if n not in ("licensing_boards", "required_disclosures", "ethics_codes")
)


@frozen_value
class PendingBill(FrozenValue):
    """A bill that would change a rule in this file, tracked until it passes or dies."""

    bill: str = field(metadata=doc("The bill and its session, e.g. 'HB 172 (136th GA, 2025-26)'."))
    would: str = field(metadata=doc("What it would change, in a few words, for the review sheet."))
    rules: tuple[str, ...] = field(
        metadata={"min_items": 1, **doc("The keys of the rules it would change (lint CG214).")}
    )
    status: Literal["pending", "enacted", "failed", "vetoed"] = field(
        metadata=doc("What became of it when last checked. Once it is not pending, encode the "
                     "change in the rule (with `effective` and `history`) or drop the entry.")
    )  # fmt: skip
    last_action: str | None = field(
        default=None, metadata=doc("The last action found, with its date.")
    )
    checked: dt.date = field(metadata=doc("When its status was last looked up (lint CG214)."))
    source_url: str = field(metadata=doc("Where the status or the text was read."))


@frozen_value
class Jurisdiction(FrozenValue):
    code: str = field(metadata={"pattern": "^[A-Z]{2}$", **doc("Two-letter code = file name.")})
    name: str
    last_reviewed: dt.date = field(metadata=doc("When a person last checked this file."))
    notes: str | None = None
    pending_bills: tuple[PendingBill, ...] = field(
        default=(),
        metadata=doc("Bills that would change a rule here; the review sheet names each beside "
                     "the rules it would change."),
    )  # fmt: skip
    rules: Rules


# --- The practice profile ----------------------------------------------------------------------


@frozen_value
class Owner(FrozenValue):
    name: str = field(metadata=doc("The owner's name."))
    license: str | None = field(
        default=None, metadata=doc("The owner's license type and number, e.g. 'LMFT 12345'.")
    )


@frozen_value
class Practice(FrozenValue):
    name: str | None = field(default=None, metadata=doc("The practice's name, as clients know it."))
    address: str | None = field(default=None, metadata=doc("The office's street address."))
    phone: str | None = field(default=None, metadata=doc("The phone number clients call."))
    email: str | None = field(default=None, metadata=doc("The email address clients write to."))
    website: str | None = field(
        default=None, metadata=doc("The practice's website, printed as a link: https://...")
    )
    privacy_notice: str | None = field(
        default=None,
        metadata=doc("Where clients find the HIPAA Notice of Privacy Practices, as a whole "
                     "sentence: 'My Notice of Privacy Practices is on my website.'"),
    )  # fmt: skip
    after_hours: str | None = field(
        default=None,
        metadata=doc("How a client reaches you between sessions, as whole sentences: 'Between "
                     "sessions, leave me a voicemail. I reply within one business day.'"),
    )  # fmt: skip
    npi: str | None = field(
        default=None,
        metadata={"pattern": r"^[0-9]{10}$",
                  **doc("The National Provider Identifier (10 digits), for the good faith "
                        "estimate.")},
    )  # fmt: skip
    tin: str | None = field(
        default=None,
        metadata={"pattern": r"^([0-9]{2}-?[0-9]{7}|[0-9]{3}-?[0-9]{2}-?[0-9]{4})$",
                  **doc("The Taxpayer Identification Number (an EIN, 12-3456789), for the good "
                        "faith estimate.")},
    )  # fmt: skip
    owners: tuple[Owner, ...] = field(
        default=(),
        metadata=doc(
            "A practice under a business (fictitious) name: each owner, {name, "
            "license}, as some states require them named."
        ),
    )
    covered_entity: bool | None = field(
        default=None,
        metadata=doc("Whether HIPAA's privacy rule binds the practice: true if it (or a billing "
                     "service for it) sends claims or other health plan transactions "
                     "electronically. Left out: treated as true. false: the form gives no "
                     "Notice of Privacy Practices."),
    )  # fmt: skip
    part2_program: bool = field(
        default=False,
        metadata=doc("A federally assisted substance use disorder program under 42 CFR Part 2: "
                     "the form gives Part 2's notice and asks consent before telling an "
                     "insurer."),
    )  # fmt: skip
    telehealth_only: bool = field(
        default=False,
        metadata=doc(
            "Every session is by video or phone and the practice offers no in-person "
            "care (build with --telehealth)."
        ),
    )
    records_custodian: str | None = field(
        default=None,
        metadata=doc("Who keeps your records and contacts your clients if you die or cannot "
                     "practice, with a way to reach them, printed inside a sentence: "
                     "'Dr. Ana Ruiz, (555) 555-0199'."),
    )  # fmt: skip


@frozen_value
class License(FrozenValue):
    type: str | None = field(default=None, metadata=doc("The license's letters, e.g. LMFT."))
    number: str | None = field(
        default=None, metadata=doc("The license number, as the board prints it.")
    )
    state: str | None = field(
        default=None, metadata=doc("The state that issued it (or the registration), e.g. CA.")
    )
    expires: dt.date | None = field(
        default=None, metadata=doc("The date it (or the registration) expires: 2027-06-30.")
    )
    basis: str | None = field(
        default=None,
        metadata=doc("The education, experience and training it required, printed after 'It "
                     "required': 'a master's degree, 3,000 hours of supervised practice and a "
                     "state exam'. Colorado's disclosure asks for it."),
    )  # fmt: skip


@frozen_value
class Certification(FrozenValue):
    name: str = field(metadata=doc("The certification: 'National Certified Counselor'."))
    issuer: str | None = field(default=None, metadata=doc("Who grants it: 'NBCC'."))
    number: str | None = field(default=None, metadata=doc("Its number, if any."))
    basis: str | None = field(
        default=None, metadata=doc("The education, experience and training it required.")
    )


@frozen_value
class Degree(FrozenValue):
    degree: str = field(metadata=doc("The degree: 'MA', 'PhD', 'MSW'."))
    discipline: str | None = field(
        default=None, metadata=doc("Its field: 'Marriage and Family Therapy'.")
    )
    institution: str | None = field(default=None, metadata=doc("The school that granted it."))
    year: int | None = field(
        default=None, metadata={"minimum": 1900, "maximum": 2100, **doc("The year granted.")}
    )


@frozen_value
class Clinician(FrozenValue):
    name: str | None = field(default=None, metadata=doc("Your name, as it appears on the form."))
    credentials: str | None = field(default=None, metadata=doc("Degree and credentials."))
    profession: Profession | None = field(
        default=None,
        metadata=doc("Picks the ethics code, the board and the rules for your profession (build "
                     "--profession overrides it)."),
    )  # fmt: skip
    license: License | None = None
    registration: str | None = field(
        default=None,
        metadata=doc("A registered, not yet licensed clinician (build with --supervisee): the "
                     "registration's type and number, e.g. AMFT 98765."),
    )  # fmt: skip
    registration_expires: dt.date | None = field(
        default=None, metadata=doc("The date the registration expires: 2027-06-30.")
    )
    employer: str | None = field(
        default=None,
        metadata=doc("A registered clinician: the practice or agency that employs you."),
    )
    other_licenses: tuple[License, ...] = field(
        default=(), metadata=doc("Licenses beyond `license`, each {type, number, state, basis}.")
    )
    certifications: tuple[Certification, ...] = field(
        default=(), metadata=doc("Certifications, each {name, issuer, number, basis}.")
    )
    degrees: tuple[Degree, ...] = field(
        default=(), metadata=doc("Degrees, each {degree, discipline, institution, year}.")
    )
    approach: str | None = field(
        default=None,
        metadata=doc("How you work, as whole sentences: 'I use cognitive behavioral therapy "
                     "and emotionally focused therapy.'"),
    )  # fmt: skip
    populations: tuple[str, ...] = field(
        default=(),
        metadata=doc("Whom you work with, printed as 'I work with adults, couples and teens.'"),
    )
    restrictions: str | None = field(
        default=None,
        metadata=doc("Restrictions on your license: 'none', or whole sentences saying what "
                     "they are."),
    )  # fmt: skip


@frozen_value
class Service(FrozenValue):
    code: str = field(
        metadata={"pattern": r"^[0-9A-Z]{4,5}$",
                  **doc("The billing code (CPT or HCPCS), e.g. 90837.")},
    )  # fmt: skip
    description: str = field(
        metadata=doc("In plain words: 'Individual therapy session, 53 minutes or more'.")
    )
    minutes: int | None = field(default=None, metadata={"minimum": 1, **doc("Its length.")})
    fee: float = field(metadata={"minimum": 0, **doc("Your fee for it, in dollars.")})


@frozen_value
class Fees(FrozenValue):
    session: float | None = field(
        default=None, metadata={"minimum": 0, **doc("The fee for one session, in dollars.")}
    )
    session_minutes: int | None = field(
        default=None, metadata={"minimum": 1, **doc("How long a session lasts, in minutes.")}
    )
    cancellation_hours: int | None = field(
        default=None,
        metadata={
            "minimum": 0,
            **doc("Hours of notice a client gives to cancel without a charge."),
        },
    )
    late_cancel_fee: float | None = field(
        default=None,
        metadata={
            "minimum": 0,
            **doc("The charge, in dollars, for a late cancellation or a missed session."),
        },
    )
    payment_methods: tuple[str, ...] = field(
        default=(),
        metadata=doc("Printed as 'I accept credit cards, debit cards, or checks.' (lower case, "
                     "plural)."),
    )  # fmt: skip
    collections_notice_days: int | None = field(
        default=None,
        metadata={
            "minimum": 0,
            **doc("Days of written notice before an unpaid account goes to collection."),
        },
    )
    payment_due: Literal["at-session", "in-advance", "monthly"] | None = field(
        default=None,
        metadata=doc("When payment is due: at-session (at each session), in-advance (before "
                     "each session) or monthly (on a monthly statement)."),
    )  # fmt: skip
    refunds: str | None = field(
        default=None,
        metadata=doc("What happens to money paid in advance, as whole sentences: 'I refund "
                     "unused prepaid sessions within 14 days.'"),
    )  # fmt: skip
    sliding_scale: bool | None = field(
        default=None, metadata=doc("Whether you offer a lower fee based on income.")
    )
    fee_change_notice_days: int | None = field(
        default=None,
        metadata={"minimum": 0, **doc("Days of written notice before a fee goes up.")},
    )
    unpaid_balance: str | None = field(
        default=None,
        metadata=doc("What happens to services while a balance is unpaid, as whole sentences: "
                     "'If a balance is unpaid for 60 days, we will meet to make a plan before "
                     "booking more sessions.'"),
    )  # fmt: skip
    services: tuple[Service, ...] = field(
        default=(),
        metadata=doc(
            "The services you bill, each {code, description, minutes, fee}: the fee "
            "list and the good faith estimate."
        ),
    )


@frozen_value
class Supervisor(FrozenValue):
    name: str | None = field(
        default=None, metadata=doc("Your supervisor's name (build with --supervisee).")
    )
    credentials: str | None = field(
        default=None, metadata=doc("Your supervisor's degree and credentials.")
    )
    license: License | None = field(default=None, metadata=doc("Your supervisor's license."))


@frozen_value
class Communication(FrozenValue):
    email: bool | None = field(
        default=None, metadata=doc("Whether you email clients (scheduling, brief messages).")
    )
    text: bool | None = field(
        default=None, metadata=doc("Whether you text clients (scheduling only).")
    )
    encrypted_email: bool | None = field(
        default=None, metadata=doc("Whether your email to clients is encrypted.")
    )
    fax: bool | None = field(
        default=None, metadata=doc("Whether you send or receive records by fax.")
    )
    reply_within: str | None = field(
        default=None,
        metadata=doc("How soon you answer messages, printed as 'I reply to messages within "
                     "one business day.'"),
    )  # fmt: skip


@frozen_value
class RecordsPolicy(FrozenValue):
    storage: str | None = field(
        default=None,
        metadata=doc("Where and how records are kept, as a whole sentence: 'I keep records in "
                     "an encrypted electronic health record.'"),
    )  # fmt: skip
    retention_note: str | None = field(
        default=None,
        metadata=doc("Your own words on keeping records, printed after the law's retention "
                     "period, as whole sentences: 'I keep records of minors until they turn 25.'"),
    )  # fmt: skip
    destruction: str | None = field(
        default=None,
        metadata=doc("How records are destroyed, as a whole sentence: 'I shred paper records "
                     "and securely erase electronic files.'"),
    )  # fmt: skip


@frozen_value
class TelehealthPolicy(FrozenValue):
    platform: str | None = field(
        default=None,
        metadata=doc("The video service, by name or as a short description, printed as 'I use "
                     "Zoom for Healthcare.'"),
    )  # fmt: skip


@frozen_value
class Policies(FrozenValue):
    couples_secrets: SecretsPolicy | None = field(
        default=None,
        metadata=doc("What you do with what one partner or family member tells you alone: "
                     "no-secrets (you may share it), limited (you decide case by case) or held "
                     "(you keep it private)."),
    )  # fmt: skip
    communication: Communication = field(default_factory=Communication)
    records: RecordsPolicy = field(default_factory=RecordsPolicy)
    telehealth: TelehealthPolicy = field(default_factory=TelehealthPolicy)
    social_media: str | None = field(
        default=None,
        metadata=doc("Your social-media policy, as whole sentences. Left out, the form says "
                     "you do not connect with clients on social media."),
    )  # fmt: skip
    consent_review_months: int | None = field(
        default=None,
        metadata={"minimum": 1,
                  **doc("How often, in months, you go over this consent again with a client.")},
    )  # fmt: skip


@frozen_value
class Office(FrozenValue):
    staff_trained: bool | None = field(
        default=None,
        metadata=doc("true: office staff are trained in privacy; false: you have no office staff."),
    )
    devices_protected: bool | None = field(
        default=None, metadata=doc("Computers and phones use passwords and encryption.")
    )
    soundproofing: bool | None = field(
        default=None, metadata=doc("The therapy room is soundproofed.")
    )
    white_noise: bool | None = field(
        default=None, metadata=doc("A white-noise machine outside the door masks voices.")
    )
    waiting_room: str | None = field(
        default=None,
        metadata=doc("How the waiting room protects privacy, as a whole sentence: 'Staff do "
                     "not say clients' names aloud.'"),
    )  # fmt: skip


@frozen_value
class Review(FrozenValue):
    rule: str = field(
        metadata={
            "pattern": r"^[A-Z]{2}\.[a-z][a-z0-9_]*(\.[a-z0-9_-]+)?$",
            **doc("The rule you checked, as the review sheet names it: CA.privilege, "
                  "US.crisis_line, CA.required_disclosures.bbs_notice."),
        }
    )  # fmt: skip
    on: dt.date = field(
        metadata=doc("The day you checked it. It counts until the rule's data changes after "
                     "that day (its effective or revised date is later).")
    )  # fmt: skip
    by: str | None = field(default=None, metadata=doc("Who checked it."))


@frozen_value
class PracticeProfile(FrozenValue):
    practice: Practice = field(default_factory=Practice)
    clinician: Clinician = field(default_factory=Clinician)
    fees: Fees = field(default_factory=Fees)
    supervisor: Supervisor = field(default_factory=Supervisor)
    policies: Policies = field(default_factory=Policies)
    office: Office = field(default_factory=Office)
    reviewed: tuple[Review, ...] = field(
        default=(),
        metadata=doc("Statements of law the practice has checked itself, from `consentgen "
                     "review`: each {rule, on, by}. The review sheet marks them reviewed, and "
                     "`build` stops warning about them."),
    )  # fmt: skip


# --- A request and the Document it produces ----------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)  # a batch holds one for every row
class Request:
    state: str
    setting: Setting = "individual"
    payment: Payment = "insurance"
    supervisee: bool = False
    telehealth: bool = False
    profession: Profession | None = None
    clients: tuple[str, ...] = ()
    guardians: tuple[str, ...] = ()
    as_of: dt.date | None = None

    # One rule for every format: a name may not hold what textsafe.not_text refuses (a control
    # character, a line break...). The CLI and batches refuse such a name (`name_problem`); a
    # Request made in Python holds it with each such character replaced by U+FFFD, so no format
    # is ever given one.
    def __post_init__(self) -> None:
        for name in ("clients", "guardians"):
            names = getattr(self, name)
            if isinstance(names, tuple | list) and any(
                isinstance(n, str) and not_text(n) for n in names
            ):
                safe = tuple(made_text(n) if isinstance(n, str) else n for n in names)
                object.__setattr__(self, name, safe)

    @staticmethod
    def name_problem(name: str) -> str | None:
        """What a name holds that no document may (without the name), or None."""
        return not_text(name)

    def options(self) -> dict[str, object]:
        return {
            "payment": self.payment,
            "supervisee": self.supervisee,
            "telehealth": self.telehealth,
            "profession": self.profession,
        }


@frozen_value
class DocCitation(FrozenValue):
    rule: str
    cite: str
    source_url: str = field(metadata=doc("An official source's address, or empty."))


@frozen_value
class Section(FrozenValue):
    id: str
    title: str
    paragraphs: tuple[str, ...]
    citations: tuple[DocCitation, ...] = ()


@frozen_value
class Signature(FrozenValue):
    role: str
    name: str | None


@frozen_value
class Source(FrozenValue):
    code: str
    name: str
    last_reviewed: dt.date
    origin: str


@frozen_value
class Document(FrozenValue):
    jurisdiction: str
    jurisdiction_name: str
    setting: str
    options: dict[str, object]
    as_of: dt.date
    data_version: str
    consentgen_version: str
    sources: tuple[Source, ...]
    sections: tuple[Section, ...]
    signatures: tuple[Signature, ...]
    acknowledgments: tuple[str, ...] = field(
        default=(), metadata=doc("Lines the client initials: what they received or agree to.")
    )
    office_record: tuple[str, ...] = field(
        default=(),
        metadata=doc("Lines the practice fills in about what the client did not sign (the "
                     "good-faith effort to get the privacy notice acknowledged)."),
    )  # fmt: skip
    missing: tuple[str, ...] = ()


# --- The good faith estimate (45 CFR 149.610), its own document ----------------------------------


@frozen_value
class EstimateItem(FrozenValue):
    code: str
    description: str
    minutes: int | None
    fee: float = field(metadata=doc("The expected charge for one."))
    count: int = field(metadata=doc("How many are expected in the period."))
    total: float


@frozen_value
class GoodFaithEstimate(FrozenValue):
    """A self-pay client's good faith estimate of expected charges: the provider, the client,
    the expected services with codes and charges over up to 12 months, and the date issued."""

    provider: str | None
    clinician: str | None
    npi: str | None
    tin: str | None
    address: str | None
    state: str = field(metadata=doc("The state of the office (two letters)."))
    phone: str | None
    client: str | None
    client_birth_date: dt.date | None
    diagnosis_codes: tuple[str, ...]
    items: tuple[EstimateItem, ...]
    total: float
    period_months: int
    first_session: dt.date | None
    issued: dt.date
    dispute_threshold: int | None
    dispute_days: int | None
    help_url: str | None
    help_phone: str | None
    consentgen_version: str
    data_version: str
    missing: tuple[str, ...] = ()
