"""Collect MTA-STS: the `_mta-sts` TXT record, and the policy over HTTPS as RFC 8461 section 3.3 says.

The policy is fetched from https://mta-sts.<domain>/.well-known/mta-sts.txt with the certificate checked, no
redirect followed, the size capped and a 200 `text/plain` answer required, within the domain's deadline. Any
failure is kept as a reason: MTA-STS never decides the MX verdict, so it is a warning, never `safe`.
"""

from __future__ import annotations

from dnscheck.collect.web import FetchError, Web
from dnscheck.models import Answered, Lookup
from dnscheck.mtasts import MtaSts, PolicyError, parse_policy, parse_txt, sts_records

MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 section 3.3 lets senders cap the size; real policies are < 1 KiB


def policy_url(domain: str) -> str:
    return f"https://mta-sts.{domain}/.well-known/mta-sts.txt"


async def collect_mta_sts(domain: str, txt: Lookup, web: Web | None, deadline: float) -> MtaSts | None:
    """None when the domain publishes no MTA-STS. `web` None: do not fetch (--no-https, --zone-file)."""
    if not isinstance(txt, Answered):
        return MtaSts(txt)
    records = sts_records(txt)
    if not records:
        return None
    url = policy_url(domain)
    if len(records) > 1:
        why = f"{len(records)} TXT records start with v=STSv1; senders ignore them all (RFC 8461 section 3.1)"
        return MtaSts(txt, records[0], url=url, failure=why)
    record = records[0]
    try:
        policy_id = parse_txt(record.value)
    except PolicyError as e:
        return MtaSts(txt, record, url=url, failure=f"{e}; senders ignore it (RFC 8461 section 3.1)")
    if web is None:
        return MtaSts(txt, record, policy_id, url)
    try:
        text = await fetch_policy(web, url, deadline)
        policy = parse_policy(text)
    except (FetchError, PolicyError) as e:
        return MtaSts(txt, record, policy_id, url, fetched=True, failure=str(e))
    return MtaSts(txt, record, policy_id, url, fetched=True, policy=policy)


async def fetch_policy(web: Web, url: str, deadline: float) -> str:
    got = await web.get(url, deadline, MAX_POLICY_BYTES)
    if got.status != 200:
        location = got.headers.get("location", "")[:200]  # the server's text: kept short
        where = f" to {location}" if 300 <= got.status < 400 and location else ""
        raise FetchError(f"HTTP {got.status}{where} (senders need 200 and follow no redirect)")
    if got.content_type != "text/plain":
        raise FetchError(f"served as {got.content_type or 'no media type'}, not text/plain")
    try:
        return got.body.decode("utf-8")
    except UnicodeDecodeError:
        raise FetchError("the policy is not UTF-8 text") from None
