#!/usr/bin/env python3
"""The floor: the queries dnscheck asks for each domain, issued by a bare dnspython asyncio loop.

    python3 bench/floor.py --input FILE --resolver HOST:PORT --concurrency 50 [--mode resolver|auto]

Same names, same record types, same waves, same library calls (dns.asyncresolver for the resolver,
dns.asyncquery.udp_with_fallback for direct questions), the same concurrency in domains; no normalisation, no
per-server limit, no classification, no result objects: one short line per domain on stdout. It mirrors
dnscheck/collect/plan.py and collect/authoritative.py:

- wave 1: MX, NS, TXT, A, AAAA of the domain, `_mta-sts.<domain>` TXT and the 12 Microsoft 365 names, all at
  once; a CNAME-typed name whose CNAME does not point at Microsoft is followed (up to 8 hops);
- wave 2: the A (then AAAA when the name exists without an A) of every MX host that is not Microsoft's, whose
  answer also carries the host's CNAME chain; an address found is kept for the run, like dnscheck's run cache;
  in `--mode resolver`, the domain's MX again with AD set (dnscheck's DNSSEC view of the resolver);
- `--mode auto`, unless the domain is NXDOMAIN: the parent zone's NS and its servers' A/AAAA through the
  resolver (once per parent zone and run), the referral from each parent server, the A/AAAA of name server
  hosts without glue (once per host and run), then SOA, NS (zone), MX and TXT from every delegated server
  address, all at once (`--mode authoritative`: and the 10 names too).

bench/fleet.py checks that it sends the resolver as many queries as dnscheck does (Unbound's statistics).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.nameserver
import dns.rdatatype
import dns.resolver

NAMES = (
    ("autodiscover", "CNAME"),
    ("selector1._domainkey", "CNAME"),
    ("selector2._domainkey", "CNAME"),
    ("_sipfederationtls._tcp", "SRV"),
    ("_sip._tls", "SRV"),
    ("sip", "CNAME"),
    ("lyncdiscover", "CNAME"),
    ("enterpriseregistration", "CNAME"),
    ("enterpriseenrollment", "CNAME"),
    ("msoid", "CNAME"),
    ("_autodiscover._tcp", "SRV"),
    ("autodiscover.service", "CNAME"),
)
MICROSOFT = (
    "outlook.com",
    "mx.microsoft",
    "onmicrosoft.com",
    "dkim.mail.microsoft",
    "lync.com",
    "windows.net",
    "manage.microsoft.com",
    "microsoftonline-p.net",
    "office365.us",
    "outlook.cn",
    "outlook.de",
    "microsoftonline.com",
)
EDNS_PAYLOAD = 1232


def microsoft(host: str) -> bool:
    return any(host == s or host.endswith("." + s) for s in MICROSOFT)


class Floor:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        r = dns.asyncresolver.Resolver(configure=False)
        r.nameservers = [dns.nameserver.Do53Nameserver(host, port)]
        r.use_edns(0, 0, EDNS_PAYLOAD)
        r.lifetime = timeout
        r.timeout = max(0.2, min(2.0, timeout / 3))
        r.cache = None
        self.resolver = r
        self.timeout = timeout
        self.host, self.port = host, port
        self.queries = 0
        # Once per run, as dnscheck's run cache: a parent zone's servers, a name server host's addresses.
        self.parents: dict[str, asyncio.Future[list[str]]] = {}
        self.hosts: dict[str, asyncio.Future[list[str]]] = {}
        # Once per run while it has an address, as dnscheck's: an MX host's A (then AAAA).
        self.mx_hosts: dict[str, asyncio.Future[bool]] = {}

    async def ask(self, name: str, rdtype: str) -> tuple[dns.message.Message | None, bool]:
        """(response, nxdomain) through the resolver."""
        self.queries += 1
        try:
            answer = await self.resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return None, True
        except dns.exception.DNSException:
            return None, False
        return answer.response, False

    async def direct(
        self, address: str, name: str, rdtype: str, timeout: float
    ) -> dns.message.Message | None:
        self.queries += 1
        q = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        q.flags &= ~dns.flags.RD
        try:
            response, _ = await dns.asyncquery.udp_with_fallback(q, address, timeout=timeout)
        except (dns.exception.DNSException, OSError):
            return None
        return response

    async def validated(self, domain: str) -> None:
        self.queries += 1
        q = dns.message.make_query(domain, "MX", use_edns=0, payload=EDNS_PAYLOAD)
        q.flags |= dns.flags.AD
        with contextlib.suppress(dns.exception.DNSException, OSError):
            await dns.asyncquery.udp_with_fallback(q, self.host, timeout=self.timeout, port=self.port)

    async def chain(self, name: str, rdtype: str) -> None:
        seen = {name}
        for _ in range(8):
            response, _ = await self.ask(name, rdtype)
            if rdtype != "CNAME" or response is None:
                return
            targets = [
                rd.target.to_text(omit_final_dot=True).lower()
                for rrset in response.answer
                if rrset.rdtype == dns.rdatatype.CNAME
                for rd in rrset
            ]
            if not targets or microsoft(targets[-1]) or targets[-1] in seen:
                return
            name = targets[-1]
            seen.add(name)

    async def domain(self, domain: str, mode: str) -> str:
        wave1 = [self.ask(domain, t) for t in ("MX", "NS", "TXT", "A", "AAAA")]
        wave1 += [self.chain(f"{prefix}.{domain}", t) for prefix, t in NAMES]
        wave1.append(self.ask(f"_mta-sts.{domain}", "TXT"))  # MTA-STS (RFC 8461); the fleet publishes none
        (mx, _), (ns, nx), *_ = await asyncio.gather(*wave1)
        hosts = sorted(
            {
                rd.exchange.to_text(omit_final_dot=True).lower()
                for rrset in (mx.answer if mx else ())
                if rrset.rdtype == dns.rdatatype.MX
                for rd in rrset
            }
        )
        wave2 = [self.mx_address(h) for h in hosts if h and not microsoft(h)]
        if mode == "resolver":  # dnscheck's DNSSEC view: the MX again, with AD set (collect/dnssec_query.py)
            wave2.append(self.validated(domain))
        if mode != "resolver" and not nx and ns is not None:
            wave2.append(self.probe(domain, ns, everything=mode == "authoritative"))
        await asyncio.gather(*wave2)
        return domain

    async def mx_address(self, host: str) -> None:
        known = self.mx_hosts.get(host)
        if known is None or (known.done() and not known.result()):
            known = self.mx_hosts[host] = asyncio.ensure_future(self.mx_address_lookup(host))
        await asyncio.shield(known)

    async def mx_address_lookup(self, host: str) -> bool:
        """A, and AAAA only when the name exists without an A: whether the host has an address."""
        for rdtype in ("A", "AAAA"):
            response, _ = await self.ask(host, rdtype)
            if response is None:
                return False
            if any(rrset.rdtype == dns.rdatatype.from_text(rdtype) for rrset in response.answer):
                return True
        return False

    async def parent_servers(self, parent: str) -> list[str]:
        pns, _ = await self.ask(parent, "NS")
        parent_hosts = [
            rd.target.to_text(omit_final_dot=True)
            for rrset in (pns.answer if pns else ())
            if rrset.rdtype == dns.rdatatype.NS
            for rd in rrset
        ]
        return await self.addresses(parent_hosts)

    async def probe(self, zone: str, ns: dns.message.Message, everything: bool) -> None:
        parent = zone.partition(".")[2]
        if parent not in self.parents:  # once per parent zone, shared by every domain under it
            self.parents[parent] = asyncio.ensure_future(self.parent_servers(parent))
        addrs = await asyncio.shield(self.parents[parent])
        referrals = await asyncio.gather(*(self.direct(a, zone, "NS", 0.8) for a in addrs))
        hosts: dict[str, list[str]] = {}
        glue: dict[str, list[str]] = {}
        for r in referrals:
            for rrset in (r.authority + r.answer) if r else ():
                if rrset.rdtype == dns.rdatatype.NS:
                    for rd in rrset:
                        hosts.setdefault(rd.target.to_text(omit_final_dot=True).lower(), [])
            for rrset in r.additional if r else ():
                if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    for rd in rrset:
                        glue.setdefault(rrset.name.to_text(omit_final_dot=True).lower(), []).append(
                            rd.address
                        )
        for rrset in ns.answer:
            if rrset.rdtype == dns.rdatatype.NS:
                for rd in rrset:
                    hosts.setdefault(rd.target.to_text(omit_final_dot=True).lower(), [])
        missing = [h for h in hosts if h not in glue]
        server_addrs = [a for h in hosts for a in dict.fromkeys(glue.get(h, []))]
        server_addrs += await self.addresses(missing)
        questions = [(zone, "SOA"), (zone, "NS"), (zone, "MX"), (zone, "TXT")]
        if everything:
            questions += [(f"{prefix}.{zone}", t) for prefix, t in NAMES]
        await asyncio.gather(*(self.direct(a, n, t, 2.0) for a in server_addrs for n, t in questions))

    async def addresses(self, hosts: list[str]) -> list[str]:
        """A and AAAA of each host, looked up once per host and run, like dnscheck's run cache."""
        for h in hosts:
            if h not in self.hosts:
                self.hosts[h] = asyncio.ensure_future(self.host_addresses(h))
        found = await asyncio.gather(*(asyncio.shield(self.hosts[h]) for h in hosts))
        return list(dict.fromkeys(a for addrs in found for a in addrs))

    async def host_addresses(self, host: str) -> list[str]:
        answers = await asyncio.gather(*(self.ask(host, t) for t in ("A", "AAAA")))
        return [
            rd.address
            for r, _ in answers
            for rrset in (r.answer if r else ())
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
            for rd in rrset
        ]


async def run(names: list[str], floor: Floor, concurrency: int, mode: str) -> None:
    sem = asyncio.Semaphore(concurrency)
    out = sys.stdout

    async def one(name: str) -> None:
        async with sem:
            await floor.domain(name, mode)
            out.write(name + "\n")

    # Like dnscheck's runner: a bounded window of tasks, not one task per line up front.
    pending: set[asyncio.Task[None]] = set()
    for name in names:
        if len(pending) >= concurrency * 4:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        pending.add(asyncio.ensure_future(one(name)))
    if pending:
        await asyncio.wait(pending)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True)
    p.add_argument("--resolver", required=True, help="HOST:PORT")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--mode", choices=("resolver", "auto", "authoritative"), default="resolver")
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()
    host, _, port = args.resolver.rpartition(":")
    with open(args.input) as f:
        names = [s for line in f if (s := line.strip()) and not s.startswith("#")]
    floor = Floor(host, int(port), args.timeout)
    asyncio.run(run(names, floor, args.concurrency, args.mode))
    print(f"# {len(names)} domains, {floor.queries} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
