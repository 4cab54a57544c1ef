"""`make nlu-eval`: train on nlu_data/data, judge on the held-out nlu_data/tests/messages.yml.

Reports intent accuracy (overall, per language form, per intent F1), language detection, the
confused pairs, a keyword baseline on the same messages, training time, model size and parse
latency; then whether natural questions reach the answers that have no intent of their own and
how the licence name lookup does (bot/conversation/reach_eval.py). Writes the markdown report
to nlu_data/tests/REPORT.md.
"""

import argparse
import hashlib
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from bot.conversation.engine import build_engine
from bot.conversation.language import LANGUAGES, detect, normalize
from bot.conversation.nlu import KeywordClassifier, RasaClient
from bot.conversation.nlu_build import build
from bot.conversation.nlu_server import RASA_BIN, start_rasa, stop, wait_until_ready
from bot.conversation.reach_eval import (
    NAMES_FILE,
    TOPICS_FILE,
    name_rows,
    render_names,
    render_topics,
    topic_rows,
)
from bot.settings import PROJECT_ROOT, Settings

NLU_DIR = PROJECT_ROOT / "nlu_data"
TEST_FILE = NLU_DIR / "tests" / "messages.yml"
# The first set, and a second one written later by someone else, to check generalization.
TEST_FILES = (TEST_FILE, NLU_DIR / "tests" / "messages_b.yml")
REPORT = NLU_DIR / "tests" / "REPORT.md"


def fingerprint() -> str:
    """Hash of everything the report's figures depend on: regenerate when it changes."""
    paths = [NLU_DIR / "config.yml", NLU_DIR / "domain.yml", NLU_DIR / "keywords.yml",
             *(path for path in TEST_FILES if path.exists()),
             PROJECT_ROOT / "bot" / "conversation" / "language.py",
             PROJECT_ROOT / "content" / "places.yml", PROJECT_ROOT / "content" / "routes.yml",
             PROJECT_ROOT / "bot" / "registry" / "names.py",
             *(path for path in (TOPICS_FILE, NAMES_FILE) if path.exists()),
             *sorted((NLU_DIR / "data").glob("*.yml"))]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def train(out: Path) -> tuple[Path, float]:
    started = time.monotonic()
    build()
    subprocess.run([str(RASA_BIN), "train", "nlu", "--config", "config.yml", "--nlu",
                    "build/data",
                    "--domain", "domain.yml", "--out", str(out), "--quiet"],
                   cwd=NLU_DIR, check=True, env={"RASA_TELEMETRY_ENABLED": "false",
                                                 "TF_CPP_MIN_LOG_LEVEL": "2",
                                                 # no training cache: the time is a real one
                                                 "RASA_MAX_CACHE_SIZE": "0",
                                                 "PATH": "/usr/bin:/bin"})
    return next(out.glob("*.tar.gz")), time.monotonic() - started


def f1_table(pairs: list[tuple[str, str]]) -> dict[str, tuple[float, float, float, int]]:
    """intent -> (precision, recall, F1, support) from (expected, predicted) pairs."""
    table = {}
    for intent in sorted({e for e, _ in pairs}):
        tp = sum(1 for e, p in pairs if e == p == intent)
        predicted = sum(1 for _, p in pairs if p == intent)
        support = sum(1 for e, _ in pairs if e == intent)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[intent] = (precision, recall, f1, support)
    return table


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for e, p in pairs if e == p) / len(pairs) if pairs else 0.0


@contextmanager
def serving(model: Path) -> Iterator[str]:
    """The Rasa server on `model`, for the whole evaluation."""
    port = 5905
    url = f"http://127.0.0.1:{port}"
    process = start_rasa(port, model=model)
    try:
        wait_until_ready(url, process)
        yield url
    finally:
        stop(process)


def evaluate(url: str, messages: list[dict]) -> dict:
    client = RasaClient(url, timeout=10)
    keywords = KeywordClassifier.from_file(NLU_DIR / "keywords.yml")
    rows, latencies = [], []
    for message in messages:
        detected = detect(message["text"]).language
        text = normalize(message["text"], detected)
        started = time.perf_counter()
        result = client.parse(text)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append({**message, "predicted": result.intent or "none",
                     "baseline": keywords.parse(text).intent or "out_of_scope",
                     "detected": str(detected)})
    return {"rows": rows, "latencies": latencies}


