"""The conversation engine: one inbound message in, the replies out. Channel-agnostic.

Order of precedence for a message: opt-out, global commands, the active flow, a bare menu
number, then the NLU's intent. Every entry point (webhook, `rahnuma chat`, the dashboard
simulator, `rahnuma ask`) goes through here.
"""

import logging
from dataclasses import replace

from sqlmodel import Session

from bot.content.store import Content, get_content
from bot.conversation import flows
from bot.conversation.channels import Channel, fits, paginate
from bot.conversation.contacts import Contact, utcnow
from bot.conversation.intents import ACTION_FOR_INTENT
from bot.conversation.language import Lang, choose_language, detect, normalize
from bot.conversation.nlu import (
    RASA_FALLBACK_INTENT,
    KeywordClassifier,
    Nlu,
    NluResult,
    RasaClient,
    ResilientNlu,
)
from bot.conversation.turn import InboundMessage, OutboundMessage, Turn, Understanding
from bot.settings import Settings

log = logging.getLogger(__name__)

# Beyond this a message is not a question we can answer in one go; it is kept, not parsed.
MAX_BODY_CHARS = 1600
# How many of the likeliest topics to offer when the NLU is unsure, and how unlikely is too much.
MAX_CHOICES = 3
MIN_CHOICE_CONFIDENCE = 0.08
TWILIO_OPT_OUT = {"STOP": "stop", "START": "start", "HELP": "help"}
# After these answers the bot offers to take a complaint.
OFFER_COMPLAINT_AFTER = frozenset({"passport_held", "unpaid_wages", "contract_substitution"})


