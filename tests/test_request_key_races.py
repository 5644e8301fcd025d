"""One form posted 20 times at once, from 20 threads with their own connections, records once
(issue 16: "record a service" posted 20× made 20 rows; "register a victim" 10× made 10 victims).
On PostgreSQL the losers wait on the key's primary key until the winner commits, then follow it;
on SQLite writers take turns."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from tests.conftest import all_at_once, minted_key, row_count, sign_in, signed_in_client
from tests.vat.conftest import register
from vat import jobs
from vat.auth.models import Role, User
from vat.db import db, utcnow
from vat.request_keys import RequestKey
from vat.victims.models import Assistance, Victim

SUBMISSIONS = 20


def post_at_once(app, user, path: str, data: dict[str, str]) -> list[tuple[int, str]]:
    """POST `data` to `path` from SUBMISSIONS threads released together; their answers."""
    clients = [app.test_client() for _ in range(SUBMISSIONS)]
    for client in clients:
        sign_in(app, client, user)

    def submit(client) -> tuple[int, str]:
        response = client.post(path, data=data)
        return response.status_code, response.headers.get("Location", "")

    return all_at_once([partial(submit, client) for client in clients])


@pytest.fixture
def advocate(app, make_user):
    return make_user(Role.ADVOCATE, "CAF")


def test_a_service_posted_20_times_at_once_is_recorded_once(app, advocate):
    with app.test_request_context():
        victim_id = register(db.session.get(User, advocate.id), name="Race").id
        db.session.commit()
    page = signed_in_client(app, advocate)
    path = f"/vat/victims/{victim_id}/assistance/new"
    data = {
        "key": minted_key(page.get(path).get_data(as_text=True)),
        "service_type": "medical",
        "status": "referred",
        "referral_date": (date.today() - timedelta(days=1)).isoformat(),
        "provider": "Clinic",
        "funding_source": "unknown",
    }

    answers = post_at_once(app, advocate, path, data)

    assert len(answers) == SUBMISSIONS
    assert {status for status, _ in answers} == {302}, answers
    assert len({location for _, location in answers}) == 1
    with app.app_context():
        count = db.session.scalar(select(func.count(Assistance.id)).where(Assistance.victim_id == victim_id))
    assert count == 1


def test_a_victim_registered_20_times_at_once_is_registered_once(app, advocate):
    page = signed_in_client(app, advocate)
    data = {
        "key": minted_key(page.get("/vat/victims/new").get_data(as_text=True)),
        "country_code": "CAF",
        "mission": "MINUSCA",
        "sex": "female",
        "age_group": "adult",
        "name": "Race",
        "advocate_id": str(advocate.id),
    }
    with app.app_context():
        before = db.session.scalar(select(func.count(Victim.id)))

    answers = post_at_once(app, advocate, "/vat/victims/new", data)

    assert {status for status, _ in answers} == {302}, answers
    assert len({location for _, location in answers}) == 1
    assert row_count(app, Victim) == before + 1


def keys_aged(app, ages: dict[str, int]) -> None:
    """Request keys used `ages[key]` days ago."""
    with app.app_context():
        for key, age in ages.items():
            created_at = utcnow() - timedelta(days=age)
            db.session.add(
                RequestKey(key=key, endpoint="victims.create", request_hash="0" * 64, created_at=created_at)
            )
        db.session.commit()


def test_old_request_keys_are_pruned_from_the_command_line(app, runner):
    keys_aged(app, {"a" * 32: 40, "b" * 32: 1})

    result = runner.invoke(args=["request-keys", "prune", "--days", "30"])

    assert result.exit_code == 0 and "forgot 1 request keys" in result.output
    with app.app_context():
        assert db.session.scalars(select(RequestKey.key)).all() == ["b" * 32]


def test_a_key_is_no_one_elses_and_a_forged_key_is_refused(app, make_user):
    """Another user posting the same key and values is refused, not sent to the first user's record;
    a key that is not one the app mints is refused as an expired form. Neither saves anything."""
    first, second = make_user(Role.ADVOCATE, "CAF"), make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        victim_id = register(db.session.get(User, first.id), name="Shared").id
        db.session.commit()
    path = f"/vat/victims/{victim_id}/assistance/new"
    clients = {}
    for user in (first, second):
        clients[user.id] = app.test_client()
        sign_in(app, clients[user.id], user)
    data = {
        "key": minted_key(clients[first.id].get(path).get_data(as_text=True)),
        "service_type": "medical",
        "status": "referred",
        "funding_source": "unknown",
    }
    assert clients[first.id].post(path, data=data).status_code == 302

    other = clients[second.id].post(path, data=data)
    forged = clients[second.id].post(path, data={**data, "key": "../../x"})

    assert other.status_code == 409 and "Location" not in other.headers
    assert "different values" in other.get_data(as_text=True)
    assert forged.status_code == 200 and "This form has expired." in forged.get_data(as_text=True)
    with app.app_context():
        count = db.session.scalar(select(func.count(Assistance.id)).where(Assistance.victim_id == victim_id))
    assert count == 1


def test_the_worker_forgets_expired_request_keys_every_day(app):
    """The queue's periodic task, due at 03:17 every day and at no other minute, run as the
    consumer runs it: keys older than VAT_REQUEST_KEY_DAYS go, newer ones stay."""
    app.config["VAT_REQUEST_KEY_DAYS"] = 7
    keys_aged(app, {"a" * 32: 8, "b" * 32: 6})
    queue = jobs.queue_of(app)
    due = [task for task in queue.read_periodic(datetime(2026, 12, 6, 3, 17)) if task.name.endswith("prune")]
    assert len(due) == 1
    assert not [t for t in queue.read_periodic(datetime(2026, 12, 6, 3, 18)) if t.name.endswith("prune")]
    queue.execute(due[0])
    with app.app_context():
        assert db.session.scalars(select(RequestKey.key)).all() == ["b" * 32]
