"""The `rahnuma` command. Every command reads DATABASE_URL and the other settings."""

import json
import os
import signal
import sys
import tempfile
from datetime import datetime

import click

from bot.conversation.channels import Channel
from bot.settings import get_settings


@click.group()
def main() -> None:
    """Rahnuma: the WhatsApp/SMS helpline for migrant workers and their families."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="app processes sharing the port [default: one per core; one with "
                   "ANSWER_PROCESSES]")
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the app (and the local Rasa server when RASA_URL is local and not answering).

    With several workers, uvicorn's processes each build the app from the environment; the
    background worker (outbox, sweep, evidence) runs once, in this process."""
    count_in_every_process = _metrics_directory()
    import uvicorn

    from bot.conversation.nlu_server import local_nlu_server
    from bot.messaging.worker import start_beside_app
    from bot.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    with local_nlu_server(settings):
        from api.main import create_app

        click.echo(_twilio_instructions(host, port, settings.public_base_url))
        stop_worker = start_beside_app(settings) if settings.run_worker_in_app else None
        # With answering processes the web process only stores and acknowledges: one is
        # plenty (bench/results/overload.md), and each more would start its own answerers.
        workers = workers or (1 if settings.answer_processes else os.cpu_count() or 1)
        # uvicorn re-raises the SIGTERM it stopped on; its default action would end this
        # process before the cleanups below (the local Rasa, the worker process) could run.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            if workers == 1:
                uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
            else:
                uvicorn.run("api.main:create_app", factory=True, workers=workers, host=host,
                            port=port, log_config=None)
        finally:
            if stop_worker:
                stop_worker.set()
            count_in_every_process.cleanup()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _metrics_directory() -> tempfile.TemporaryDirectory[str]:
    """Where this instance's processes keep their counts (bot/metrics.py): set before any
    of them imports prometheus_client, and fresh, as prometheus_client requires."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its directory was set")
    directory = tempfile.TemporaryDirectory(prefix="rahnuma-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory.name
    return directory


@main.command()
def worker() -> None:
    """Run the background work (evidence downloads) until interrupted."""
    import threading

    from bot.logs import configure_logging
    from bot.messaging.worker import run_forever

    configure_logging()
    click.echo("worker running; Ctrl-C to stop")
    try:
        run_forever(get_settings(), threading.Event())
    except KeyboardInterrupt:
        click.echo()


def _twilio_instructions(host: str, port: int, public_base_url: str | None) -> str:
    base = public_base_url or f"https://<your-public-host> (forwarding to http://{host}:{port})"
    return (
        f"\nRahnuma is listening on http://{host}:{port}\n"
        "To connect Twilio (see README, 'Connecting Twilio'):\n"
        f"  1. Set PUBLIC_BASE_URL to the public https URL of this app ({base}).\n"
        "  2. In the Twilio console, for your SMS number and your WhatsApp sender, set\n"
        "     'A message comes in' to  POST <PUBLIC_BASE_URL>/webhooks/twilio\n"
        "  3. Set TWILIO_AUTH_TOKEN so the app can verify Twilio's signature.\n"
        "Try it without Twilio:  .venv/bin/rahnuma chat\n"
    )


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL."""
    from bot.migrate import upgrade

    upgrade(get_settings().database_url)
    click.echo("database is up to date")


@main.group()
def licences() -> None:
    """The registry of licensed recruiting agents (OEPs)."""


@licences.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check and count, write nothing")
@click.option("--skip-bad-rows", is_flag=True, help="import the good rows of a file with bad ones")
@click.option("--if-empty", is_flag=True, help="only when the registry has no licences yet")
@click.option("--list-date", type=click.DateTime(formats=["%d-%m-%Y", "%Y-%m-%d"]),
              help="the date printed on the official list (DD-MM-YYYY); people are told it")
