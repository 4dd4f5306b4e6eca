"""The French catalogue: complete, fresh, and every user-facing sentence actually in French.

"Left in English" is judged against the English rendering of the same thing with the same data: every English word
of it must be gone from the French one, except the technical terms French admins use as they are (MX, TTL,
autodiscover...), product names and the data itself (names, records, reasons given as arguments).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal

from dnscheck import i18n
from dnscheck.catalogue import MESSAGES, fields
from dnscheck.clouds import CLOUDS, SERVICES, cloud_name, service_name
from dnscheck.codes import CODES
from dnscheck.explain import explain
from dnscheck.formats.base import Summary
from dnscheck.formats.nagios import NagiosFormat
from dnscheck.formats.table import TableFormat
from dnscheck.models import Finding, Record, Result, Verdict
from dnscheck.reasons import ERRORS, SHAPES, translate

ROOT = Path(__file__).resolve().parents[2]

# Kept as they are in French: DNS and mail terms as admins write them, product names, units, option values, and
# the words both languages spell the same.
_TECHNICAL_WORDS = """
    MX NS SPF DKIM TTL CNAME TXT SRV SOA AA AAAA RFC UTC IP IPv6 DNS DNSSEC DNAME NXDOMAIN SERVFAIL YXDOMAIN
    Microsoft Exchange Online Intune Entra Teams Skype Business Unix ISO JSON UTF BIND GCC DoD Cloud
    Office OneDrive SharePoint GoDaddy MCA MOSA Deutschland Vianet 21Vianet
    autodiscover msoid selector1 selector2 enterpriseregistration enterpriseenrollment include glue apex nameserver
    safe_after punycode label info verdict zone zones cache caches FILE DOMAIN DOMAINs STEP MiB
    resolv conf etc prometheus_client dnscheck resolver authoritative csv nagios prometheus jsonl json markdown
    LANG LANGUAGE LC_ALL LC_MESSAGES NO_COLOR SIP admin https owa results fixtures
    section port route substitution question types type public octets permission cloud long option action actions
    terminal arguments table runbook alias tenant tenants code date dates head documents mode support due pages
    messages ticket six information minimum message version argument options prog MTA STS enforce testing GUID
    HTTPS HTTP organisations docs security id url mx max_age plain text well known service AADSTS90002
    invalid_tenant cloud_instance_name document NameSpaceType Managed Federated Unknown
    DS DNSKEY RRSIG DANE SMTP EDE ECDSAP256SHA256 RSASHA1 SHA parent validation signature multi live
    Disable DnssecForVerifiedDomain
"""
TECHNICAL = set(_TECHNICAL_WORDS.split())
_OK = {w.lower() for w in TECHNICAL}
_OPTION = re.compile(r"--[a-z][\w-]*(?: (?:resolver|authoritative|auto|safe|warning|json|csv|prometheus))?")
_WORD = re.compile(r"[A-Za-z][\w]*")
# Host and file names, addresses, and the words French uses as they are inside a longer one (e-mail).
_NAMES = re.compile(
    r"\b[A-Z][A-Z0-9]*(?:\\?_[A-Z0-9]+)+\b|[\w-]+(?:\.[\w-]+)+|\be-mail\b|\bURL\b|\$[A-Z]+|pip install \S+|dnscheck \w+"
)


def english_left(en: str, fr: str, data: tuple[str, ...] = ()) -> set[str]:
    """The words of `en` still in `fr` that are neither technical terms nor data."""
    en, fr = (_NAMES.sub(" ", _OPTION.sub(" ", t)) for t in (en, fr))
    ok = _OK | {w.lower() for d in data for w in _WORD.findall(str(d))}
    words = {w for w in _WORD.findall(en) if len(w) > 2 and w.lower() not in ok}
    return {w for w in words if re.search(rf"(?<![\w']){re.escape(w)}(?![\w])", fr)}


@pytest.fixture
def both() -> Iterator[Callable[[Callable[[], str]], tuple[str, str]]]:
    """Render the same thing in English, then French."""

    def render(f: Callable[[], str]) -> tuple[str, str]:
        i18n.set_language("en")
        en = f()
        i18n.set_language("fr")
        return en, f()

    yield render
    i18n.set_language("en")


def assert_french(en: str, fr: str, data: tuple[str, ...] = ()) -> None:
    left = english_left(en, fr, data)
    assert not left, f"left in English: {sorted(left)}\n  en: {en}\n  fr: {fr}"


# --- the tooling ---------------------------------------------------------------------------------------------


def _tool() -> object:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogues_are_complete_not_fuzzy_and_compiled_from_their_sources() -> None:
    """CI's guard: a new message id without a French translation, a fuzzy one, a stale .pot or .mo fails."""
    problems = list(_tool().problems())  # type: ignore[attr-defined]
    assert not problems, "\n".join(problems)


