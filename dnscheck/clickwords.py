"""click's own words (usage, option help, its error messages) in the user's language.

click marks its messages for gettext with the standard `gettext` functions, bound in each of its modules as `_` and
`ngettext`; those read the process locale, not `--lang`. `install()` points those names at dnscheck's own
translation, and the ids below (click's exact English) are in dnscheck's catalogue. An id click changes in a later
version is simply shown in English: nothing breaks.
"""

from __future__ import annotations

from dnscheck.i18n import N_, _, ngettext


def _np(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for extraction (scripts/i18n.py knows `_np`)."""
    return singular, plural


WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("%(prog)s, version %(version)s"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing {param_type}"),
    N_("Missing parameter: {param_name}"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("Missing command."),
    N_("Aborted!"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{value!r} does not match the format {format}."),
)
PLURALS = (
    _np("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
    _np("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    _np("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    _np("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
)


def install() -> None:
    """From now on, click's messages go through dnscheck's translation (idempotent)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    modules = (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types)
    for module in modules:
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