def licences_import(file: str, dry_run: bool, skip_bad_rows: bool, if_empty: bool,
                    list_date: datetime | None) -> None:
    """Import the official list (CSV: licence_no,name,proprietor,address,city,phone,status,
    valid_until). All or nothing; malformed rows are reported by line number."""
    from pathlib import Path

    from sqlmodel import select

    from bot.db import get_engine, session_scope
    from bot.outreach.licence_alerts import import_with_alerts
    from bot.registry.licence_import import ImportRefused, decode
    from bot.registry.licences import Licence

    settings = get_settings()
    with session_scope(get_engine(settings.database_url)) as session:
        if if_empty and session.exec(select(Licence.id).limit(1)).first():
            click.echo("the licence registry already has licences: nothing imported")
            return
        text = decode(Path(file).read_bytes())
        try:
            # Alerts to those who checked a licence whose status changed, queued with it.
            report = import_with_alerts(session, text, settings=settings, file_name=file,
                                        dry_run=dry_run, skip_bad_rows=skip_bad_rows,
                                        list_date=list_date.date() if list_date else None)
        except ImportRefused as refused:
            click.echo(refused.report.summary(), err=True)
            raise SystemExit("refused: nothing imported (fix the rows or use --skip-bad-rows)") \
                from None
    click.echo(report.summary())


@main.group()
def staff() -> None:
    """Resource-centre staff accounts."""


@staff.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--centre", required=True, help="a centre code from content/centres.yml")
@click.option("--role", type=click.Choice(["caseworker", "supervisor", "admin", "changemaker"]),
              default="caseworker", show_default=True)
@click.option("--content-role", type=click.Choice(["", "editor", "reviewer"]), default="",
              help="may also propose (editor) or review and publish (reviewer) texts")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def staff_add(email: str, name: str, centre: str, role: str, content_role: str,
              password_stdin: bool) -> None:
    """Create a staff account (the password is asked for, never given on the command line)."""
    from bot.casework.staff import Role, StaffError, add_staff
    from bot.content.store import get_content
    from bot.db import get_engine, session_scope

    settings = get_settings()
    if centre not in get_content(settings.content_dir).centres:
        raise SystemExit(f"unknown centre {centre!r}: see content/centres.yml")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(get_engine(settings.database_url)) as session:
            added = add_staff(session, email=email, name=name, centre=centre, role=Role(role),
                              password=password)
            added.content_role = content_role
    except StaffError as error:
        raise SystemExit(str(error)) from None
    click.echo(f"added {role} {email} at {centre}" + (f", {content_role} of texts"
                                                     if content_role else ""))


@staff.command("content-role")
@click.option("--email", required=True)
@click.argument("role", type=click.Choice(["none", "editor", "reviewer"]))
def staff_content_role(email: str, role: str) -> None:
    """Let an account propose texts (editor), review and publish them (reviewer), or neither."""
    from sqlmodel import select

    from bot.casework.staff import Staff
    from bot.db import get_engine, session_scope

    with session_scope(get_engine(get_settings().database_url)) as session:
        found = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
        if found is None:
            raise SystemExit(f"no account {email}")
        found.content_role = "" if role == "none" else role
    click.echo(f"{email}: content role {role}")


@main.group()
def contact() -> None:
    """A person's data."""