def test_the_compiled_catalogue_is_shipped_in_the_package() -> None:
    assert "locale/*/LC_MESSAGES/*.mo" in (ROOT / "setup.cfg").read_text()
    assert (ROOT / "dnscheck" / "locale" / "fr" / "LC_MESSAGES" / "dnscheck.mo").is_file()


def test_an_unknown_language_is_refused_by_set_language() -> None:
    with pytest.raises(ValueError):
        i18n.set_language("de")


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANGUAGE": "de:fr", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"LC_MESSAGES": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "de_DE.UTF-8"}, "en"),  # unknown: English, silently
        ({}, "en"),
    ],
)
def test_the_language_from_the_environment(env: dict[str, str], lang: str) -> None:
    assert i18n.from_environment(env) == lang


def test_lang_on_the_command_line_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dnscheck.clitext import choose

    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")
    assert choose(["check", "--lang", "en", "x"]) == "en"
    assert choose(["--lang=en", "check"]) == "en"
    assert choose(["check", "x"]) == "fr"
    assert choose(["check", "--lang", "de"]) == "fr"  # invalid: click refuses it later
    assert choose(["check", "--", "--lang", "en"]) == "fr"


# --- every message in French ---------------------------------------------------------------------------------

SAMPLE = {
    "domain": "contoso.com",
    "registered": "contoso.com",
    "host": "mail.contoso.com",
    "name": "autodiscover.contoso.com",
    "names": "ns1.bdm.microsoftonline.com, ns2.bdm.microsoftonline.com",
    "zone": "contoso.com",
    "parent": "com",
    "type": "MX",
    "value": "0 contoso-com.mail.protection.outlook.com",
    "target": "contoso-com.mail.protection.outlook.com",
    "address": "192.0.2.1",
    "addresses": "192.0.2.53",
    "stale": "ns3.newdns.net",
    "fresh": "ns1.newdns.net",
    "serials": "ns1.newdns.net 2026112701, ns3.newdns.net 2026112601",
    "at_parent": "ns1.newdns.net",
    "at_child": "ns1.bdm.microsoftonline.com",
    "service": "Exchange Online",
    "reason": "no answer (timed out)",
    "safe_after": "2026-11-27T10:30:00Z",
    "seconds": 3600,
}


def _shipped() -> list[str]:
    """The catalogue's keys whose words are message ids (other tests add entries of their own to MESSAGES)."""
    from babel.messages.pofile import read_po

    with open(ROOT / "dnscheck" / "locale" / "dnscheck.pot", "rb") as f:
        ids = {m.id for m in read_po(f)}
    return sorted(k for k, m in MESSAGES.items() if m.text in ids)


@pytest.mark.parametrize("key", _shipped())
def test_every_catalogue_message_and_remediation_is_in_french(key: str, both) -> None:  # type: ignore[no-untyped-def]
    head, _, variant = key.partition(".")
    code = head if head != "*" else "MX_M365"
    entry = MESSAGES[key]
    args = {
        n: SAMPLE.get(n, f"data-{n}") for n in fields(entry.text) | fields(entry.fix or "") if n != "cloud"
    }
    f = Finding(
        code,
        CODES[code].severity,
        tuple(args.items()),
        Record("x.example", "MX", "v"),
        "usgov",
        variant or None,
    )
    data = tuple(str(v) for v in args.values())
    assert_french(*both(lambda: f.message), data)
    if f.remediation:
        assert_french(*both(lambda: f.remediation), data)


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_summary_is_in_french(code: str, both) -> None:  # type: ignore[no-untyped-def]
    row = CODES[code]
    assert_french(*both(lambda: i18n._(row.summary)))
    if row.why_also:
        assert_french(*both(lambda: i18n._(row.why_also)))


