"""The victim told of each claim step (issue 18, item 3): a step reached opens a task with the
outcomes' deadline, shown on Needs attention when overdue; the update recorded on the claim closes
it, and the claim page says when, how and by whom; the form refuses other roles, other scopes and
no CSRF token."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from tests.claims.conftest import DETAILS, S, claim_at
from tests.conftest import sign_in
from vat.auth.models import Role, User
from vat.claims import correspondence, pipeline
from vat.claims.models import Claim
from vat.db import db
from vat.victims import listing
from vat.victims.models import VictimTask
from vat.victims.outcomes import INFORM_CLAIM_STEP


def step_tasks(claim_id: int) -> list[tuple[str | None, bool]]:
    """(step, still open) of each task to tell the victim about the claim, in order."""
    rows = db.session.scalars(
        select(VictimTask).where(VictimTask.claim_id == claim_id).order_by(VictimTask.id)
    )
    return [(task.claim_step, task.closed_at is None) for task in rows]


def test_each_step_opens_one_task_until_the_victim_is_told(advocate: User) -> None:
    claim = claim_at(advocate, S.REFERRED)
    assert step_tasks(claim.id) == [("referred", True)]  # consent, then referred: still one to tell
    [row] = correspondence.steps_to_tell(claim)
    assert row.task.kind == INFORM_CLAIM_STEP and row.due_on == date.today() + timedelta(days=14)
    assert (
        not row.overdue and correspondence.steps_to_tell(claim, on=row.due_on + timedelta(days=1))[0].overdue
    )

    told = correspondence.inform_victim(
        actor=advocate,
        claim=claim,
        occurred_on=date.today(),
        channel="phone",
        summary="Referred.",
        by_whom="VRA Bangui",
    )
    [row] = correspondence.steps_to_tell(claim)
    assert row.informed_by is told and (told.channel, told.by_whom) == ("phone", "VRA Bangui")

    pipeline.advance(actor=advocate, claim=claim, to=S.DNA_REQUESTED, **DETAILS[S.DNA_REQUESTED])
    assert step_tasks(claim.id) == [("referred", False), ("dna_requested", True)]
    assert [r.task.claim_step for r in correspondence.steps_to_tell(claim)] == ["dna_requested", "referred"]


def test_needs_attention_shows_a_step_not_told_by_its_deadline(advocate: User) -> None:
    claim = claim_at(advocate, S.CONSENT_OBTAINED)
    late = date.today() + timedelta(days=15)
    seen = listing.attention(advocate, mine_only=False, on=late)
    assert [(code, ref, outcome, overdue) for _i, code, ref, outcome, _d, overdue in seen.open_tasks] == [
        (claim.victim.case_code, claim.code, None, True)
    ]
    correspondence.inform_victim(
        actor=advocate, claim=claim, occurred_on=date.today(), channel="in_person", summary=None
    )
    assert listing.attention(advocate, mine_only=False, on=late).open_tasks == []


def test_the_claim_page_says_when_how_and_by_whom_the_victim_was_told(app, client, login, claim_id) -> None:
    login(Role.ADVOCATE, "CAF")
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    table = page[page.index('id="steps-told-table"') :]
    assert "not yet" in table[: table.index("</table>")]
    assert "To tell the victim by" in client.get(f"/vat/claims/{claim_id}/step-letter").get_data(as_text=True)
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        victim_id, code = claim.victim_id, claim.code
    owed = f"Tell the victim the step claim {code} reached"
    assert owed in client.get(f"/vat/victims/{victim_id}").get_data(as_text=True)
    today = date.today()
    response = client.post(
        f"/vat/claims/{claim_id}/inform",
        data={
            "occurred_on": today.isoformat(),
            "channel": "phone",
            "by_whom": "VRA Bangui",
            "summary": "Told.",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    table = page[page.index('id="steps-told-table"') :]
    assert (
        "VRA Bangui" in table[: table.index("</table>")] and "not yet" not in table[: table.index("</table>")]
    )
    with app.app_context():
        assert [is_open for _step, is_open in step_tasks(claim_id)] == [False]


def test_others_cannot_record_the_victim_told(app, make_user: Any, csrf_client: Any, claim_id: int) -> None:
    data = {"occurred_on": date.today().isoformat(), "channel": "phone", "summary": "Told."}
    auditor, other = app.test_client(), app.test_client()
    sign_in(app, auditor, make_user(Role.AUDITOR, "CAF"))
    sign_in(app, other, make_user(Role.ADVOCATE, "COD"))
    assert auditor.post(f"/vat/claims/{claim_id}/inform", data=data).status_code == 403
    assert other.post(f"/vat/claims/{claim_id}/inform", data=data).status_code == 404
    assert (
        csrf_client(Role.ADVOCATE, "CAF").post(f"/vat/claims/{claim_id}/inform", data=data).status_code == 400
    )
    with app.app_context():
        assert [is_open for _step, is_open in step_tasks(claim_id)] == [True]