def render_set(name: str, rows: list[dict]) -> list[str]:
    """The figures for one test file."""
    pairs = [(r["intent"], r["predicted"]) for r in rows]
    baseline = [(r["intent"], r["baseline"]) for r in rows]
    long_rows = [r for r in rows if len(r["text"].split()) >= 3]
    lines = [f"## `nlu_data/tests/{name}` ({len(rows)} messages)", "",
             "| measure | Rasa model | keyword baseline |", "|---|---|---|",
             f"| intent accuracy, all | {accuracy(pairs):.1%} | {accuracy(baseline):.1%} |"]
    for language in LANGUAGES:
        subset = [r for r in rows if r["language"] == language]
        model_acc = accuracy([(r["intent"], r["predicted"]) for r in subset])
        base_acc = accuracy([(r["intent"], r["baseline"]) for r in subset])
        lines.append(f"| intent accuracy, `{language}` ({len(subset)}) | {model_acc:.1%} | "
                     f"{base_acc:.1%} |")
    detect_all = sum(r["detected"] == r["language"] for r in rows) / len(rows)
    detect_long = sum(r["detected"] == r["language"] for r in long_rows) / len(long_rows)
    lines += ["", "| language detection | accuracy |", "|---|---|",
              f"| all messages ({len(rows)}) | {detect_all:.1%} |",
              f"| messages of 3+ words ({len(long_rows)}) | {detect_long:.1%} |"]
    for language in LANGUAGES:
        subset = [r for r in long_rows if r["language"] == language]
        share = sum(r["detected"] == language for r in subset) / len(subset) if subset else 0
        lines.append(f"| `{language}`, 3+ words ({len(subset)}) | {share:.1%} |")
    lines += ["", "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for intent, (p, r, f, n) in f1_table(pairs).items():
        lines.append(f"| {intent} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |")
    confused = Counter((e, p) for e, p in pairs if e != p).most_common(12)
    lines += ["", "Most confused (expected → predicted):", ""]
    lines += [f"- {e} → {p}: {n}" for (e, p), n in confused] or ["- none"]
    return lines + [""]


def render(sets: dict[str, list[dict]], latencies: list[float], train_seconds: float | None,
           model_bytes: int, extra: list[str] | None = None) -> str:
    lines = ["# NLU evaluation", "",
             "Held-out test sets in `nlu_data/tests/`, never used for training (a test checks "
             "that no test message is in the training data). Regenerate with `make nlu-eval` "
             "whenever the data changes: a test compares the fingerprint below.", "",
             f"Data fingerprint: `{fingerprint()}`", ""]
    for name, rows in sets.items():
        lines += render_set(name, rows)
    lines += extra or []
    ordered = sorted(latencies)
    lines += ["## Cost", "", "| cost | value |", "|---|---|",
              f"| training time (2 cores) | {train_seconds:.0f} s |" if train_seconds else
              "| training time | (model given, not trained) |",
              f"| model size | {model_bytes / 1e6:.1f} MB |",
              f"| parse latency p50 | {statistics.median(ordered):.1f} ms |",
              f"| parse latency p95 | {ordered[int(len(ordered) * 0.95) - 1]:.1f} ms |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="evaluate this model instead of training")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    sets = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in TEST_FILES
            if path.exists()}
    with tempfile.TemporaryDirectory() as tmp:
        model, seconds = (args.model, None) if args.model else train(Path(tmp))
        with serving(model) as url:
            results = {name: evaluate(url, messages) for name, messages in sets.items()}
            engine = build_engine(Settings(rasa_url=url, nlu_timeout_seconds=10))
            extra = render_topics(topic_rows(engine)) if TOPICS_FILE.exists() else []
        extra += render_names(name_rows()) if NAMES_FILE.exists() else []
        latencies = [ms for result in results.values() for ms in result["latencies"]]
        report = render({name: r["rows"] for name, r in results.items()}, latencies, seconds,
                        model.stat().st_size, extra)
    args.report.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
