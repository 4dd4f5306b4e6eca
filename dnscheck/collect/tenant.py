"""--tenant-check: ask Microsoft's sign-in service whether a tenant holds the domain (see dnscheck/tenant.py).

Per domain: one OpenID discovery request and one user-realm request, to the worldwide login host; when the answer
names another cloud (US Government, China), the same two requests to that cloud's login host, which has the
last word. The user-realm request carries a fixed placeholder local part, never a real user name. The login host
names are resolved through the check's resolver; answers are cached per run (web.Web), so a domain given twice is
asked once.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from dnscheck.collect.web import Fetched, FetchError, Web, retry_after_text
from dnscheck.tenant import CLOUDS, WORLDWIDE, TenantError, TenantStatus, read_openid, read_realm

PLACEHOLDER = "dnscheck-tenant-probe"  # a fixed local part: never a real user, never enumeration
MAX_BYTES = 256 * 1024


class TenantCheck:
    def __init__(self, web: Web, expected: tuple[str, ...] = ()) -> None:
        self.web = web
        self.expected = tuple(e.lower() for e in expected)

    async def status(self, domain: str, deadline: float) -> TenantStatus:
        first = await self._ask(domain, WORLDWIDE, deadline)
        named = first.cloud_instance
        if first.status.failure is None and named is not None and named != WORLDWIDE and named in CLOUDS:
            there = (await self._ask(domain, named, deadline)).status
            if (
                there.state == "absent"
            ):  # the worldwide service named this cloud: "absent" here is a contradiction
                why = f"the worldwide service names the cloud {named} but that cloud knows no tenant for the domain"
                return _unknown(domain, why, None)
            return there
        if named is not None and named not in CLOUDS and first.status.failure is None:
            return _unknown(domain, f"the answer names a cloud dnscheck does not know: {named[:60]!r}", None)
        return first.status

    async def _ask(self, domain: str, instance: str, deadline: float) -> _Answer:
        cloud, host = CLOUDS[instance]
        openid_url = f"https://{host}/{quote(domain)}/.well-known/openid-configuration"
        realm_url = f"https://{host}/getuserrealm.srf?login={quote(PLACEHOLDER + '@' + domain)}&json=1"
        openid, realm = await asyncio.gather(
            self._get(openid_url, deadline), self._get(realm_url, deadline), return_exceptions=True
        )
        try:
            tenant = read_openid(*_parts(openid_url, openid, ok=(200, 400)))
        except (FetchError, TenantError) as e:
            return _Answer(_unknown(domain, _why(e), openid_url), None)
        try:
            namespace, fed_host, realm_cloud = read_realm(*_parts(realm_url, realm, ok=(200,)))
        except (FetchError, TenantError) as e:
            if tenant is None:
                return _Answer(_unknown(domain, _why(e), realm_url), None)
            # The tenant fact stands; only the sign-in type is unknown.
            return _Answer(
                TenantStatus(domain, "present", tenant[0], cloud, None, None, _why(e), realm_url), tenant[1]
            )
        return _Answer(*_combine(domain, cloud, tenant, namespace, fed_host, realm_cloud, openid_url))

    async def _get(self, url: str, deadline: float) -> Fetched:
        return await self.web.get(url, deadline, MAX_BYTES, cache=True)


class _Answer:
    def __init__(self, status: TenantStatus, cloud_instance: str | None) -> None:
        self.status = status
        self.cloud_instance = cloud_instance


def _combine(
    domain: str,
    cloud: str,
    tenant: tuple[str, str] | None,
    namespace: str,
    fed_host: str | None,
    realm_cloud: str | None,
    url: str,
) -> tuple[TenantStatus, str | None]:
    if tenant is None:
        if namespace != "Unknown":
            why = f"the discovery document says no tenant but the user realm says {namespace}"
            return _unknown(domain, why, url), None
        return TenantStatus(domain, "absent", cloud=cloud, namespace=namespace), None
    tenant_id, instance = tenant
    # The cloud to follow: the discovery document's, else the user realm's.
    follow = instance if instance != WORLDWIDE else (realm_cloud or instance)
    return TenantStatus(domain, "present", tenant_id, cloud, namespace, fed_host), follow


def _parts(url: str, got: Fetched | BaseException, ok: tuple[int, ...]) -> tuple[int, str, bytes]:
    if isinstance(got, FetchError):
        raise got
    if isinstance(got, BaseException):
        raise got
    if got.status == 429 or (got.status == 503 and "retry-after" in got.headers):
        after = retry_after_text(got)
        wait = f", Retry-After {after}" if after else ""
        raise FetchError(f"rate limited (HTTP {got.status}{wait}) beyond --timeout")
    if got.status not in ok:
        raise TenantError(f"HTTP {got.status}")
    return got.status, got.content_type, got.body


def _why(e: Exception) -> str:
    return e.reason if isinstance(e, FetchError) else str(e)


def _unknown(domain: str, why: str, url: str | None) -> TenantStatus:
    return TenantStatus(domain, "unknown", failure=why, failed_at=url)
