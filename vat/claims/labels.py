"""The words shown for stored claim values, translated; the claims templates call `claim_label`."""

from __future__ import annotations

from vat.claims.models import CLAIM_LABELS, ClaimStep
from vat.victims.labels import vat_label


def claim_label(value: str | None) -> str:
    """A claim value (closing reason, channel, route...) or a shared one (sex, personnel category)."""
    if not value:
        return "—"
    if value in set(ClaimStep):
        return str(ClaimStep(value).label)
    if value in CLAIM_LABELS:
        return str(CLAIM_LABELS[value])
    return vat_label(value)
