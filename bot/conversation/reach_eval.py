"""Two sections of `make nlu-eval`'s report beyond intents: whether natural questions reach the
answers that have no intent of their own (topic routes), and the licence name lookup.

- Topic reachability: `nlu_data/tests/topics.yml` through the engine's whole stateless path
  (intent model, routes, menu), scored by the content key the answer was built from.
- Name lookup: `nlu_data/tests/licence_names.yml` against the sample list. Every answer that
  says "licensed" (one agency, no choice) must be the agency meant: that is the precision
  reported; recall is the share of present agencies found at all (answered or listed).
"""

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import bot.models  # noqa: F401  (registers every table)
from bot.content.store import get_content
from bot.conversation.engine import Engine
from bot.conversation.flows import licence_check
from bot.registry.licence_import import decode, import_licences
from bot.registry.licences import search_by_name
from bot.settings import PROJECT_ROOT

TESTS = PROJECT_ROOT / "nlu_data" / "tests"
TOPICS_FILE = TESTS / "topics.yml"
NAMES_FILE = TESTS / "licence_names.yml"
SAMPLE_LIST = PROJECT_ROOT / "content" / "samples" / "licences_sample.csv"


def topic_rows(engine: Engine, path: Path = TOPICS_FILE) -> list[dict[str, Any]]:
    rows = []
    for message in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["messages"]:
        keys = engine.ask_turn(message["text"]).keys
        reached = next((k for k in keys if k.startswith("topic:") or k in
                        {"job_request", "anger_offer", "complaint_consent"}), keys[0] if keys
                       else "-")
        rows.append({**message, "reached": reached})
    return rows


def render_topics(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    right = sum(r["reached"] == r["expect"] for r in rows)
    lines = [f"## Topic reachability: `nlu_data/tests/topics.yml` ({len(rows)} messages)", "",
             f"Reached the expected answer: **{right / len(rows):.1%}** ({right}).", "",
             "| expected answer | messages | reached |", "|---|---|---|"]
    for expect in sorted({r["expect"] for r in rows}):
        subset = [r for r in rows if r["expect"] == expect]
        hits = sum(r["reached"] == expect for r in subset)
        lines.append(f"| {expect} | {len(subset)} | {hits / len(subset):.0%} |")
    lines += ["", "| form | messages | reached |", "|---|---|---|"]
    for language in sorted({r["lang"] for r in rows}):
        subset = [r for r in rows if r["lang"] == language]
        hits = sum(r["reached"] == r["expect"] for r in subset)
        lines.append(f"| `{language}` | {len(subset)} | {hits / len(subset):.0%} |")
    missed = Counter((r["expect"], r["reached"]) for r in rows if r["reached"] != r["expect"])
    lines += ["", "Missed (expected → reached):", ""]
    lines += [f"- {e} → {g}: {n}" for (e, g), n in missed.most_common(10)] or ["- none"]
    return lines + [""]


def name_rows(path: Path = NAMES_FILE) -> list[dict[str, Any]]:
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    rows = []
    with Session(engine) as session:
        import_licences(session, decode(SAMPLE_LIST.read_bytes()), file_name=SAMPLE_LIST.name)
        session.commit()
        for query in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["queries"]:
            rows.append({**query, "verdict": _verdict(session, query["query"])})
    return rows


def _verdict(session: Session, query: str) -> tuple[str, set[str]]:
    """What the licence check would answer: ("licensed"|"choose"|"similar"|"none", numbers)."""
    name = licence_check.name_of(query, get_content(PROJECT_ROOT / "content"))
    matches = search_by_name(session, name, min_score=licence_check.SIMILAR_NAME_SCORE,
                             limit=licence_check.MAX_CANDIDATES)
    outcome, records = licence_check.judge(matches, name)
    return outcome, {r.licence_no for r in records}


def render_names(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []

    def expected(row: dict[str, Any]) -> set[str]:
        wanted = row["expect"]
        return set(wanted) if isinstance(wanted, list) else ({wanted} if wanted else set())

    answered = [r for r in rows if r["verdict"][0] == "licensed"]
    correct = [r for r in answered if r["verdict"][1] <= expected(r) and len(expected(r)) == 1]
    present = [r for r in rows if expected(r)]
    found = [r for r in present if expected(r) & r["verdict"][1]]
    absent = [r for r in rows if not expected(r)]
    misled = [r for r in absent if r["verdict"][0] in {"licensed", "choose"}]
    lines = [f"## Licence name lookup: `nlu_data/tests/licence_names.yml` ({len(rows)} queries)",
             "", "| measure | value |", "|---|---|",
             f"| \"licensed\" answers that name the agency meant (precision) | "
             f"{len(correct)}/{len(answered)} |",
             f"| present agencies found, answered or listed (recall) | "
             f"{len(found)}/{len(present)} ({len(found) / max(len(present), 1):.0%}) |",
             f"| names not on the list answered or listed as a match | {len(misled)}/"
             f"{len(absent)} |", "", "| kind | queries | right |", "|---|---|---|"]
    for kind in sorted({r["kind"] for r in rows}):
        subset = [r for r in rows if r["kind"] == kind]
        right = [r for r in subset if (expected(r) & r["verdict"][1]) if expected(r)] if \
            kind != "absent" else [r for r in subset if r["verdict"][0] in {"none", "similar"}]
        lines.append(f"| {kind} | {len(subset)} | {len(right)} |")
    return lines + [""]
