"""Intent recognition: the Rasa server over HTTP, with a keyword fallback when it is down or slow.

The app never imports rasa (it pins old SQLAlchemy and pydantic); it talks to `rasa run
--enable-api` exactly as in production. A failure of Rasa costs one short timeout, then Rasa is
skipped for a while, so a dead NLU never makes every message wait.
"""

import http.client
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import yaml

from bot.conversation.language import fold, normalize
from bot.metrics import NLU_LATENCY, NLU_RESULTS

log = logging.getLogger(__name__)

RASA = "rasa"
FALLBACK = "fallback"
RASA_FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class NluResult:
    intent: str | None
    confidence: float
    source: str  # RASA or FALLBACK
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[dict, ...] = field(default=())


class Nlu(Protocol):
    def parse(self, text: str) -> NluResult: ...


class KeywordClassifier:
    """Whole-word keyword matching from nlu_data/keywords.yml: the fallback and the baseline.

    Longer matches win over the shorter ones inside them ("shikayat kahan" is complaint_channels
    even though "shikayat" alone is file_complaint).
    """

    def __init__(self, keywords: dict[str, list[str]]):
        pairs = {(fold(normalize(w)), i) for i, words in keywords.items() for w in words or ()}
        phrases = sorted(pairs, key=lambda pair: -len(pair[0]))
        self._phrases = [(re.compile(rf"(?<!\w){re.escape(p)}(?!\w)"), intent, len(p))
                         for p, intent in phrases if p]

    @classmethod
    def from_file(cls, path: Path) -> "KeywordClassifier":
        with path.open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def parse(self, text: str) -> NluResult:
        """Each intent scores the characters its non-overlapping matches cover."""
        text = fold(text)
        taken = [False] * len(text)
        scores: dict[str, int] = {}
        for pattern, intent, length in self._phrases:
            for match in pattern.finditer(text):
                if not any(taken[match.start():match.end()]):
                    taken[match.start():match.end()] = [True] * length
                    scores[intent] = scores.get(intent, 0) + length
        total = sum(scores.values())
        ranking = tuple(IntentScore(intent, score / total) for intent, score in
                        sorted(scores.items(), key=lambda item: -item[1]))
        if not ranking:
            return NluResult(None, 0.0, FALLBACK)
        return NluResult(ranking[0].name, ranking[0].confidence, FALLBACK, ranking)


class NluUnavailable(Exception):
    """The Rasa server did not answer, or answered with an error."""


class RasaClient:
    """Rasa's /model/parse over one kept-alive connection per thread.

    The standard library's http.client rather than httpx: this call is made for most messages,
    and httpx's layers (transport, pool, auth, redirects, events) cost about 1 ms of CPU a call
    against ~0.15 ms here (profile in bench/results/cpu.md)."""

    def __init__(self, url: str, *, timeout: float, token: str | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"RASA_URL is not an http(s) URL: {url!r}")
        self._connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                                  else http.client.HTTPConnection)
        self._address = (parts.hostname, parts.port)
        self._prefix = parts.path.rstrip("/")
        self._query = f"?{urlencode({'token': token})}" if token else ""
        self._timeout = timeout
        self._local = threading.local()

    def parse(self, text: str) -> NluResult:
        status, body = self._request("POST", "/model/parse",
                                     json.dumps({"text": text}).encode())
        if status != 200:
            raise NluUnavailable(f"HTTP {status}")
        data = json.loads(body)
        intent = data.get("intent") or {}
        ranking = tuple(
            IntentScore(item["name"], float(item["confidence"]))
            for item in data.get("intent_ranking") or []
        )
        return NluResult(
            intent.get("name"),
            float(intent.get("confidence") or 0.0),
            RASA,
            ranking,
            tuple(data.get("entities") or ()),
        )

    def is_up(self) -> bool:
        try:
            return self._request("GET", "/status")[0] < 500
        except NluUnavailable:
            return False

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        while True:
            connection = getattr(self._local, "connection", None)
            reused = connection is not None
            if connection is None:
                connection = self._connection_class(*self._address, timeout=self._timeout)
                self._local.connection = connection
            try:
                connection.request(method, self._prefix + path + self._query, body=body,
                                   headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as error:
                self._local.connection = None
                connection.close()
                # A kept-alive connection the server closed while idle: once more on a new one.
                if not (reused and isinstance(error, _CLOSED_WHILE_IDLE)):
                    raise NluUnavailable(type(error).__name__) from error

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


_CLOSED_WHILE_IDLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                      http.client.CannotSendRequest)


class ResilientNlu:
    """Rasa first; on error or timeout the keyword classifier, and Rasa rests for a while."""

    def __init__(self, primary: Nlu, fallback: KeywordClassifier, *, retry_after: float):
        self._primary = primary
        self._fallback = fallback
        self._retry_after = retry_after
        self._skip_until = 0.0
        self._lock = threading.Lock()

    def parse(self, text: str) -> NluResult:
        with NLU_LATENCY.time():
            result = self._parse(text)
        NLU_RESULTS.labels(result.source).inc()
        return result

    def _parse(self, text: str) -> NluResult:
        if time.monotonic() >= self._skip_until:
            try:
                return self._primary.parse(text)
            except (NluUnavailable, ValueError, KeyError) as error:
                log.warning("NLU server unavailable (%s); using keywords for %.0fs",
                            type(error).__name__, self._retry_after)
                with self._lock:
                    self._skip_until = time.monotonic() + self._retry_after
        return self._fallback.parse(text)
