"""Timed jobs in the database: run once when due, late rather than lost, retried, cancelled."""

import threading
from datetime import timedelta

from sqlmodel import Session, select

from bot.conversation.contacts import utcnow
from bot.db import session_scope
from bot.messaging.scheduler import CLAIM, Job, JobStatus, cancel, run_due, schedule


def add(db, due_in: timedelta, *, kind="note", subject="journey:1") -> int:
    with session_scope(db) as session:
        return schedule(session, kind=kind, due_at=utcnow() + due_in, subject=subject,
                        payload={"n": 1}).id


def status(db, job_id) -> str:
    with Session(db) as session:
        return session.get(Job, job_id).status


def test_scheduler_runs_a_due_job_once_and_leaves_a_future_one(db):
    ran = []
    handlers = {"note": lambda session, job: ran.append(job.id)}
    due, later = add(db, -timedelta(minutes=1)), add(db, timedelta(days=3))
    assert run_due(db, handlers) == 1 and run_due(db, handlers) == 0
    assert ran == [due] and status(db, due) == "done" and status(db, later) == "pending"
    # Time moves on (no sleeping): the later job runs when its day comes.
    assert run_due(db, handlers, now=utcnow() + timedelta(days=3, minutes=1)) == 1
    assert ran == [due, later]


def test_scheduler_runs_a_job_missed_while_no_worker_ran_late(db):
    ran = []
    missed = add(db, -timedelta(days=2))  # the workers were down for two days
    run_due(db, {"note": lambda session, job: ran.append(job.id)})
    assert ran == [missed]


def test_scheduler_job_that_fails_is_retried_and_its_writes_undone(db):
    calls = []

    def flaky(session, job):
        calls.append(job.id)
        session.add(Job(kind="written-by-the-failed-run", due_at=utcnow()))
        if len(calls) == 1:
            raise RuntimeError("Twilio down")

    job = add(db, -timedelta(seconds=1))
    assert run_due(db, {"note": flaky}) == 0
    assert status(db, job) == "pending"
    assert run_due(db, {"note": flaky}, now=utcnow() + timedelta(hours=1)) == 1
    with Session(db) as session:
        kinds = [j.kind for j in session.exec(select(Job))]
    assert kinds.count("written-by-the-failed-run") == 1  # the failed run's row was undone


def test_scheduler_job_of_a_dead_worker_is_run_again_after_its_claim(db):
    job = add(db, -timedelta(seconds=1))
    with session_scope(db) as session:  # a worker claimed it, then died
        row = session.get(Job, job)
        row.status, row.claimed_until, row.attempts = JobStatus.RUNNING, utcnow() + CLAIM, 1
    ran = []
    handlers = {"note": lambda session, j: ran.append(j.id)}
    assert run_due(db, handlers) == 0
    assert run_due(db, handlers, now=utcnow() + CLAIM + timedelta(seconds=1)) == 1
    assert ran == [job]


def test_scheduler_cancel_stops_the_subjects_pending_jobs_only(db):
    mine = add(db, timedelta(days=1), subject="journey:1")
    other = add(db, timedelta(days=1), subject="journey:2")
    with session_scope(db) as session:
        assert cancel(session, subject="journey:1") == 1
    assert status(db, mine) == "cancelled" and status(db, other) == "pending"


def test_scheduler_two_workers_never_run_the_same_job(db):
    jobs = [add(db, -timedelta(seconds=1)) for _ in range(40)]
    ran: list[int] = []
    lock = threading.Lock()

    def note(session, job):
        with lock:
            ran.append(job.id)

    workers = [threading.Thread(target=lambda: [run_due(db, {"note": note}, limit=5)
                                                for _ in range(10)]) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(ran) == sorted(jobs)
