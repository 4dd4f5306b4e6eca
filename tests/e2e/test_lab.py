"""The lab itself: the world is consistent, every server and fault behaves as the fixtures say, zones can
change at runtime, and one knotd serves thousands of generated zones (what a benchmark needs)."""

from __future__ import annotations

import json
import socket
import time

import dns.exception
import dns.flags
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from tests.lab import DEFAULT_WORLD, Lab, World
from tests.schema import validate_output


def _ns_names(rrsets) -> set[str]:
    return {rd.target.to_text(omit_final_dot=True) for rrset in rrsets if rrset.rdtype == dns.rdatatype.NS
            for rd in rrset}


def _mx(r) -> list[str]:
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.MX for rd in rrset)


# --- the world as data (no daemons) -----------------------------------------------------------------------

def test_world_zone_files_parse_and_agree_with_the_delegations() -> None:
    world = World.load()
    assert world.delegated_zones(), "no zones in fixtures/world"
    for server in world.servers.values():
        for name, text in server.zones.items():
            zone = dns.zone.from_text(text, origin=name + ".", relativize=False, check_origin=True)
            where = f"{server.name}/{name}.zone"
            assert zone.origin.to_text(omit_final_dot=True) == name, f"{where}: wrong $ORIGIN"
            ns = _ns_names([zone.find_rrset(zone.origin, "NS")])
            for host in ns:
                assert host in world.hosts, f"{where}: NS {host} has no address in world.json"
            # Without a `delegations` entry the parent delegates to the servers that serve the zone, and the
            # zone must agree; with one, a difference is deliberate (the delegation cases of issue 3).
            if name not in world.delegations:
                assert ns == set(world.delegation(name)), f"{where}: NS differ from the parent's delegation"
    for zone in world.delegations:
        assert world.delegation(zone), zone


def test_registry_zones_delegate_every_zone() -> None:
    world = World.load()
    zones = world.registry_zones()
    for tld in ("com", "net", "org", "de", "us", "cn", "microsoft"):
        assert f"{tld}. NS a.nic.{tld}." in zones["."]
    assert "parent-m365.com. NS ns1.bdm.microsoftonline.com." in zones["com"]
    assert "child-stale.com. NS ns1.newdns.net." in zones["com"]
    assert "xn--bcher-haus-9db.de. NS ns1.newdns.net." in zones["de"]
    assert "does-not-exist.com." not in zones["com"]
    for name, text in zones.items():
        dns.zone.from_text(text, origin=name if name == "." else name + ".", relativize=False)


def test_world_json_is_documented() -> None:
    world = World.load()
    spec = json.loads((DEFAULT_WORLD / "world.json").read_text())
    assert all(s.get("about") for s in spec["servers"].values())
    assert set(spec["servers"]) == set(world.servers)


def test_serial_read_from_the_wire_matches_dnspython() -> None:
    from tests.lab import _wire_serial

    q = dns.message.make_query("example.com", "SOA")
    r = dns.message.make_response(q)
    soa = "ns1.example.com. hostmaster.example.com. 2026010203 3600 600 86400 300"
    r.answer.append(dns.rrset.from_text("example.com.", 300, "IN", "SOA", soa))
    assert _wire_serial(r.to_wire()) == 2026010203  # compressed names
    assert _wire_serial(dns.message.make_response(q).to_wire()) is None  # no answer section
    assert _wire_serial(b"\x00\x01") is None


# --- the running lab --------------------------------------------------------------------------------------

@pytest.mark.lab
def test_every_server_answers_authoritatively_for_its_zones(lab: Lab) -> None:
    for name, knot in lab.knots.items():
        for address in knot.addresses:
            for zone in knot.zones:
                r = lab.query(address, zone, "SOA")
                assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, (name, address, zone)


@pytest.mark.lab
def test_lame_server_refuses(lab: Lab) -> None:
    r = lab.query(lab.address_of("ns.lame-dns.net"), "lame-delegation.com", "SOA")
    assert r.rcode() == dns.rcode.REFUSED


@pytest.mark.lab
def test_blackhole_never_answers(lab: Lab) -> None:
    address = lab.address_of("ns.blackhole-dns.net")
    with pytest.raises(dns.exception.Timeout):
        lab.query(address, "blackhole.net", "SOA", timeout=0.3)
    with socket.create_connection((address, 53), timeout=1) as s:  # TCP connects (backlog) ...
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):  # ... but nothing is ever read
            s.recv(1)
    with pytest.raises(dns.exception.Timeout):
        lab.query(address, "blackhole.net", "SOA", tcp=True, timeout=0.3)


@pytest.mark.lab
def test_parent_referrals_come_from_the_tld_server(lab: Lab) -> None:
    tld = lab.world.tld_address
    r = lab.query(tld, "parent-m365.com", "NS")
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AA  # a referral
    assert not r.answer
    assert _ns_names(r.authority) == {f"ns{i}.bdm.microsoftonline.com" for i in range(1, 5)}
    child = lab.query(lab.address_of("ns1.newdns.net"), "parent-m365.com", "NS")
    assert child.flags & dns.flags.AA
    assert _ns_names(child.answer) == {"ns1.newdns.net", "ns2.newdns.net"}

    r = lab.query(tld, "child-stale.com", "NS")
    assert _ns_names(r.authority) == {"ns1.newdns.net", "ns2.newdns.net"}
    child = lab.query(lab.address_of("ns1.newdns.net"), "child-stale.com", "NS")
    assert _ns_names(child.answer) == {f"ns{i}.bdm.microsoftonline.com" for i in range(1, 5)}


