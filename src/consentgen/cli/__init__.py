"""The command line: `launch` is the `consentgen` program, `typer_app` parses every command with
Typer, and `commands` holds what a command does once its options are parsed, and how it reports.

Importing this package loads none of them (a plain build must not pay for Typer): `app` and
`main` are the Typer app's, loaded when first asked for.
"""

from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from consentgen.cli import typer_app

        return getattr(typer_app, name)
    raise AttributeError(f"module 'consentgen.cli' has no attribute {name!r}")
