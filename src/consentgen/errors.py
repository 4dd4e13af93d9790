"""One error base class; user-facing errors say where the problem is and what to do."""

from __future__ import annotations

from consentgen.values import OrderedValue, frozen_value


@frozen_value(kw_only=False)
class Problem(OrderedValue):
    """One finding about an input file: sortable, printable as ``path:line:col: severity: msg``."""

    path: str
    line: int
    column: int
    severity: str  # "error" | "warning" | "info"
    message: str
    rule_id: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        tag = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{where}: {self.severity}: {self.message}{tag}"


class ConsentgenError(Exception):
    """Base class of every error consentgen raises on purpose."""


class UserError(ConsentgenError):
    """Bad input or usage: the CLI prints the message on one line and exits with code 2.

    Messages never contain client data (names); they name files, keys and options.
    """

    exit_code = 2

    def __init__(self, message: str, *, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


class InvalidFileError(UserError):
    """A YAML file that cannot be read or does not match its schema; carries every problem."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        problems = tuple(sorted(problems)) or (Problem("(unknown file)", 0, 0, "error",
                                                       "cannot be read", "CG004"),)  # fmt: skip
        first = problems[0]
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        where = f"{first.path}:{first.line}:{first.column}" if first.line else first.path
        super().__init__(f"{where}: {first.message}{suffix}", problems=problems)
