"""django-hordak books the benchmark's transactions on an empty PostgreSQL database; run by the
peers' virtualenv: `python hordak_booking.py URL COUNT BATCH` prints the seconds as JSON.

The same work as the ledger's side: COUNT two-leg transactions (cash debited, contributions
credited, the same amounts), one per database transaction, then COUNT more in transactions of
BATCH. Hordak writes a transaction row and two legs per transfer; its database triggers check
each leg's currency and, at commit, that every transaction balances."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from decimal import Decimal

import dj_database_url
import django
from django.conf import settings


def main(url: str, count: int, batch: int) -> dict[str, float | int]:
    settings.configure(
        DATABASES={"default": dj_database_url.parse(url)},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "mptt", "djmoney", "hordak"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from djmoney.money import Money
    from hordak.models import Account, Leg, Transaction

    call_command("migrate", verbosity=0)
    cash = Account.objects.create(name="Cash", code="1", type=Account.TYPES.asset, currencies=["USD"])
    income = Account.objects.create(
        name="Contributions", code="2", type=Account.TYPES.income, currencies=["USD"]
    )
    today = date.today()

    def transfer(number: int) -> None:
        amount = Money(Decimal(100 + number % 900), "USD")
        income.transfer_to(cash, amount, date=today, description="benchmark")

    started = time.perf_counter()
    for number in range(count):
        with transaction.atomic():
            transfer(number)
    single = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(count, 2 * count, batch):
        with transaction.atomic():
            for number in range(start, min(2 * count, start + batch)):
                transfer(number)
    batched = time.perf_counter() - started
    return {
        "single": single,
        "batch": batched,
        "transactions": Transaction.objects.count(),
        "legs": Leg.objects.count(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
