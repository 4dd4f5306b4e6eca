"""normalise(): every accepted input form, and every rejection with a message a person can act on."""

from __future__ import annotations

import re

import pytest

from dnscheck.normalise import MAX_INPUT, Invalid, Target, normalise


def ok(raw: str) -> Target:
    result = normalise(raw)
    assert isinstance(result, Target), f"{raw!r} was rejected: {result}"
    return result


def bad(raw: str) -> Invalid:
    result = normalise(raw)
    assert isinstance(result, Invalid), f"{raw!r} was accepted as {result}"
    assert result.reason and "\n" not in result.reason and len(result.reason) < 300
    assert "Traceback" not in result.reason
    return result


# ------------------------------------------------------------------------------------------------ accepted


@pytest.mark.parametrize(
    ("raw", "domain", "registered"),
    [
        # bare names, case, trailing dot, surrounding white space
        ("contoso.com", "contoso.com", "contoso.com"),
        ("CONTOSO.COM", "contoso.com", "contoso.com"),
        ("Contoso.Com.", "contoso.com", "contoso.com"),
        ("  contoso.com\t", "contoso.com", "contoso.com"),
        ("contoso.com\r\n", "contoso.com", "contoso.com"),
        # subdomains are checked as given, registered domain beside them
        ("mail.contoso.co.uk", "mail.contoso.co.uk", "contoso.co.uk"),
        ("a.b.c.contoso.com", "a.b.c.contoso.com", "contoso.com"),
        ("www.contoso.com", "www.contoso.com", "contoso.com"),
        # URLs, with ports, credentials, paths, queries and fragments
        ("https://Contoso.com/owa/", "contoso.com", "contoso.com"),
        ("HTTPS://CONTOSO.COM", "contoso.com", "contoso.com"),
        ("http://contoso.com:8080/", "contoso.com", "contoso.com"),
        ("https://user:secret@contoso.com:8443/owa/?x=1#frag", "contoso.com", "contoso.com"),
        ("http://user:p%40ss@contoso.com:80/x", "contoso.com", "contoso.com"),
        ("ftp://contoso.com", "contoso.com", "contoso.com"),
        ("https://contoso.com./", "contoso.com", "contoso.com"),
        ("https://Bücher-Haus.de/", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        # host:port without a scheme
        ("contoso.com:25", "contoso.com", "contoso.com"),
        ("contoso.com.:443", "contoso.com", "contoso.com"),
        # e-mail addresses, with plus-tags, dots and odd local parts
        ("Admin@Contoso.com", "contoso.com", "contoso.com"),
        ("first.last+tag@Contoso.com", "contoso.com", "contoso.com"),
        ("user+a+b@sub.contoso.com", "sub.contoso.com", "contoso.com"),
        ("user@contoso.com.", "contoso.com", "contoso.com"),
        ("mailto:someone@contoso.com", "contoso.com", "contoso.com"),
        ('"odd@local"@contoso.com', "contoso.com", "contoso.com"),
        # Unicode -> A-label (IDNA 2008, UTS #46 non-transitional: ß stays ß)
        ("Bücher-Haus.de", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        ("BÜCHER-HAUS.DE.", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        ("faß.de", "xn--fa-hia.de", "xn--fa-hia.de"),
        ("münchen.de", "xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("admin@Bücher-Haus.de", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        # A-labels given directly, any case
        ("xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        ("XN--BCHER-HAUS-9DB.DE", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        # full-width forms and the ideographic full stops UTS #46 maps to "."
        ("Ｃｏｎｔｏｓｏ．ｃｏｍ", "contoso.com", "contoso.com"),
        ("contoso。com", "contoso.com", "contoso.com"),
        ("contoso｡com", "contoso.com", "contoso.com"),
        ("bücher-haus.de。", "xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de"),
        # names that look numeric but are not addresses
        ("123.com", "123.com", "123.com"),
        ("1.2.3.4.nip.io", "1.2.3.4.nip.io", "nip.io"),
        # bracketed names are unwrapped
        ("[contoso.com]", "contoso.com", "contoso.com"),
    ],
)
def test_accepted_forms(raw: str, domain: str, registered: str) -> None:
    t = ok(raw)
    assert (t.domain, t.registered_domain) == (domain, registered)
    # the line is reported as given, except a URL's user:password, which is never echoed
    assert t.input == re.sub(r"^([a-z]+://)[^/@]*@", r"\1***@", raw)


def test_confusable_cyrillic_is_its_own_a_label() -> None:
    """Decision: a confusable name is a different domain, and is checked as that domain, shown as its A-label.

    `аpple.com` with a Cyrillic `а` (U+0430) is not apple.com: it normalises to xn--pple-43d.com, which is
    what DNS would be asked and what the report shows, so nobody mistakes it for the Latin name.
    docs/security.md.
    """
    t = ok("\u0430pple.com")
    assert t.domain == "xn--pple-43d.com"
    assert t.domain != ok("apple.com").domain
    mixed = ok("ex\u0430mple.com")  # one Cyrillic letter in a Latin word
    assert mixed.domain.startswith("xn--")


def test_label_and_name_limits_are_exact() -> None:
    ok("a" * 63 + ".com")
    name253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])
    assert len(name253) == 253
    assert ok(name253).domain == name253
    assert ok(name253 + ".").domain == name253  # the trailing dot does not count


# ------------------------------------------------------------------------------------------------ rejected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\t\n", "empty"),
        (".", "no domain name"),
        ("..", "empty label"),
        ("...", "empty label"),
        ("contoso..com", "empty label"),
        (".contoso.com", "empty label"),
        ("contoso.com..", "empty label"),
        ("bücher-haus。。de", "empty label"),
        ("*.contoso.com", "letters, digits and inner hyphens"),
        ("-contoso.com", "letters, digits and inner hyphens"),
        ("contoso-.com", "letters, digits and inner hyphens"),
        ("con_toso.com", "letters, digits and inner hyphens"),
        ("_dmarc.contoso.com", "letters, digits and inner hyphens"),
        ("contoso.com/owa", "letters, digits and inner hyphens"),
        ("contoso .com", "white space"),
        ("contoso.com extra", "white space"),
        ("contoso.com\x00", "control"),
        ("\x00", "control"),
        ("conto\x07so.com", "control"),
        ("\x1b[31mcontoso.com", "control"),
        ("contoso.com\x7f", "control"),
        ("conto\x9bso.com", "control"),  # C1 CSI
        ("\u202econtoso.com", "control or invisible"),  # RIGHT-TO-LEFT OVERRIDE
        ("contoso\u2066.com", "control or invisible"),  # LEFT-TO-RIGHT ISOLATE
        ("cont\u200boso.com", "control or invisible"),  # ZERO WIDTH SPACE
        ("a\u200cb.com", "control or invisible"),  # ZERO WIDTH NON-JOINER
        ("cont\u00adoso.com", "control or invisible"),  # SOFT HYPHEN
        ("\ufeffcontoso.com", "control or invisible"),  # BOM
        ("conto\u2028so.com", "control or invisible"),  # LINE SEPARATOR inside
        ("1.2.3.4", "IP address"),
        ("192.168.1.1.", "IP address"),
        ("1.2.3.4:80", "IP address"),
        ("0.0.0.0", "IP address"),
        ("::1", "IP address"),
        ("2001:db8::1", "IP address"),
        ("[::1]", "IP address"),
        ("[::1]:53", "IP address"),
        ("[2001:db8::1]:8080", "IP address"),
        ("::ffff:1.2.3.4", "IP address"),
        ("http://[::1]:80/", "IP address"),
        ("http://192.0.2.1/owa", "IP address"),
        ("user@[192.0.2.1]", "IP address"),
        ("user@[IPv6:2001:db8::1]", "IP address"),
        ("127.1", "numeric label"),
        ("1.2.3", "numeric label"),
        ("0x7f.1", "numeric label"),
        ("contoso.123", "numeric label"),
        ("co.uk", "public suffix"),
        ("com", "public suffix"),
        ("COM.", "public suffix"),
        ("localhost", "public suffix"),
        ("localhost.", "public suffix"),
        ("example", "public suffix"),
        ("a.b", "public suffix"),
        ("xn--a.com", "not valid punycode"),
        ("xn--.com", "letters, digits and inner hyphens"),
        ("☃.net", "internationalised"),
        ("١٢.com", "internationalised"),
        ("@contoso.com", "nothing before '@'"),
        ("user@", "no domain name"),
        ("http://", "no domain name"),
        ("https://contoso.com:99999/", "not a valid URL"),
        ("http://contoso.com:abc/", "not a valid URL"),
    ],
)
def test_rejected_with_a_clear_message(raw: str, says: str) -> None:
    r = bad(raw)
    assert says.lower() in r.reason.lower(), r.reason


def test_label_of_64_octets() -> None:
    r = bad("a" * 64 + ".com")
    assert "64 octets" in r.reason and "63" in r.reason
    assert len(r.reason) < 200  # the label is abbreviated, not echoed in full


def test_label_of_64_octets_after_idna() -> None:
    # 60 characters of Unicode whose A-label is over 63 octets
    label = "äöüéèêëïîôûçàáâãåæøœ" * 3
    assert len(label) <= 63
    r = bad(label + ".com")
    assert "too long" in r.reason or "octets" in r.reason


@pytest.mark.parametrize("length", [254, 255, 300, 1000])
def test_names_over_253_octets(length: int) -> None:
    labels = []
    while sum(len(x) + 1 for x in labels) < length:
        labels.append("a" * 60)
    name = ".".join(labels)[: length - 4] + ".com"
    name = name.replace("..", ".a.")
    assert len(name) >= 254
    r = bad(name)
    assert "limit is 253" in r.reason or "characters long" in r.reason


def test_a_one_megabyte_line_is_rejected_quickly_and_not_echoed_in_full() -> None:
    import time

    line = "a" * (1 << 20)
    t = time.monotonic()
    r = bad(line)
    assert time.monotonic() - t < 0.5
    assert f"{1 << 20} characters" in r.reason
    assert len(r.input) < 300  # cut short for the report
    assert r.input.endswith(f"({1 << 20} characters)")
    # just over the input cap, and a cap-sized line of dots and labels
    bad("a" * (MAX_INPUT + 1))


def test_non_utf8_bytes_as_the_cli_reads_them() -> None:
    """The CLI decodes input files with errors="surrogateescape": the line is reported, with the bytes
    escaped."""
    raw = b"contoso\xff\xfe.com".decode("utf-8", "surrogateescape")
    r = bad(raw)
    assert "not valid UTF-8" in r.reason
    assert r.input == "contoso\\xff\\xfe.com"
    r.input.encode("utf-8")  # printable and encodable: no lone surrogates left in the report
    latin1 = "café.fr".encode("latin-1").decode("utf-8", "surrogateescape")
    assert "UTF-8" in bad(latin1).reason


def test_invalid_input_echo_is_safe_to_encode() -> None:
    for raw in ["\udcff" * 10, "a\x00b", "\u202e" * 3, "x" * 5000]:
        r = bad(raw)
        r.input.encode("utf-8")
        r.reason.encode("utf-8")


def test_no_network_and_no_cache_for_the_suffix_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """tldextract is built with the bundled snapshot only: no suffix list URLs and no cache directory."""
    from dnscheck import normalise as mod

    mod._extractor.cache_clear()
    try:
        ext = mod._extractor()
        assert tuple(ext.suffix_list_urls) == ()
        assert ext._cache.enabled is False
    finally:
        mod._extractor.cache_clear()
