"""Every lint rule: a stable id, a name, a default severity, and its documentation.

`consentgen lint --list-rules` prints this table; the README's rule list is made from it. An id
never changes meaning; a retired rule's id is never reused.
"""

from __future__ import annotations

from consentgen.lint import checks, law, templates
from consentgen.lint.rule import LintRule

# The loader's rules: yamlio.py and structure.py report them as they read a file. Every other
# rule is defined beside its check: the law's in lint/law.py, the templates' in
# lint/templates.py, the practice profile's in lint/checks.py.
_LOADER: tuple[LintRule, ...] = (
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
)  # fmt: skip

RULES: tuple[LintRule, ...] = tuple(
    sorted((*_LOADER, *law.RULES, *templates.RULES, *checks.RULES), key=lambda rule: rule.id)
)
BY_ID: dict[str, LintRule] = {rule.id: rule for rule in RULES}
BY_NAME: dict[str, LintRule] = {rule.name: rule for rule in RULES}


def documentation() -> str:
    """docs/lint-rules.md: every rule with what fails and what passes (tests keep it current)."""
    head = ("# Lint rules\n\nGenerated from `consentgen.lint.rules` (`pytest --update-golden` "
            "rewrites it). `consentgen lint --list-rules` prints the same ids and names; "
            "`--select` and `--ignore` take ids, names or an id's prefix (CG2).\n\n")  # fmt: skip
    return head + "\n".join(rule.documentation() for rule in RULES)
