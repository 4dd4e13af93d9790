"""Every lint rule: a stable id, a name, a default severity, and its documentation.

`consentgen lint --list-rules` prints this table; the README's rule list is made from it. An id
never changes meaning; a retired rule's id is never reused.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LintRule:
    id: str
    name: str
    severity: str  # error | warning | info
    summary: str
    example: str  # a failing example, as a maintainer would write it
    passing: str  # the same put right: what passes

    def documentation(self) -> str:
        """The rule's entry in docs/lint-rules.md."""
        fence = "```"
        return (f"### {self.id} {self.name} ({self.severity})\n\n{self.summary[0].upper()}"
                f"{self.summary[1:]}.\n\nFails:\n\n{fence}\n{self.example}\n{fence}\n\n"
                f"Passes:\n\n{fence}\n{self.passing}\n{fence}\n")  # fmt: skip


RULES: tuple[LintRule, ...] = (
    LintRule('CG001', 'yaml-syntax', 'error',
             'the file is not valid YAML',
             'name: [unclosed',
             passing='name: [closed]'),
    LintRule('CG002', 'duplicate-key', 'error',
             'a key appears twice in one mapping (PyYAML would silently keep the last one)',
             'summary: one\nsummary: two',
             passing='summary: one'),
    LintRule('CG003', 'anchor-alias', 'error',
             'anchors, aliases and merge keys hide where a value comes from; write values out',
             'base: &b {status: none}\nduty_to_protect: *b',
             passing='duty_to_protect: {status: none, ...}'),
    LintRule('CG004', 'not-text', 'error',
             'the file cannot be read as UTF-8 text (binary, another encoding, too large)',
             '(a file saved as Latin-1)',
             passing='(the same file saved as UTF-8)'),
    LintRule('CG101', 'not-a-mapping', 'error',
             'a mapping of keys was expected',
             'rules: [child_abuse_reporting]',
             passing='rules: {child_abuse_reporting: {...}}'),
    LintRule('CG102', 'unknown-key', 'error',
             'a key the schema does not know (a typo never passes silently)',
             'sumary: ...',
             passing='summary: ...'),
    LintRule('CG103', 'missing-key', 'error',
             'a required key is missing',
             'duty_to_protect: {status: none, summary: ...}  # no citations, no verified',
             passing='duty_to_protect: {status: none, summary: ..., citations: [...], '
                     'verified: false}'),
    LintRule('CG104', 'wrong-type', 'error',
             'a value of the wrong type, outside its range, not in its list, or not a real date',
             'status: sometimes',
             passing='status: permissive'),
    LintRule('CG105', 'too-few-items', 'error',
             'a list needs more items (e.g. one citation)',
             'citations: []',
             passing='citations: [{cite: ..., source_url: ..., read: primary}]'),
    LintRule('CG106', 'code-mismatch', 'error',
             "a jurisdiction's code differs from its file name",
             '(CA.yaml containing code: NV)',
             passing='(CA.yaml containing code: CA)'),
    LintRule('CG201', 'citation-source', 'error',
             "a citation's source_url is not a web address (http or https)",
             'source_url: Westlaw',
             passing='source_url: https://leginfo.legislature.ca.gov/...'),
    LintRule('CG202', 'unverified', 'warning',
             'a rule is not verified against its primary source; the document flags it',
             'verified: false',
             passing="verified: true  # the statute's own text was read"),
    LintRule('CG203', 'stale-review', 'warning',
             'last_reviewed is older than --max-age days (default 365)',
             'last_reviewed: 2020-01-01',
             passing='last_reviewed: 2026-11-01'),
    LintRule('CG204', 'effective-order', 'error',
             'earlier forms must be dated, newest first, and older than the current form',
             'effective: 2010-01-01\nhistory: [{effective: 2015-01-01, ...}]',
             passing='effective: 2015-01-01\nhistory: [{effective: 2010-01-01, ...}]'),
    LintRule('CG205', 'future-effective', 'info',
             'a form takes effect after today: a staged change (an earlier form in the future '
             'is an error)',
             'effective: 2030-01-01',
             passing='effective: 2024-07-01'),
    LintRule('CG206', 'status-contradiction', 'warning',
             "a rule's status does not fit its own facts",
             'status: none\ndischarge: [warn the victim]',
             passing='status: mandatory\ndischarge: [warn the victim]'),
    LintRule('CG207', 'undated-current-form', 'warning',
             'a rule has earlier forms but its current form has no effective date, so --as-of '
             'cannot tell when it started',
             'history: [...]  # and no effective on the rule',
             passing='effective: 2013-01-01\nhistory: [...]'),
    LintRule('CG208', 'missing-rule', 'warning',
             'a state file lacks a rule every state should have',
             '(a state file without duty_to_protect)',
             passing='(a state file with every rule, status unknown where not yet researched)'),
    LintRule('CG209', 'client-wording', 'error',
             "a field the client's copy reads names the clinician in the third person, speaks "
             "as 'I', holds a research caveat, a web address or a citation",
             'trigger: the client tells the therapist of a threat  # unconfirmed',
             passing='trigger: a client tells of a serious threat of violence against '
                     'someone who can be identified'),
    LintRule('CG210', 'notice-board-contact', 'warning',
             "a notice gives the licensing board's contact or address, and a board it names "
             'lacks the phone or the mailing address',
             'includes: [board_address]  # and the board has no address',
             passing='includes: [board_address]  # and the board has its address'),
    LintRule('CG211', 'duplicate-id', 'error',
             'two required disclosures in one file share an id (a review names it, so it must '
             'be unique)',
             '- id: intake_notice ...\n- id: intake_notice ...',
             passing='- id: intake_notice ...\n- id: telehealth_notice ...'),
    LintRule('CG212', 'variant-professions', 'warning',
             "a profession variant's citation names professions the variant is not for",
             "variants: [{applies_to: [mft], citations: [{cite: 'Psychologists Act § 5'}]}]",
             passing="variants: [{applies_to: [mft], citations: [{cite: 'Marriage and Family "
                     "Therapists Act § 5'}]}]"),
    LintRule('CG213', 'verified-without-primary', 'error',
             'a rule is verified but none of its citations was read in primary text',
             'verified: true\ncitations: [{cite: ..., source_url: ..., read: secondary}]',
             passing='verified: true\ncitations: [{cite: ..., source_url: ..., read: primary}]'),
    LintRule('CG214', 'pending-bill', 'warning',
             'a tracked bill was last checked over 120 days ago, or is no longer pending (an '
             'entry naming a rule the file lacks is an error)',
             'pending_bills: [{bill: HB 1, status: enacted, ...}]',
             passing='pending_bills: [{bill: HB 1, status: pending, checked: 2026-11-27, ...}]'),
    LintRule('CG301', 'template-syntax', 'error',
             'a template is not valid Jinja2',
             '{% if x %}no endif',
             passing='{% if x %}text{% endif %}'),
    LintRule('CG302', 'template-render', 'error',
             'a template fails to render for some jurisdiction and options (e.g. a variable '
             'the model does not have)',
             '{{ law.duty_to_protect.statuss }}',
             passing='{{ law.duty_to_protect.status }}'),
    LintRule('CG303', 'render-output', 'error',
             'a rendered document has an unrendered {{, a None, or an empty section',
             "{{ '{{' }}",
             passing='(a section that renders whole sentences)'),
    LintRule('CG304', 'consent-element', 'error',
             "a rendered document no longer tells the client something a profession's ethics "
             'code asks a consent to say (consentgen.standards.ELEMENTS names the section)',
             "(a practice's about_therapy.md.j2 without the alternatives to therapy)",
             passing='(about_therapy.md.j2 that names the alternatives to therapy)'),
    LintRule('CG401', 'reading-grade', 'warning',
             'a section of a client document reads above US grade 10 (Flesch-Kincaid)',
             '(long sentences, long words)',
             passing='(short sentences, common words)'),
    LintRule('CG501', 'office-privacy', 'info',
             'the practice profile leaves an office-privacy safeguard unstated or off',
             'office: {staff_trained: false}',
             passing='office: {staff_trained: true}'),
    LintRule('CG502', 'required-profile-value', 'warning',
             'the practice profile lacks a value that a notice prescribed by the license '
             "state's law, or the profession's ethics code, needs in the client's copy",
             "clinician: {license: {state: CA}}  # no expires: California's notice needs it",
             passing='clinician: {license: {state: CA, expires: 2027-06-30}}'),
)  # fmt: skip

BY_ID: dict[str, LintRule] = {rule.id: rule for rule in RULES}
BY_NAME: dict[str, LintRule] = {rule.name: rule for rule in RULES}


def documentation() -> str:
    """docs/lint-rules.md: every rule with what fails and what passes (tests keep it current)."""
    head = ("# Lint rules\n\nGenerated from `consentgen.lint.rules` (`pytest --update-golden` "
            "rewrites it). `consentgen lint --list-rules` prints the same ids and names; "
            "`--select` and `--ignore` take ids, names or an id's prefix (CG2).\n\n")  # fmt: skip
    return head + "\n".join(rule.documentation() for rule in RULES)