def test_the_arguments_shown_in_french_are_a_time_a_number_a_reason_and_a_cloud(both) -> None:  # type: ignore[no-untyped-def]
    f = Finding(
        "CACHE_PENDING",
        CODES["CACHE_PENDING"].severity,
        (("safe_after", "2026-11-27T10:30:00Z"), ("seconds", 86400)),
    )
    en, fr = both(lambda: f.message)
    assert "2026-11-27T10:30:00Z" in en and "86400 s" in en
    assert "27 novembre 2026 à 10:30 UTC" in fr and "86\u202f400 s" in fr


def test_dates_and_numbers_are_written_as_babel_writes_them_in_french(both) -> None:  # type: ignore[no-untyped-def]
    for day in (date(2026, 1, 1), date(2026, 8, 15), date(2026, 11, 27), date(2027, 12, 31)):
        _, fr = both(lambda d=day: i18n.when(f"{d.isoformat()}T09:05:00Z"))
        assert fr == f"{format_date(day, 'd MMMM y', locale='fr')} à 09:05 UTC"
    for n in (0, 7, 300, 3600, 86400, 1234567, 0.412, 12345.5):
        _, fr = both(lambda n=n: i18n.number(n))
        assert fr == format_decimal(n, locale="fr"), n
    en, _ = both(lambda: i18n.number(86400) + " " + i18n.when("2026-11-27T10:30:00Z"))
    assert en == "86400 2026-11-27T10:30:00Z"  # English output is unchanged


# Data inside reasons and errors, for the shapes' fields.
_FIELDS = {
    "detail": "SERVFAIL",
    "rcode": "REFUSED",
    "n": "300",
    "label": "xn--a",
    "path": "planned.zone",
    "line": "12",
    "spec": "'[::1]'",
    "servers": "127.0.0.1",
    "origin": "contoso.com",
}


@pytest.mark.parametrize("shape", [*SHAPES, *ERRORS])
def test_every_reason_and_error_is_in_french(shape: str, both) -> None:  # type: ignore[no-untyped-def]
    values = {n: _FIELDS.get(n, SAMPLE.get(n, f"data-{n}")) for n in fields(shape)}
    text = shape.format(**values)
    en, fr = both(lambda: str(translate(text)))
    assert en == text
    assert_french(en, fr, tuple(str(v) for v in values.values()))


def test_a_reason_inside_a_reason_is_translated_too(both) -> None:  # type: ignore[no-untyped-def]
    _, fr = both(lambda: str(translate("parent zone servers not found: no answer (timed out)")))
    assert fr == "serveurs de la zone parente introuvables : pas de réponse (délai dépassé)"


def test_a_reason_of_no_known_shape_is_shown_as_it_is(both) -> None:  # type: ignore[no-untyped-def]
    assert both(lambda: str(translate("Timeout: something new"))) == ("Timeout: something new",) * 2


@pytest.mark.parametrize("key", sorted(CLOUDS))
def test_cloud_names_are_in_french(key: str, both) -> None:  # type: ignore[no-untyped-def]
    assert_french(*both(lambda: cloud_name(key)))


@pytest.mark.parametrize("service", SERVICES)
def test_service_names_are_in_french(service: str, both) -> None:  # type: ignore[no-untyped-def]
    assert_french(*both(lambda: str(service_name(service))))


@pytest.mark.parametrize("value", ["safe", "warning", "blocked", "unknown", "info"])
def test_verdict_and_severity_words_are_in_french(value: str, both) -> None:  # type: ignore[no-untyped-def]
    assert_french(*both(lambda: i18n.word(value)))


# --- summaries, explain, watch: the sentences built outside the catalogue ---------------------------------------


def _result(domain: str, verdict: Verdict, *codes: str) -> Result:
    findings = [Finding(c, CODES[c].severity, (("domain", domain),)) for c in codes]
    return Result(domain, domain, domain, verdict, "worldwide", tuple(findings))


