"""Timed work (reminders, check-ins, quiet-hours case updates) as rows in our own database.

Why not a library: APScheduler 3's SQLAlchemy job store must not be shared by several
schedulers (each would run every job), and APScheduler 4, which can share one, is a pre-release
its author says not to run in production. Rahnuma already has what a shared queue needs: a
table and claims taken with FOR UPDATE SKIP LOCKED (on SQLite, writes are serialised, which
gives the same once-only claim). So a job is a row with a due time: it survives restarts, is run
by exactly one of several workers (the claim is the only way to run it, and a claim that
outlives its worker expires), and a run missed while no worker was up is done late, not lost.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Engine, Index, update
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import stored_id, utcnow
from bot.db import session_scope

log = logging.getLogger(__name__)

# A job being run is held this long; a worker that died mid-job gives it back after it.
CLAIM = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RETRY = timedelta(minutes=10)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Job(SQLModel, table=True):
    __table_args__ = (Index("ix_job_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # the handler that runs it
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    # What the job is about, for moving or cancelling it: "journey:12", "referral:7".
    subject: str = Field(default="", max_length=64, index=True)
    due_at: datetime
    status: str = Field(default=JobStatus.PENDING, max_length=16)
    claimed_until: datetime | None = None
    attempts: int = 0
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


# kind -> the function that does the job, in the claiming transaction's own session.
Handler = Callable[[Session, Job], None]


def schedule(session: Session, *, kind: str, due_at: datetime, contact_id: int | None = None,
             subject: str = "", payload: dict[str, Any] | None = None) -> Job:
    job = Job(kind=kind, due_at=due_at, contact_id=contact_id, subject=subject,
              payload=payload or {})
    session.add(job)
    session.flush()
    return job


def cancel(session: Session, *, subject: str, kinds: set[str] | None = None) -> int:
    """Cancels the subject's jobs not yet run (all, or only these kinds); how many."""
    query = update(Job).where(col(Job.subject) == subject,
                              col(Job.status) == JobStatus.PENDING)
    if kinds is not None:
        query = query.where(col(Job.kind).in_(kinds))
    return session.exec(query.values(status=JobStatus.CANCELLED)).rowcount


def pending(session: Session, *, subject: str) -> list[Job]:
    return list(session.exec(select(Job).where(
        Job.subject == subject, Job.status == JobStatus.PENDING).order_by(col(Job.due_at))))


def run_due(db: Engine, handlers: Mapping[str, Handler], *, now: datetime | None = None,
            limit: int = 50) -> int:
    """Runs the jobs that are due (and those whose worker died), each once; returns how many
    ran. A job that raises is tried again later, up to MAX_ATTEMPTS, then marked failed."""
    now = now or utcnow()
    done = 0
    for job_id in _claim(db, now, limit):
        with session_scope(db) as session:
            job = session.get(Job, job_id)
            if job is None:
                continue
            handler = handlers.get(job.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                with session.begin_nested():
                    handler(session, job)
                job.status, job.done_at, job.error = JobStatus.DONE, utcnow(), ""
                done += 1
            except Exception as failure:  # one bad job must not stop the others
                job.error = f"{type(failure).__name__}: {failure}"[:300]
                failed = job.attempts >= MAX_ATTEMPTS
                job.status = JobStatus.FAILED if failed else JobStatus.PENDING
                job.due_at = now + RETRY * job.attempts
                log.warning("job %s (%s) failed, attempt %s", job.id, job.kind, job.attempts)
    return done


def _claim(db: Engine, now: datetime, limit: int) -> list[int]:
    query = (select(Job).where(
        ((col(Job.status) == JobStatus.PENDING) & (col(Job.due_at) <= now))
        | ((col(Job.status) == JobStatus.RUNNING) & (col(Job.claimed_until) <= now)))
        .order_by(col(Job.due_at)).limit(limit).with_for_update(skip_locked=True))
    with session_scope(db) as session:
        jobs = session.exec(query).all()
        for job in jobs:
            job.status, job.claimed_until = JobStatus.RUNNING, now + CLAIM
            job.attempts += 1
        return [stored_id(job) for job in jobs]
