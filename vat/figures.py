"""The summaries kept exact in the transaction that changes them, and `flask figures verify` and
`flask figures rebuild`, which check them against their source rows and recompute them (after a
restore, or an import run outside the app), in the command or as a job (`--job`). Each summary is
a module, or any object, with `differences() -> list[str]` and `rebuild() -> int`; each check
(source rows of the ledger and of the victims' records that must agree) has `differences()` only."""

from __future__ import annotations

from typing import Any, Protocol

import click
from flask.cli import AppGroup

from vat import jobs
from vat.db import db


class Summary(Protocol):
    def differences(self) -> list[str]: ...

    def rebuild(self) -> int: ...


def summaries() -> dict[str, Summary]:
    """Every kept summary, by name."""
    from ledger import balances, pledged_outstanding, project_balances, withheld_transferred
    from vat import audit_actors
    from vat.allegations import clock_counts, cycle_counts, month_counts
    from vat.claims import waits
    from vat.victims import feedback_counts, need_counts, service_tally, support_counts, support_summary

    # In this order: the counts add up the per-victim summary, so it is rebuilt first.
    return {
        "ledger balances": balances,
        "project balances": project_balances,
        "withholding transfers": withheld_transferred.KEPT,
        "pledges outstanding": pledged_outstanding.KEPT,
        "victim support": support_summary,
        "victim counts": support_counts,
        "service tally": service_tally,
        "allegation clock counts": clock_counts,
        "accountability cycle counts": cycle_counts,
        "allegation month counts": month_counts,
        "need counts": need_counts,
        "feedback counts": feedback_counts,
        "claim waits": waits,
        "audit actors": audit_actors,
    }


class Check(Protocol):
    def differences(self) -> list[str]: ...


def checks() -> dict[str, Check]:
    """Source rows of two domains that must agree (nothing kept, so nothing to rebuild)."""
    from vat.reports import fund_money

    return {"payments to victims": fund_money}


def differences() -> list[str]:
    """Every difference between a kept summary and its source rows, and every check's, named."""
    found = [difference for summary in summaries().values() for difference in summary.differences()]
    return found + [difference for check in checks().values() for difference in check.differences()]


@click.group("figures", cls=AppGroup)
def figures() -> None:
    """Check and rebuild the kept summaries every page reads."""


@figures.command("verify")
def figures_verify() -> None:
    """Recompute every summary from its source rows; name each difference (exit 1 if any)."""
    found = differences()
    for difference in found:
        click.echo(difference)
    if found:
        raise click.ClickException(f"{len(found)} differences")
    click.echo("figures verify: every summary agrees with its source rows")


@jobs.kind("figures-rebuild")
def rebuild(*, job: jobs.Job, progress: jobs.Progress, params: dict[str, Any]) -> None:
    """Recompute every summary from its source rows, in one transaction; progress counts summaries,
    written outside it (on SQLite the transaction holds the write lock until it commits)."""
    kept = summaries()
    progress.total(len(kept))
    for summary in kept.values():
        summary.rebuild()
    db.session.commit()
    progress.done(len(kept))


@figures.command("rebuild")
@click.option("--job", "as_job", is_flag=True, help="Queue it for the jobs worker; print the job's id.")
def figures_rebuild(as_job: bool) -> None:
    """Recompute every summary from its source rows, in one transaction."""
    if as_job:
        job = jobs.create(kind_name="figures-rebuild", owner_id=None)
        db.session.commit()
        jobs.enqueue(job.id, {})
        click.echo(f"figures rebuild queued as job {job.id} (flask jobs show {job.id})")
        return
    for name, summary in summaries().items():
        click.echo(f"{name}: {summary.rebuild()} rows")
    db.session.commit()
