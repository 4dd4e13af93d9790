"""A lint rule: a stable id, a name, a default severity, and its documentation."""

from __future__ import annotations

from consentgen.values import FrozenValue, frozen_value


@frozen_value(kw_only=False)
class LintRule(FrozenValue):
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
