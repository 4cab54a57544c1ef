"""Prometheus metrics: what the bot does, how fast, and what waits in the queues.

Answers may be worked out in other processes (ANSWER_PROCESSES, `serve --workers`), each
counting its own. `rahnuma serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before
any of them starts (prometheus_client then keeps each process's counts in a file there), and
/metrics adds them up.
"""

from prometheus_client import Counter, Histogram

MESSAGES = Counter("rahnuma_messages_total", "Inbound messages answered",
                   ["channel", "language", "intent"])
NLU_LATENCY = Histogram("rahnuma_nlu_seconds", "Time to get an intent (Rasa or keywords)",
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
NLU_RESULTS = Counter("rahnuma_nlu_results_total", "Intents by source (rasa or fallback)",
                      ["source"])
WEBHOOK_LATENCY = Histogram("rahnuma_webhook_seconds", "Twilio webhook request time",
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5))
OUTBOX_FAILURES = Counter("rahnuma_outbox_failures_total", "Failed sends (will be retried)")
RATE_LIMITED = Counter("rahnuma_rate_limited_total", "Messages over the per-sender limit")
LATE_ANSWERS = Counter("rahnuma_late_answers_total",
                       "Answers not ready within the reply budget: sent through the outbox")