@contact.command("forget")
@click.argument("phone")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def contact_forget(phone: str, yes: bool) -> None:
    """Erase everything about PHONE (+92...): messages, complaints, evidence files."""
    from bot.casework.privacy import forget_and_scrub
    from bot.db import get_engine

    if not yes:
        click.confirm(f"Erase every record of {phone}? This cannot be undone", abort=True)
    counts = forget_and_scrub(get_engine(get_settings().database_url), phone.strip())
    if not counts:
        raise SystemExit(f"no contact with the number {phone}")
    click.echo("erased: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@main.command()
def retention() -> None:
    """Erase message bodies older than RETENTION_DAYS (not those of open complaints)."""
    from bot.casework.privacy import apply_retention
    from bot.db import get_engine, session_scope

    settings = get_settings()
    with session_scope(get_engine(settings.database_url)) as session:
        erased = apply_retention(session, days=settings.retention_days)
    click.echo(f"erased {erased} message bodies older than {settings.retention_days} days")


@main.group()
def content() -> None:
    """Content base commands."""


@content.command("check")
def content_check() -> None:
    """Fail on a missing language, an unknown reference, an over-long text or a dead topic."""
    from bot.content.store import load_content

    loaded = load_content(get_settings().content_dir)
    for problem in loaded.problems:
        click.echo(problem, err=True)
    if loaded.problems:
        raise SystemExit(f"{len(loaded.problems)} problem(s) in content/")
    click.echo(f"content OK: {len(loaded.topics)} topics, {len(loaded.ui)} texts, 5 languages")


@content.command("export")
@click.option("--out", type=click.Path(dir_okay=False), default="var/content-review.html",
              show_default=True, help="the HTML page (without --yaml)")
@click.option("--yaml", "as_yaml", is_flag=True,
              help="write the texts published in the dashboard back into content/")
@click.option("--yaml-dir", type=click.Path(file_okay=False), default=None,
              help="with --yaml: write the changed files here instead of into content/")
def content_export(out: str, as_yaml: bool, yaml_dir: str | None) -> None:
    """Every text side by side in five languages (HTML) for native-speaker review; or, with
    --yaml, the published texts back in the content/ format, ready to commit."""
    from pathlib import Path

    from bot.content.export import export_html, export_yaml
    from bot.content.review import published_changes
    from bot.content.store import get_content
    from bot.db import get_engine, session_scope

    settings = get_settings()
    if as_yaml:
        with session_scope(get_engine(settings.database_url)) as session:
            changes = published_changes(session)
        target = Path(yaml_dir) if yaml_dir else settings.content_dir
        written = export_yaml(settings.content_dir, changes, target)
        for path in written:
            click.echo(f"wrote {path}")
        click.echo(f"{len(written)} file(s) changed; {len(changes)} published text(s) in all")
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(export_html(get_content(settings.content_dir)), encoding="utf-8")
    click.echo(f"wrote {path}")


@main.group()
def templates() -> None:
    """WhatsApp templates (content/templates/), created and approved through Twilio."""


@templates.command("sync")
def templates_sync() -> None:
    """Create each template in each language through Twilio's Content API, ask WhatsApp to
    approve it, and record its Content SID and approval status. Run again to refresh the
    statuses; a template whose text changed is created (and submitted) anew."""
    from bot.messaging.templates import sync_from_settings

    try:
        results = sync_from_settings(get_settings())
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    for result in results:
        click.echo(f"{result.key} [{result.language}]: {result.action}, {result.status}"
                   + (f" ({result.error})" if result.error else ""))
    failed = sum(result.action == "failed" for result in results)
    if failed:
        raise SystemExit(f"{failed} template(s) not synced")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--jsonl", is_flag=True, help="one message per stdin line, one JSON object per line")
@click.argument("text", required=False)
def ask(as_json: bool, jsonl: bool, text: str | None) -> None:
    """Answer TEXT as the bot would, without a contact or any database write."""
    from bot.conversation.engine import build_engine

    if not jsonl and text is None:
        raise click.UsageError("give TEXT, or --jsonl with messages on stdin")
    engine = build_engine(get_settings())
    lines = (line.rstrip("\n") for line in sys.stdin) if jsonl else iter([text or ""])
    for line in lines:
        understanding, reply = engine.ask(line)
        record = {"text": line, "language": str(understanding.language),
                  "intent": understanding.intent, "confidence": understanding.confidence,
                  "nlu": understanding.source, "reply": reply}
        if jsonl or as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(reply)


@main.command()
@click.option("--channel", type=click.Choice([c.value for c in Channel]), default="whatsapp",
              show_default=True)
@click.option("--phone", default="+920000000001", show_default=True,
              help="the contact to talk as (conversation state is kept per number)")
def chat(channel: str, phone: str) -> None:
    """Talk to the bot in the terminal, through the same engine and database as the webhook."""
    from bot.conversation.chat import run_chat

    run_chat(get_settings(), Channel(channel), phone)


if __name__ == "__main__":  # `python -m bot.cli` in the container
    main()
