"""One typed settings object, read from the environment or `.env`."""

from datetime import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'rahnuma.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None
    # Short: a slow NLU must not hold a reply hostage; the keyword fallback answers instead.
    nlu_timeout_seconds: float = 2.0
    # After Rasa fails, skip it for this long instead of paying the timeout on every message.
    nlu_retry_after_seconds: float = 10.0
    # Below this confidence the bot offers the likeliest topics instead of guessing.
    nlu_confidence_threshold: float = 0.55

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    # An approved WhatsApp template (Content SID) for messages outside the 24-hour window.
    twilio_whatsapp_template_sid: str | None = None
    # Only for tests and benchmarks: a local stand-in for api.twilio.com.
    twilio_api_base_url: str | None = None
    # Seconds for any call to Twilio's REST API or media hosts: the library waits forever.
    twilio_http_timeout_seconds: float = 10.0
    public_base_url: str | None = None
    secret_key: SecretStr = SecretStr("change-me")
    # /metrics answers only with "Authorization: Bearer <token>"; unset, it is not served.
    metrics_token: SecretStr | None = None
    # /docs, /redoc and /openapi.json describe every route: off on a public deployment.
    api_docs: bool = False
    # A staff session ends after this long without a request (and after 12 hours in any case).
    session_idle_minutes: int = 30

    content_dir: Path = PROJECT_ROOT / "content"
    nlu_dir: Path = PROJECT_ROOT / "nlu_data"
    sms_max_segments: int = 3
    # Per sender: beyond this many messages a minute, one polite notice, then silence.
    rate_limit_per_minute: int = 20
    # Message bodies older than this are erased, unless attached to an open referral.
    retention_days: int = 365
    # What the complaint reply promises and the dashboard flags as overdue.
    # The first response an urgent case (danger, violence, passport held abroad) is promised;
    # a product decision (FACTS.md s.8), stated in the reply, so keep it honest.
    urgent_response_hours: int = 4
    first_response_hours: int = 48
    evidence_dir: Path = PROJECT_ROOT / "var" / "evidence"
    # Twilio gives up on a webhook after 15 s. An answer ready within this budget goes back in
    # the TwiML; a slower one is acknowledged with empty TwiML and sent through the outbox.
    reply_budget_seconds: float = 2.0
    # 0: answers are worked out in threads of the web process. N: in N processes of their own,
    # at a lower CPU priority, so that in a rush every delivery is still acknowledged at once
    # (bench/results/overload.md). Each costs the memory of a second copy of the bot.
    answer_processes: int = Field(default=0, ge=0, le=16)
    # `serve` runs the worker in a thread unless a separate `rahnuma worker` does it.
    run_worker_in_app: bool = True

    # Messages that can wait (case updates, alerts, reminders) are held through these hours,
    # in the person's time zone (Pakistan, or the country abroad when known).
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    # A licence alert goes to those who asked, and to those who checked it within this many days.
    licence_alert_recent_days: int = Field(default=180, ge=0)
    # Twilio's sending rate per sender number (messages a second; 1 for a long code's SMS).
    twilio_messages_per_second: float = Field(default=1.0, gt=0)
    # An alert to more people than this needs a second person's approval before it is sent.
    alert_approval_threshold: int = Field(default=1000, ge=0)

    @property
    def rasa_is_local(self) -> bool:
        return urlparse(self.rasa_url).hostname in {"127.0.0.1", "localhost", "::1"}

    @property
    def rasa_port(self) -> int:
        return urlparse(self.rasa_url).port or 5005


@lru_cache
def get_settings() -> Settings:
    return Settings()
