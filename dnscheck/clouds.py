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
