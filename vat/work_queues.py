"""What waits for the signed-in person to decide (a second pair of eyes): disbursements to
approve, administrators' requests to approve. Counted for the dashboard and the navigation, and
only for those who may decide them: one COUNT each, not cached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ledger.services import four_eyes
from vat.auth import admin_requests
from vat.auth.actor import Actor
from vat.auth.policy import Permission, can


@dataclass(frozen=True)
class Queue:
    endpoint: str  # the page where the work is done
    nav_endpoint: str  # the main navigation's link it shows beside
    label: Any
    permission: Permission
    count: Callable[[Actor], int]


QUEUES = (
    Queue(
        "ledger.approvals",
        "ledger.index",
        _l("Disbursements to approve"),
        Permission.APPROVE_DISBURSEMENT,
        four_eyes.waiting_for,
    ),
    Queue(
        "admin.requests",
        "admin.users",
        _l("Account requests to approve"),
        Permission.MANAGE_USERS,
        admin_requests.waiting_for,
    ),
)


def waiting(actor: Actor) -> list[tuple[Queue, int]]:
    """The queues this person may work on, with how many items wait in each (none empty)."""
    counted = [(queue, queue.count(actor)) for queue in QUEUES if can(actor, queue.permission)]
    return [(queue, count) for queue, count in counted if count]
