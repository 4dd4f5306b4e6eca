"""Is the domain still in a Microsoft 365 tenant? Reading Microsoft's two public answers, and the findings. Pure.

Two documented, credential-free endpoints of Microsoft's sign-in service (Microsoft Entra ID) answer per domain:

- OpenID Connect discovery, `https://<login host>/<domain>/.well-known/openid-configuration`: the tenant part of
  the path may be a verified domain name. A domain in a tenant answers 200 with the discovery document, whose
  `token_endpoint` and `issuer` carry the tenant id (a GUID) and whose `cloud_instance_name` names the cloud
  (`microsoftonline.com`, `microsoftonline.us`, `partner.microsoftonline.cn`). A domain in no tenant answers 400
  with `{"error": "invalid_tenant", "error_codes": [90002], ...}` (AADSTS90002).
- The user-realm endpoint, `https://<login host>/getuserrealm.srf?login=<name>@<domain>&json=1`: a JSON object
  whose `NameSpaceType` is `Managed`, `Federated` (with `AuthURL`, the federation's sign-in page) or `Unknown`.
  Not documented by Microsoft as an API (public tools rely on it, e.g. github.com/0xZDH/o365spray): it only ever
  adds to the documented discovery answer, and "absent" needs both to agree.

Only those shapes count. Anything else (another status, HTML, JSON of another shape, the two answers disagreeing)
is a failure, and a failure is `unknown`, never "absent": the wrong way round is the dangerous one here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dnscheck.codes import finding
from dnscheck.models import Finding, Severity

# cloud_instance_name -> (dnscheck's cloud, that cloud's login host). Only these hosts are ever asked.
CLOUDS = {
    "microsoftonline.com": ("worldwide", "login.microsoftonline.com"),
    "microsoftonline.us": ("usgov", "login.microsoftonline.us"),
    "partner.microsoftonline.cn": ("china", "login.partner.microsoftonline.cn"),
}
WORLDWIDE = "microsoftonline.com"
# Federation hosts of partners that sell Microsoft 365 and run the tenant for the customer.
PARTNERS = {"godaddy.com": "GoDaddy"}
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
NAMESPACES = ("Managed", "Federated", "Unknown")


@dataclass(frozen=True)
class TenantStatus:
    """--tenant-check for one domain. `state`: "present" (a tenant holds it), "absent" (Microsoft says no tenant
    does) or "unknown" (`failure` says why; never read as absent). A present domain may still carry a `failure`
    (the user-realm answer failed): the tenant fact stands, the namespace is unknown."""

    domain: str
    state: str
    tenant_id: str | None = None
    cloud: str | None = None  # worldwide | usgov | china
    namespace: str | None = None  # Managed | Federated | Unknown (getuserrealm's NameSpaceType)
    federation_host: str | None = None
    failure: str | None = None
    failed_at: str | None = None  # the URL whose answer failed

    @property
    def present(self) -> bool:
        return self.state == "present"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "tenant_id": self.tenant_id,
            "cloud": self.cloud,
            "namespace": self.namespace,
            "federation_host": self.federation_host,
            "failure": self.failure,
            "failed_at": self.failed_at,
        }


class TenantError(ValueError):
    """An answer that is neither documented shape."""


def _json(status: int, content_type: str, body: bytes) -> dict[str, Any]:
    if "json" not in content_type:
        raise TenantError(f"HTTP {status} with {content_type or 'no media type'}, not JSON")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TenantError(f"HTTP {status}: the JSON is not valid (cut short?)") from None
    if not isinstance(doc, dict):
        raise TenantError(f"HTTP {status}: the JSON is not an object")
    return doc


def read_openid(status: int, content_type: str, body: bytes) -> tuple[str, str] | None:
    """(tenant id, cloud_instance_name) for a domain in a tenant, None for a domain in none; raises TenantError."""
    if status not in (200, 400):
        raise TenantError(f"HTTP {status}")
    doc = _json(status, content_type, body)
    if status == 400:
        codes = doc.get("error_codes")
        if doc.get("error") == "invalid_tenant" and isinstance(codes, list) and 90002 in codes:
            return None
        raise TenantError(
            f"HTTP 400 with error {str(doc.get('error'))[:40]!r}, not invalid_tenant (AADSTS90002)"
        )
    ids = {m.lower() for key in ("token_endpoint", "issuer") for m in _GUID.findall(str(doc.get(key, "")))}
    cloud = doc.get("cloud_instance_name")
    if len(ids) != 1 or not isinstance(cloud, str):
        raise TenantError("the discovery document has no single tenant id and cloud_instance_name")
    return ids.pop(), cloud.lower()


def read_realm(status: int, content_type: str, body: bytes) -> tuple[str, str | None, str | None]:
    """(NameSpaceType, federation host, CloudInstanceName); raises TenantError."""
    if status != 200:
        raise TenantError(f"HTTP {status}")
    doc = _json(status, content_type, body)
    namespace = doc.get("NameSpaceType")
    if namespace not in NAMESPACES:
        raise TenantError(f"NameSpaceType is {str(namespace)[:20]!r}, not Managed, Federated or Unknown")
    auth = doc.get("AuthURL") or doc.get("AuthUrl")
    host = urlsplit(auth).hostname if isinstance(auth, str) and namespace == "Federated" else None
    cloud = doc.get("CloudInstanceName")
    return namespace, host, cloud.lower() if isinstance(cloud, str) else None


def partner_of(host: str | None) -> str | None:
    if not host:
        return None
    return next(
        (name for suffix, name in PARTNERS.items() if host == suffix or host.endswith("." + suffix)), None
    )


def classify_tenant(status: TenantStatus, expected: tuple[str, ...]) -> list[Finding]:
    out = []
    if status.failure is not None:
        out.append(
            finding(
                "LOOKUP_FAILED",
                variant="tenant",
                severity=Severity.UNKNOWN,
                domain=status.domain,
                name=status.failed_at or "",
                reason=status.failure,
            )
        )
    if status.state == "absent" and status.failure is None:
        out.append(finding("TENANT_ABSENT", domain=status.domain, cloud=status.cloud))
    if status.state != "present":
        return out
    args: dict[str, Any] = {"domain": status.domain, "tenant_id": status.tenant_id, "cloud": status.cloud}
    if not expected:
        out.append(finding("TENANT_PRESENT", namespace=status.namespace or "?", **args))
    elif status.tenant_id in expected:
        out.append(finding("TENANT_PRESENT_EXPECTED", **args))
    else:
        out.append(finding("TENANT_MOVED", expected=", ".join(expected), **args))
    if status.namespace == "Federated":
        partner = partner_of(status.federation_host)
        out.append(
            finding(
                "TENANT_FEDERATED",
                variant="partner" if partner else None,
                domain=status.domain,
                federation_host=status.federation_host or "?",
                partner=partner or "",
            )
        )
    return out
