"""Command line: parse, wire, exit. No DNS logic lives here.

Heavy modules (dnspython, tldextract, tabulate) are imported inside the commands, so `--version` and `--help`
stay fast.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

import click

from dnscheck import __version__, clickwords, options
from dnscheck.clitext import CHECK_HELP, CLI_HELP, EXIT_CODES_HELP, choose, diagnostics, localise
from dnscheck.errors import EXIT_INTERNAL, EXIT_USAGE, DnscheckError
from dnscheck.formats import FORMATS
from dnscheck.i18n import N_, _, set_language
from dnscheck.settings import CheckSettings, DnsSettings, OutputSettings
from dnscheck.shard import Shard
from dnscheck.text import clean

_state = {"verbose": 0}


class _Group(click.Group):
    """Maps every way of failing onto the documented exit codes, and never shows a traceback unless -v.
    Commands in `_LAZY` are imported only when used."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # Before click's own handler, which would exit 1 and so read as "warning".
            _quiet_stdout()
            raise click.exceptions.Exit(EXIT_PIPE) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY and name not in self.commands:
            self.add_command(_LAZY[name](), name)
        cmd = super().get_command(ctx, name)
        return localise(cmd) if cmd is not None else None

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        # Before click parses anything: its usage errors and --help are then in the user's language too.
        set_language(choose(sys.argv[1:] if args is None else list(args)))
        clickwords.install()
        localise(self)
        try:
            rv = super().main(args, *rest, **kwargs)
            sys.stdout.flush()  # here, not at exit: a reader that went away must be caught below
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.ClickException as e:  # UsageError, BadParameter... (a file name may hold anything)
            _show_click_error(e)
            sys.exit(EXIT_USAGE)
        except click.Abort:
            click.echo(_("Aborted."), err=True)
            sys.exit(130)
        except KeyboardInterrupt:
            click.echo(_("Interrupted."), err=True)
            sys.exit(130)
        except DnscheckError as e:
            _show_traceback()
            _say(_("dnscheck: error: {message}").format(message=diagnostics(e)))
            sys.exit(e.exit_code)
        except BrokenPipeError:
            # The reader went away (`dnscheck ... | head`): not an error worth a message.
            _quiet_stdout()
            sys.exit(EXIT_PIPE)
        except Exception as e:
            _show_traceback()
            _say(_("dnscheck: internal error: {error}").format(error=f"{type(e).__name__}: {e}"))
            if not _state["verbose"]:
                click.echo(_("Run again with -v to see the traceback, and report it."), err=True)
            sys.exit(EXIT_INTERNAL)
        sys.exit(rv if isinstance(rv, int) else 0)


EXIT_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away


def _say(message: str) -> None:
    """An error message on stderr, control characters escaped: it may quote a zone file, a file name, an input."""
    click.echo(clean(message, keep_newlines=True), err=True)


def _show_click_error(e: click.ClickException) -> None:
    import io

    buf = io.StringIO()
    e.show(file=buf)
    sys.stderr.write(clean(buf.getvalue(), keep_newlines=True))


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit does not fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _show_traceback() -> None:
    if _state["verbose"]:
        import traceback

        traceback.print_exc()


@click.group(
    cls=_Group,
    help=CLI_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, "-V", "--version", prog_name="dnscheck")
@click.option("-v", "--verbose", count=True, help=N_("Show debug logs and tracebacks."))
def cli(verbose: int) -> None:
    _state["verbose"] = verbose
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO, format="%(levelname)s %(message)s"
        )


def _read_lines(path: str) -> Iterator[str]:
    """Input lines, undecodable bytes kept (as surrogates) so that the line is reported, not dropped.

    The file is opened now, so that an unreadable --input is a usage error before any output; lines are read
    lazily.
    """
    stream: IO[bytes]
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise DnscheckError(f"cannot read --input {path}: {e.strerror}") from None  # words: dnscheck.reasons
    return _stream_lines(stream, path)