class Engine:
    def __init__(self, content: Content, nlu: Nlu, *, confidence_threshold: float,
                 sms_max_segments: int, first_response_hours: int = 48,
                 rate_limit_per_minute: int = 20):
        self.content = content
        self.nlu = nlu
        self.confidence_threshold = confidence_threshold
        self.sms_max_segments = sms_max_segments
        self.first_response_hours = first_response_hours
        self.rate_limit_per_minute = rate_limit_per_minute

    # ---- understanding (shared with the stateless `rahnuma ask`) ----

    def understand(self, body: str, *, chosen: str | None = None,
                   previous: str | None = None, parse: bool = True) -> Understanding:
        detection = detect(body)
        language = choose_language(detection, chosen=chosen, previous=previous)
        text = normalize(body, detection.language or language)
        result = self.nlu.parse(text) if parse and text else None
        return Understanding(text, language, result)

    def is_confident(self, result: NluResult | None) -> bool:
        return bool(result and result.intent and result.intent != RASA_FALLBACK_INTENT
                    and result.confidence >= self.confidence_threshold)

    def ask(self, body: str, channel: Channel = Channel.WHATSAPP) -> tuple[Understanding, str]:
        """Stateless answer: no contact, nothing stored, same path as a first message."""
        understanding = self.understand(body)
        turn = Turn(None, Contact(phone=""), InboundMessage("", channel, body),  # type: ignore
                    self.content, understanding)
        self._answer_by_intent(turn)
        page, _ = self._paginate(turn, "\n\n".join(turn.parts) or "")
        return understanding, page

    # ---- a whole turn for a contact ----

    def prefetch(self, inbound: InboundMessage, *, state: dict, opted_out: bool,
                 chosen: str | None, previous: str | None) -> NluResult | None:
        """The NLU's answer, asked before the contact is locked, when the message will need it:
        the database lock is then held for milliseconds, not for a round trip to Rasa."""
        body = inbound.body.strip()
        text = normalize(body) if body else ""
        if (not text or opted_out or len(body) > MAX_BODY_CHARS or state.get("flow")
                or text.isdigit() or self.content.command(text) or inbound.opt_out_type):
            return None
        return self.understand(body, chosen=chosen, previous=previous).nlu

    def handle(self, session: Session, contact: Contact, inbound: InboundMessage,
               *, first_contact: bool, prefetched: NluResult | None = None,
               ) -> tuple[Understanding, list[OutboundMessage]]:
        body = inbound.body.strip()
        command = self.content.command(normalize(body)) if body else None
        # Twilio recognised a carrier keyword (CANCEL, END, QUIT, ...): honour its meaning.
        command = TWILIO_OPT_OUT.get(inbound.opt_out_type or "", command)
        # The NLU is asked only when no command, flow or menu number has taken the message.
        understanding = self.understand(body, chosen=contact.language,
                                        previous=contact.last_language, parse=False)
        if prefetched is not None:
            understanding = replace(understanding, nlu=prefetched)
        turn = Turn(session, contact, inbound, self.content, understanding,
                    first_contact=first_contact, first_response_hours=self.first_response_hours)
        if contact.opted_out:
            if command == "start":
                flows.subscription.start(turn)
            return self._finish(turn)
        self._route(turn, body, command)
        return self._finish(turn)

    def _route(self, turn: Turn, body: str, command: str | None) -> None:
        if not body and turn.inbound.media and flows.accepts_media(turn):
            flows.continue_active(turn)
        elif not body:
            turn.say("media_unsupported" if turn.inbound.media else "empty")
        elif len(body) > MAX_BODY_CHARS:
            turn.say("too_long")
        elif command and flows.run_command(turn, command) or flows.continue_active(turn):
            pass
        elif turn.text.isdigit() and turn.text in self.content.menu:
            flows.menu.choose(turn, turn.text)
        elif flows.licence_check.mentions_licence(turn):
            flows.licence_check.start(turn)
        else:
            self._answer_by_intent(turn)
            if turn.understanding.intent in OFFER_COMPLAINT_AFTER:
                turn.optional.append(self.content.text("complaint_offer", turn.language))
            if turn.first_contact and turn.understanding.intent not in {"greet", "menu"}:
                turn.optional.append(self.content.text("after_first_answer", turn.language))

    def _answer_by_intent(self, turn: Turn) -> None:
        if turn.understanding.nlu is None and turn.text:
            turn.understanding = replace(turn.understanding, nlu=self.nlu.parse(turn.text))
        result = turn.understanding.nlu
        if self.is_confident(result):
            self._act_on(turn, result.intent)  # type: ignore[union-attr,arg-type]
            return
        options = self._likely_options(result)
        if options and turn.session is not None:
            flows.menu.offer(turn, options, header="did_you_mean")
        elif options:  # stateless: name the likeliest answer rather than start a flow
            self._act_on(turn, options[0])
        else:
            turn.say("fallback")
            turn.say("menu")

    def _act_on(self, turn: Turn, intent: str) -> None:
        action = ACTION_FOR_INTENT.get(intent)
        if action:
            flows.run_action(turn, action)
            return
        topic = self.content.topic_for_intent(intent)
        if topic:
            flows.menu.answer_topic(turn, topic)
        else:  # content check guarantees a topic; this only guards a mismatched model
            turn.say("fallback")
            turn.say("menu")

    def _likely_options(self, result: NluResult | None) -> list[str]:
        """Intents worth offering as numbered choices when the top intent is not sure enough."""
        if not result:
            return []
        skip = {RASA_FALLBACK_INTENT, "out_of_scope", "greet", "goodbye", "menu"}
        return [s.name for s in result.ranking
                if s.name not in skip and s.confidence >= MIN_CHOICE_CONFIDENCE][:MAX_CHOICES]

    # ---- output ----

    def _paginate(self, turn: Turn, text: str) -> tuple[str, str]:
        """The page to send now and the text kept for MORE (overflow, then the topic's MORE)."""
        page, rest = paginate(text, turn.channel,
                              more_hint=self.content.text("more_hint", turn.language),
                              sms_max_segments=self.sms_max_segments, continues=bool(turn.more))
        return page, "\n\n".join(p for p in (rest, turn.more) if p)

    def _with_optional(self, turn: Turn, text: str) -> str:
        """Adds the optional parts (hints) only where they fit on the answer's one page."""
        hint = "\n" + self.content.text("more_hint", turn.language) if turn.more else ""
        for extra in turn.optional:
            candidate = f"{text}\n\n{extra}"
            if fits(candidate + hint, turn.channel, sms_max_segments=self.sms_max_segments):
                text = candidate
        return text

    def _finish(self, turn: Turn) -> tuple[Understanding, list[OutboundMessage]]:
        contact = turn.contact
        contact.last_language = str(turn.language)
        contact.updated_at = utcnow()
        if not turn.parts:
            return turn.understanding, []
        page, rest = self._paginate(turn, self._with_optional(turn, "\n\n".join(turn.parts)))
        state = dict(turn.state)
        state.pop("more", None)
        if rest:
            state["more"] = rest
        contact.state = state
        return turn.understanding, [OutboundMessage(page, Lang(turn.language))]


def build_engine(settings: Settings, nlu: Nlu | None = None) -> Engine:
    """The engine every entry point uses, wired from settings (the NLU can be swapped in tests)."""
    if nlu is None:
        token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
        keywords = KeywordClassifier.from_file(settings.nlu_dir / "keywords.yml")
        rasa = RasaClient(settings.rasa_url, timeout=settings.nlu_timeout_seconds, token=token)
        nlu = ResilientNlu(rasa, keywords, retry_after=settings.nlu_retry_after_seconds)
    return Engine(get_content(settings.content_dir), nlu,
                  confidence_threshold=settings.nlu_confidence_threshold,
                  sms_max_segments=settings.sms_max_segments,
                  first_response_hours=settings.first_response_hours,
                  rate_limit_per_minute=settings.rate_limit_per_minute)
