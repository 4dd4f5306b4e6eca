"""The Microsoft 365 clouds dnscheck recognises: one place for their keys and their names."""

from __future__ import annotations

from dnscheck.i18n import N_, _

# key (as in JSON's `cloud` and the fingerprints) -> display name (a message id)
CLOUDS: dict[str, str] = {
    "worldwide": N_("worldwide"),
    "usgov": N_("US Government"),
    "china": N_("21Vianet China"),
    "germany": N_("legacy Germany"),
}


def cloud_name(cloud: str | None) -> str:
    """The cloud's name in the user's language ("Microsoft 365" when the cloud is not known)."""
    return _(CLOUDS[cloud]) if cloud in CLOUDS else "Microsoft 365"


# The services the fingerprints name (dnscheck.fingerprints: `service`) whose names have words to translate;
# the others are product names (Exchange Online, Proofpoint...). A finding's `service` argument keeps the English
# name (JSON); reports show it through `service_name`.
SERVICES: tuple[str, ...] = (
    N_("Exchange Online (Microsoft Cloud Deutschland, legacy)"),
    N_("Exchange Online (deprecated MX)"),
    N_("Exchange Online sending"),
    N_("Intune / Entra device registration"),
    N_("Microsoft 365 DNS hosting"),
    N_("Microsoft 365 DNS hosting (21Vianet)"),
    N_("Microsoft Online sign-in"),
    N_("domain verification"),
)


def service_name(service: object) -> object:
    """A fingerprint's service in the user's language (a product name stays as it is)."""
    return _(service) if isinstance(service, str) and service else service