_LINE_ENDS = {"\r": "CR", "\n": "LF", "\r\n": "CRLF"}


def _stream_lines(stream: IO[bytes], path: str = "-") -> Iterator[str]:
    """Files come from Notepad and Excel (a UTF-8 byte order mark, CRLF) and old Mac exports (CR only): the
    mark is dropped, and CR, LF and CRLF all end a line. A file that mixes them is reported once on stderr."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline=None)
    with text:
        for line in text:
            if line.lstrip().startswith("#"):
                continue
            kept = line.split(" #", 1)[0].strip()
            if kept:
                yield kept
        if isinstance(text.newlines, tuple):
            ends = ", ".join(sorted(_LINE_ENDS[n] for n in text.newlines))
            click.echo(
                clean(
                    _("dnscheck: note: --input {path} mixes line ends ({ends}); each ends a line").format(
                        path=path, ends=ends
                    )
                ),
                err=True,
            )


def _lines(domains: tuple[str, ...], input_file: str | None, shard: Shard | None = None) -> Iterator[str]:
    lines = _read_lines(input_file) if input_file else iter(())  # opened now: errors before any output
    every = itertools.chain(domains, lines)
    return shard.select(every) if shard else every


def _count(domains: tuple[str, ...], input_file: str | None, shard: Shard | None = None) -> int | None:
    """How many lines there will be, for the progress bar; None when the input cannot be read twice (stdin)."""
    if input_file and (input_file == "-" or not os.path.isfile(input_file)):
        return None
    try:
        return sum(1 for _ in _lines(domains, input_file, shard))
    except DnscheckError:
        return None


def _workers(
    asked: int | None, domains: tuple[str, ...], input_file: str | None, zone_file: str | None
) -> int:
    if zone_file:
        return 1  # one zone, loaded once, a few domains
    if asked is not None:
        return asked
    from dnscheck.settings import default_workers

    return default_workers(None if input_file else len(domains))


@cli.command(help=CHECK_HELP, epilog=EXIT_CODES_HELP)
@click.argument("domains", nargs=-1, metavar="[DOMAIN]...")
@click.option(
    "-i",
    "--input",
    "input_file",
    metavar="FILE",
    help=N_("Read domains from FILE, one per line ('#' comments; '-' for stdin)."),
)
@click.option(
    "--zone-file",
    metavar="FILE",
    help=N_("Check a BIND zone file (e.g. the zone planned at the new DNS host) instead of live DNS."),
)
@click.option(
    "--parent-ds",
    metavar="live|FILE",
    help=N_(
        "With --zone-file: check the planned zone's DNSSEC against the parent's DS, asked of the live parent's "
        "servers (live) or read from FILE (DS records in zone-file syntax, one per line)."
    ),
)
@click.option(
    "--explain", is_flag=True, help=N_("Show who was asked what, every answer, and how the verdict follows.")
)
@click.option(
    "--changed-at",
    metavar="TIMESTAMP",
    callback=options.timestamp,
    help=N_(
        "When the records were changed (ISO 8601, e.g. 2026-11-27T09:30Z, or Unix seconds): "
        "reports safe_after, the time by which no cache can hold the old answers."
    ),
)
@click.option(
    "--watch-state",
    metavar="FILE",
    help=N_(
        "Take each domain's change time from a `dnscheck watch --state FILE` file (instead of "
        "--changed-at): gives safe_after per domain."
    ),
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="table",
    show_default=True,
    help=N_("Report format (csv, nagios and prometheus for spreadsheets and monitoring)."),
)
@click.option(
    "-o", "--output", metavar="FILE", help=N_("Write the report to FILE (atomically) instead of stdout.")
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help=N_("Colour the table. auto: only on a terminal, and never when NO_COLOR is set."),
)
@click.option(
    "-q", "--quiet", is_flag=True, help=N_("No progress bar (it is shown only on a terminal anyway).")
)
@click.option(
    "--no-https",
    is_flag=True,
    help=N_(
        "Do not fetch MTA-STS policies (https://mta-sts.DOMAIN/.well-known/mta-sts.txt); by default a domain "
        "that publishes an _mta-sts TXT record has its policy fetched."
    ),
)
@click.option(
    "--tenant-check",
    is_flag=True,
    help=N_(
        "Also ask Microsoft's public sign-in endpoints whether a Microsoft 365 tenant holds each domain. "
        "Off by default: it sends the domain names to Microsoft (see docs/security.md). Not with --zone-file."
    ),
)
@click.option(
    "--expect-tenant",
    "expect_tenant",
    multiple=True,
    metavar="TENANT_ID",
    callback=lambda c, p, v: _tenant_ids(v),
    help=N_(
        "With --tenant-check: the tenant id (a GUID) the domain is leaving or moving to (repeatable). A domain "
        "found in any other tenant is blocked."
    ),
)
@options.dns_options
@options.workers
@options.shard
def check(
    domains: tuple[str, ...],
    input_file: str | None,
    zone_file: str | None,
    parent_ds: str | None,
    dns: DnsSettings,
    explain: bool,
    changed_at: datetime | None,
    watch_state: str | None,
    fmt: str,
    output: str | None,
    color: str,
    quiet: bool,
    no_https: bool,
    tenant_check: bool,
    expect_tenant: tuple[str, ...],
    workers: int | None,
    shard: Shard | None,
) -> int:
    if not domains and not input_file:
        raise click.UsageError(_("give at least one DOMAIN, or --input FILE"))
    if zone_file and input_file:
        raise click.UsageError(
            _("--zone-file checks the domains given as arguments; it does not take --input")
        )
    _check_tenant_options(zone_file, no_https, tenant_check, expect_tenant)
    if parent_ds and not zone_file:
        raise click.UsageError(
            _("--parent-ds goes with --zone-file (live DNS is checked against the live DS anyway)")
        )
    from dnscheck.app import run_check
    from dnscheck.progress import wanted

    show_progress = wanted(sys.stderr, quiet)
    settings = CheckSettings(
        dns=dns,
        output=OutputSettings(fmt, output, color, show_progress),
        zone_file=zone_file,
        explain=explain,
        changed_at=changed_at,
        watch_state=watch_state,
        no_https=no_https,
        tenant_check=tenant_check,
        expect_tenants=expect_tenant,
        parent_ds=parent_ds,
        workers=_workers(workers, domains, input_file, zone_file),
        shard=shard,
    )
    total = _count(domains, input_file, shard) if show_progress else None
    return run_check(settings, _lines(domains, input_file, shard), total)


def _tenant_ids(values: tuple[str, ...]) -> tuple[str, ...]:
    import uuid

    out = []
    for v in values:
        try:
            out.append(str(uuid.UUID(v.strip())))
        except ValueError:
            raise click.BadParameter(_("{value} is not a tenant id (a GUID)").format(value=repr(v))) from None
    return tuple(out)


def _check_tenant_options(
    zone_file: str | None, no_https: bool, tenant_check: bool, expect_tenants: tuple[str, ...]
) -> None:
    if expect_tenants and not tenant_check:
        raise click.UsageError(_("--expect-tenant needs --tenant-check"))
    if tenant_check and zone_file:
        raise click.UsageError(_("--tenant-check asks Microsoft over the network; --zone-file never does"))
    if tenant_check and no_https:
        raise click.UsageError(_("--tenant-check needs HTTPS; it cannot be used with --no-https"))


def _runbook() -> click.Command:
    from dnscheck.runbook.command import runbook_command

    return runbook_command(check)  # it takes check's DNS options, so that they cannot drift


def _watch() -> click.Command:
    from dnscheck.watch_cli import watch

    return watch


# Loaded when named (or listed by --help), so that `dnscheck --version` and `dnscheck check` do not pay for them.
_LAZY = {"runbook": _runbook, "watch": _watch}


def main() -> None:
    cli(prog_name="dnscheck")