def _report(fmt: type, results: list[Result]) -> str:
    import io

    out = io.StringIO()
    f = fmt(out)
    f.begin()
    s = Summary()
    for r in results:
        f.result(r)
        s.add(r)
    f.end(s)
    return out.getvalue()


BATCHES = {
    "none": [],
    "one safe": [_result("fabrikam.com", Verdict.SAFE)],
    "one blocked": [_result("contoso.com", Verdict.BLOCKED, "MX_M365", "SPF_M365")],
    "mixed": [
        _result("contoso.com", Verdict.BLOCKED, "MX_M365"),
        _result("fabrikam.com", Verdict.SAFE),
        _result("leftovers.org", Verdict.WARNING, "SPF_M365"),
        _result("gone.example", Verdict.UNKNOWN, "DOMAIN_NXDOMAIN"),
    ],
    "all safe": [_result("fabrikam.com", Verdict.SAFE), _result("northwind.com", Verdict.SAFE)],
}
_DOMAINS = ("contoso.com", "fabrikam.com", "leftovers.org", "gone.example", "northwind.com")


@pytest.mark.parametrize("batch", sorted(BATCHES))
@pytest.mark.parametrize("fmt", [TableFormat, NagiosFormat])
def test_every_summary_line_is_in_french(fmt: type, batch: str, both) -> None:  # type: ignore[no-untyped-def]
    en, fr = both(lambda: _report(fmt, BATCHES[batch]))
    # Nagios' status word (OK, CRITICAL...), the codes and the performance data are for machines: they stay.
    machine = re.compile(r"^DNSCHECK [A-Z]+ - |\|.*$", re.M)
    assert_french(machine.sub("", en), machine.sub("", fr), (*_DOMAINS, *CODES))
    if fmt is NagiosFormat:
        assert machine.findall(en) == machine.findall(fr)


def test_the_table_s_machine_parts_stay_and_its_words_change(both) -> None:  # type: ignore[no-untyped-def]
    en, fr = both(lambda: _report(TableFormat, BATCHES["mixed"]))
    assert "MX_M365" in fr and "bloqué" in fr and "Bilan : bloqué" in fr and "DOMAINE" in fr
    assert "blocked" in en


def test_explain_is_in_french(both) -> None:  # type: ignore[no-untyped-def]
    from dnscheck.models import Answered, Observations, Undetermined

    mx = Answered("contoso.com", "MX", (Record("contoso.com", "MX", "0 mx.contoso.com", 3600),))
    ns = Undetermined("contoso.com", "NS", "no answer (timed out)")
    empty = Answered("contoso.com", "TXT")
    obs = Observations("contoso.com", "contoso.com", mx, ns, empty, empty, empty)
    r = _result("contoso.com", Verdict.UNKNOWN)
    en, fr = both(lambda: "\n".join(explain(obs, r, "resolver 127.0.0.1")))
    data = (
        "contoso.com",
        "mx.contoso.com",
        "127.0.0.1",
        "NOERROR",
        "NODATA",
        "MX",
        "NS",
        "TXT",
        "3600",
        "ms",
    )
    assert_french(en, fr, data)


def test_watch_lines_are_in_french(both) -> None:  # type: ignore[no-untyped-def]
    from dnscheck.watch import DomainState, WatchState, _record_event, _show, observe

    def lines() -> str:
        state = WatchState(None)
        out = [e.text for e in observe(state, _result("contoso.com", Verdict.BLOCKED, "MX_M365"), 0.0)]
        out += [e.text for e in observe(state, _result("contoso.com", Verdict.SAFE), 60.0)]
        key = ("resolver", "contoso.com", "MX")
        d = DomainState()
        out.append(_record_event(0, "contoso.com", key, ("0 a.example",), (), d).text)
        out.append(_record_event(0, "contoso.com", key, (), ("0 b.example",), d).text)
        out.append(_show([]))
        out.append(_show([str(i) for i in range(6)]))
        return "\n".join(out)

    en, fr = both(lines)
    assert_french(en, fr, ("contoso.com", "MX_M365", "resolver", "a.example", "b.example"))


# --- every reason and error the code writes has a shape in dnscheck.reasons ---------------------------------------