@pytest.mark.lab
def test_stale_secondary_serves_the_old_zone(lab: Lab) -> None:
    fresh = lab.query(lab.address_of("ns1.newdns.net"), "stale-secondary.com", "MX")
    stale = lab.query(lab.address_of("ns3.newdns.net"), "stale-secondary.com", "MX")
    assert _mx(fresh) == ["10 mx1.newmail.net."]
    assert _mx(stale) == ["0 stale-secondary-com.mail.protection.outlook.com."]
    serial = {a: lab.query(lab.address_of(a), "stale-secondary.com", "SOA").answer[0][0].serial
              for a in ("ns1.newdns.net", "ns3.newdns.net")}
    assert serial == {"ns1.newdns.net": 2026010102, "ns3.newdns.net": 2026010101}


@pytest.mark.lab
def test_big_txt_is_truncated_over_udp_at_both_hops(lab: Lab) -> None:
    auth = lab.query(lab.address_of("ns1.newdns.net"), "big-txt.com", "TXT", payload=1232)
    assert auth.flags & dns.flags.TC
    resolved = lab.resolve("big-txt.com", "TXT", payload=1232)
    assert resolved.flags & dns.flags.TC
    whole = lab.resolve("big-txt.com", "TXT", tcp=True)
    assert sum(len(rrset) for rrset in whole.answer) == 13


@pytest.mark.lab
def test_resolver_sees_the_world(lab: Lab) -> None:
    assert _mx(lab.resolve("m365-legacy.com", "MX")) == ["0 m365-legacy-com.mail.protection.outlook.com."]
    assert _mx(lab.resolve("china-corp.cn", "MX")) == ["0 china-corp-cn.mail.protection.partner.outlook.cn."]
    assert lab.resolve("does-not-exist.com", "MX").rcode() == dns.rcode.NXDOMAIN
    assert lab.resolve("refused.net", "MX").rcode() == dns.rcode.SERVFAIL


@pytest.mark.lab
def test_zones_change_at_runtime(lab: Lab, dnscheck) -> None:
    """What `watch` needs: a zone appears, changes and disappears while everything runs."""
    zone = "runtime-change.org"

    def text(serial: int, mx: str) -> str:
        return (f"$ORIGIN {zone}.\n$TTL 300\n"
                f"@ SOA ns1.newdns.net. hostmaster.newdns.net. {serial} 3600 600 86400 300\n"
                f"@ NS ns1.newdns.net.\n@ NS ns2.newdns.net.\n@ MX {mx}\n")

    def verdict() -> tuple[str, int]:
        run = dnscheck("check", zone, "-f", "json")
        [result] = validate_output(run.stdout, "json")
        return result["verdict"], run.rc

    assert verdict() == ("unknown", 3)  # NXDOMAIN: not delegated yet (and now negatively cached)
    lab.set_zone("newdns", zone, text(1, "0 runtime-change-org.mail.protection.outlook.com."))
    assert verdict() == ("blocked", 2)
    lab.set_zone("newdns", zone, text(2, "10 mx1.newmail.net."))
    assert verdict() == ("safe", 0)
    lab.remove_zone("newdns", zone)
    assert lab.resolve(zone, "SOA").rcode() == dns.rcode.NXDOMAIN
    assert zone not in lab.world.registry_zones()["org"]


@pytest.mark.lab
def test_a_generated_world_with_thousands_of_zones(lab_available: None) -> None:
    """The benchmark path: a World built in code, 2,000 zones on one knotd, on addresses of its own."""
    n = 2000
    world = World(servers={}, hosts={}, resolver_address=("127.0.20.1", 5300), root_address="127.0.20.2",
                  tld_address="127.0.20.3")
    world.add_server("bulk", {"ns1.bulkdns.net": "127.0.20.11", "ns2.bulkdns.net": "127.0.20.12"}, workers=2)
    for i in range(n):
        name = f"bulk{i}.com"
        world.add_zone("bulk", name, f"$ORIGIN {name}.\n$TTL 300\n"
                       "@ SOA ns1.bulkdns.net. h.bulkdns.net. 1 3600 600 86400 300\n"
                       "@ NS ns1.bulkdns.net.\n@ NS ns2.bulkdns.net.\n"
                       f"@ MX 0 bulk{i}-com.mail.protection.outlook.com.\n")
    t0 = time.monotonic()
    with Lab.start(world) as big:
        started = time.monotonic() - t0
        for i in (0, n // 2, n - 1):
            assert _mx(big.resolve(f"bulk{i}.com", "MX")) == [f"0 bulk{i}-com.mail.protection.outlook.com."]
        assert big.resolve(f"bulk{n}.com", "MX").rcode() == dns.rcode.NXDOMAIN
    assert started < 20, f"{n} zones took {started:.1f}s to start"