# call name -> which positional argument is English text shown to the user (and keyword arguments that are)
_TEXT_ARGS = {
    "Undetermined": ((2,), ()),
    "Invalid": ((1,), ()),
    "Delegation": ((), ("failure",)),
    "Chain": ((), ("failure",)),
    "ConfigError": ((0, 1), ()),
    "ZoneFileError": ((0, 1), ()),
    "DnscheckError": ((0, 1), ()),
    "StateError": ((0, 1), ()),
    "FetchError": ((0,), ()),
    "TenantError": ((0,), ()),
    "MtaSts": ((), ("failure",)),
    "_corrupt": ((1,), ()),
}


def _sample(node: object) -> str | None:
    """The text a literal, f-string or `literal + value` argument produces, with `x1` for each value."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "x1" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left), _sample(node.right)
        return None if left is None and right is None else (left or "x1") + (right or "x1")
    return None


def _texts() -> list[tuple[str, str]]:
    import ast

    out = []
    for path in sorted((ROOT / "dnscheck").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in _TEXT_ARGS:
                continue
            positions, keywords = _TEXT_ARGS[name]
            args = [node.args[i] for i in positions if i < len(node.args)]
            args += [k.value for k in node.keywords if k.arg in keywords]
            for a in args:
                text = _sample(a)
                if text and text.strip() != "x1" and not text.startswith("x1: x1"):
                    out.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return out


@pytest.mark.parametrize(("where", "text"), _texts())
def test_every_reason_and_error_written_in_the_code_has_a_french_shape(where: str, text: str, both) -> None:  # type: ignore[no-untyped-def]
    if not [w for w in _WORD.findall(text) if w.lower() not in _OK and w != "x1"]:
        return  # nothing to translate ("HTTP 503")
    en, fr = both(lambda: str(translate(text)))
    assert fr != en, f"{where}: no shape in dnscheck/reasons.py matches {text!r}"


# --- every message id of the template, and the runbook as a whole ---------------------------------------------------


def _template_ids() -> list[object]:
    from babel.messages.pofile import read_po

    with open(ROOT / "dnscheck" / "locale" / "dnscheck.pot", "rb") as f:
        return [m.id for m in read_po(f) if m.id]


_DATA = {
    **SAMPLE,
    **_FIELDS,
    "on": "2026-11-27",
    "ready_at": "2026-11-27T10:30:00Z",
    "steps": "save-data",
    "step": "save-data",
    "domains": "contoso.com",
    "verdict": "blocked",
    "severity": "warning",
    "minimum": "1",
}


@pytest.mark.parametrize("msgid", _template_ids(), ids=lambda m: str(m)[:60])
def test_every_message_id_is_in_french(msgid: object, both) -> None:  # type: ignore[no-untyped-def]
    """Whatever built it (catalogue, formats, help, runbook), no message is left in English."""
    forms = [(msgid, 1)] if isinstance(msgid, str) else [(msgid, 1), (msgid, 2)]  # type: ignore[list-item]
    for m, n in forms:
        names = fields(m) if isinstance(m, str) else fields(m[0]) | fields(m[1])  # type: ignore[index]
        values = {k: _DATA.get(k, f"data-{k}") for k in names}  # type: ignore[index]

        def render(m: object = m, n: int = n, values: dict[str, object] = values) -> str:
            text = i18n._(m) if isinstance(m, str) else i18n.ngettext(m[0], m[1], n)  # type: ignore[index]
            return text.format(**values) if values else text

        en, fr = both(render)
        assert_french(en, fr, (*(str(v) for v in values.values()), *_RUNBOOK_DATA, "check", "watch"))


def _runbooks() -> dict[str, str]:
    """Runbooks in every status, rendered as a table and as Markdown."""
    import dataclasses
    import io
    from datetime import UTC, date, datetime

    from dnscheck.formats import get_format
    from dnscheck.runbook.model import Ack, Evidence, Said
    from dnscheck.runbook.policy import ARTICLE, POLICIES, Facts
    from dnscheck.runbook.steps import Context, build

    mx = Finding(
        "MX_M365",
        CODES["MX_M365"].severity,
        (("value", "0 contoso-com.mail.protection.outlook.com"), ("service", "Exchange Online")),
        Record("contoso.com", "MX", "0 x"),
        "worldwide",
        "mx",
    )
    failed = Finding(
        "LOOKUP_FAILED",
        CODES["DOMAIN_NXDOMAIN"].severity,
        (("type", "MX"), ("name", "contoso.com"), ("reason", "no answer (timed out)")),
        Record("contoso.com", "MX", ""),
        None,
        "mx",
    )
    results = {
        "blocked": Result("contoso.com", "contoso.com", "contoso.com", Verdict.BLOCKED, "worldwide", (mx,)),
        "unknown": Result("contoso.com", "contoso.com", "contoso.com", Verdict.UNKNOWN, None, (failed,)),
        "safe": Result("contoso.com", "contoso.com", "contoso.com", Verdict.SAFE, None, ()),
    }
    said = (Said("resolver 127.0.0.1:5300", ("10 mx1.newmail.net",), ("ns1.newdns.net",)),)
    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    live = Evidence(
        "contoso.com",
        True,
        "resolver 127.0.0.1:5300",
        "auto",
        "2026-11-27T10:00:00Z",
        "safe",
        said,
        True,
        "2026-11-27T09:30:00Z",
        "2026-11-27T12:30:00Z",
        "given",
    )
    settled = dataclasses.replace(live, changed_at="2026-11-01T00:00:00Z", safe_after="2026-11-01T01:00:00Z")
    facts = Facts(
        cancel_date=date(2026, 11, 27),
        purchased=date(2026, 1, 15),
        licenses=12,
        expired=False,
        expires=date(2026, 12, 31),
    )
    cases = {
        "blocked": (results["blocked"], live, {}, ARTICLE),
        "unknown": (results["unknown"], live, {}, ARTICLE),
        "waiting on caches": (results["safe"], live, {}, ARTICLE),
        "done, acknowledged": (
            results["safe"],
            settled,
            {"save-data": Ack("2026-11-27", ("contoso.com",))},
            ARTICLE,
        ),
        "current policy": (results["safe"], settled, {}, POLICIES["current"]),
    }
    out = {}
    for name, (result, evidence, acks, policy) in cases.items():
        ctx = Context(now, True, {"contoso.com": evidence})
        book = build([result], facts, policy, acks, ctx, "resolver 127.0.0.1:5300")
        book = dataclasses.replace(
            book,
            mode="auto",
            changes=(
                {
                    "domain": "contoso.com",
                    "was": "blocked",
                    "now": "safe",
                    "checked_at": "2026-11-26T10:00:00Z",
                },
            ),
        )
        for fmt in ("table", "markdown"):

            def render(book: object = book, fmt: str = fmt) -> str:
                s = io.StringIO()
                get_format(fmt)(s).runbook(book)
                return s.getvalue()

            out[f"{name} ({fmt})"] = render  # type: ignore[assignment]
    return out  # type: ignore[return-value]


_RUNBOOK_DATA = (
    "contoso.com",
    "contoso-com.mail.protection.outlook.com",
    "mx1.newmail.net",
    "ns1.newdns.net",
    "127.0.0.1:5300",
    "update-mx",
    "change-ns",
    "save-data",
    "remove-domains",
    "cancel-subscription",
    "uninstall-office",
    "article",
    "current",
    "auto",
    "MX_M365",
    "LOOKUP_FAILED",
    "turn-off-recurring-billing",
    "reduce-licences-then-cancel",
    "cancel",
    "STEP",
    "ack",
    "interactive",
    "Exchange",
    "Online",
)


@pytest.mark.parametrize("case", sorted(_runbooks()))
def test_every_runbook_step_and_status_is_in_french(case: str, both) -> None:  # type: ignore[no-untyped-def]
    en, fr = both(_runbooks()[case])
    assert_french(en, fr, _RUNBOOK_DATA)


def test_runbook_titles_and_status_words_are_the_article_s_in_french(both) -> None:  # type: ignore[no-untyped-def]
    from dnscheck.runbook.model import STATUS_WORDS, TITLES

    for msgid in (*TITLES.values(), *STATUS_WORDS.values()):
        assert_french(*both(lambda m=msgid: i18n._(m)))
    _, fr = both(lambda: i18n._(TITLES["update-mx"]))
    assert fr.startswith("Mettre à jour l'enregistrement MX")
