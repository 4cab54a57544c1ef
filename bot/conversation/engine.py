"""The conversation engine: one inbound message in, the replies out. Channel-agnostic.

Order of precedence for a message: opt-out, global commands, the active flow, a bare menu
number, then the NLU's intent. Every entry point (webhook, `rahnuma chat`, the dashboard
simulator, `rahnuma ask`) goes through here.
"""

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache

from sqlmodel import Session

from bot.content.review import LiveContent
from bot.content.store import Content, get_content
from bot.conversation import flows, language, registry
from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, utcnow
from bot.conversation.flows import alerts, complaint, danger, journey, licence_check, menu
from bot.conversation.intents import ACTION_FOR_INTENT
from bot.conversation.language import Lang, choose_language
from bot.conversation.nlu import (
    RASA_FALLBACK_INTENT,
    KeywordClassifier,
    Nlu,
    NluResult,
    RasaClient,
    ResilientNlu,
)
from bot.conversation.render import Limits, render, with_optional
from bot.conversation.state import ConversationState
from bot.conversation.turn import InboundMessage, OutboundMessage, Turn, Understanding
from bot.outreach import sources
from bot.settings import Settings

log = logging.getLogger(__name__)

# One message meets language detection and normalization four or five times on its way (the
# prefetch, needs_nlu, handle, understand): the first pass is kept (~0.3 ms of CPU a message).
detect = lru_cache(maxsize=256)(language.detect)
normalize = lru_cache(maxsize=512)(language.normalize)

# Beyond this a message is not a question we can answer in one go; it is kept, not parsed.
MAX_BODY_CHARS = 1600
# How many of the likeliest topics to offer when the NLU is unsure, and how unlikely is too much.
MAX_CHOICES = 3
MIN_CHOICE_CONFIDENCE = 0.08
TWILIO_OPT_OUT = {"STOP": "stop", "START": "start", "HELP": "help"}
# After these answers the bot offers to take a complaint.
OFFER_COMPLAINT_AFTER = frozenset({"passport_held", "unpaid_wages", "contract_substitution"})
# The same answer asked for again within this time gets a pointer to it, not the text again.
REPEAT_WINDOW = timedelta(minutes=10)


class Engine:
    def __init__(self, content: Content, nlu: Nlu, *, confidence_threshold: float,
                 sms_max_segments: int, first_response_hours: int = 48,
                 urgent_response_hours: int = 4, rate_limit_per_minute: int = 20,
                 live: LiveContent | None = None):
        self.content = content
        # The texts staff published in the dashboard, looked up at every message.
        self.live = live
        self.nlu = nlu
        self.confidence_threshold = confidence_threshold
        self.sms_max_segments = sms_max_segments
        self.first_response_hours = first_response_hours
        self.urgent_response_hours = urgent_response_hours
        self.rate_limit_per_minute = rate_limit_per_minute

    # ---- understanding (shared with the stateless `rahnuma ask`) ----

    def understand(self, body: str, *, chosen: str | None = None,
                   previous: str | None = None, previous_sure: bool = True,
                   parse: bool = True) -> Understanding:
        detection = detect(body)
        language = choose_language(detection, chosen=chosen, previous=previous,
                                   words=len(body.split()), previous_sure=previous_sure)
        text = normalize(body, detection.language or language)
        result = self.nlu.parse(text) if parse and text else None
        return Understanding(text, language, result,
                             shown=detection.confident and detection.language == language)

    def is_confident(self, result: NluResult | None) -> bool:
        return bool(result and result.intent and result.intent != RASA_FALLBACK_INTENT
                    and result.confidence >= self.confidence_threshold)

    def ask(self, body: str, channel: Channel = Channel.WHATSAPP) -> tuple[Understanding, str]:
        """Stateless answer: no contact, nothing stored, same path as a first message."""
        turn = self.ask_turn(body, channel)
        messages, _ = render(turn.parts, self._limits(turn), more=turn.more)
        return turn.understanding, "\n\n".join(messages)

    def ask_turn(self, body: str, channel: Channel = Channel.WHATSAPP) -> Turn:
        """The stateless turn itself: its parts and the content keys it used (evaluations)."""
        said = sources.without_code(body) if sources.code_in(body) else body
        turn = Turn(None, Contact(phone=""), InboundMessage("", channel, said),
                    self.content, self.understand(said or sources.keyword_in(body), parse=False),
                    nlu=self.nlu)
        if said:
            self._answer_new(turn)
        else:  # a source's link text alone, as the webhook answers it (nothing is recorded)
            registry.start(turn, "welcome")
        return turn

    # ---- a whole turn for a contact ----

    def needs_nlu(self, body: str, state: ConversationState) -> bool:
        """Whether the router may ask the NLU about this message: the one rule, asked by the
        prefetch (before the contact is locked) and answered by the flows' registry."""
        text = normalize(body) if body else ""
        if not text or len(body) > MAX_BODY_CHARS or self.content.command(text):
            return False
        waiting = registry.waiting(state)
        if waiting is not None:
            return waiting.needs_nlu(state, text)
        return not (text.isdigit() or self.content.is_urgent(text))

    def prefetch(self, inbound: InboundMessage, *, state: dict, opted_out: bool,
                 chosen: str | None, previous: str | None) -> NluResult | None:
        """The NLU's answer, asked before the contact is locked, when the message will need it:
        the database lock is then held for milliseconds, not for a round trip to Rasa."""
        loaded = ConversationState.load(state)
        body = _own_words(inbound.body.strip(), loaded)
        if opted_out or inbound.opt_out_type or not self.needs_nlu(body, loaded):
            return None
        return self.understand(body, chosen=chosen, previous=previous,
                               previous_sure=loaded.language_sure).nlu

    def handle(self, session: Session, contact: Contact, inbound: InboundMessage,
               *, first_contact: bool, prefetched: NluResult | None = None,
               ) -> tuple[Understanding, list[OutboundMessage]]:
        if self.live is not None:
            self.content = self.live.current(session)
        # A source's link or keyword ("RAHNUMA SKT12"): the code is recorded, never answered;
        # the person's own words (often none) are what is answered.
        state = ConversationState.load(contact.state)
        code = None if registry.waiting(state) else sources.code_in(inbound.body)
        keyword = sources.keyword_in(inbound.body) if code else ""
        if code is not None:
            inbound = replace(inbound, body=sources.without_code(inbound.body))
        body = inbound.body.strip()
        command = self.content.command(normalize(body)) if body else None
        # Twilio recognised a carrier keyword (CANCEL, END, QUIT, ...): honour its meaning.
        command = TWILIO_OPT_OUT.get(inbound.opt_out_type or "", command)
        # A link's text alone: its keyword's script (رہنما, RAHNUMA) picks the welcome's language.
        understanding = self.understand(body or keyword, chosen=contact.language,
                                        previous=contact.last_language,
                                        previous_sure=state.language_sure, parse=False)
        if prefetched is not None:
            understanding = replace(understanding, nlu=prefetched)
        state.language_sure = state.language_sure or bool(contact.language) or \
            understanding.shown
        turn = Turn(session, contact, inbound, self.content, understanding,
                    first_contact=first_contact, first_response_hours=self.first_response_hours,
                    urgent_response_hours=self.urgent_response_hours, state=state, nlu=self.nlu)
        if contact.opted_out:
            if command == "start":
                flows.subscription.start(turn)
            return self._finish(turn)
        if code is not None:
            self._arrived_from(turn, code)
        self._route(turn, body, command)
        alerts.maybe_offer(turn)
        return self._finish(turn)

    def _arrived_from(self, turn: Turn, code: str) -> None:
        """Attribute the contact to the source (first touch kept for good, later touches too).
        A link's own text alone gets the welcome a new person gets."""
        source = sources.by_code(turn.db, code)
        if source is not None:
            sources.attribute(turn.db, contact=turn.contact, source=source,
                              new_contact=turn.first_contact)
        if not turn.inbound.body.strip():
            registry.start(turn, "welcome")

    def _route(self, turn: Turn, body: str, command: str | None) -> None:
        waiting = registry.waiting(turn.state)
        if not body and turn.inbound.media and waiting and waiting.step and \
                waiting.accepts_media:
            waiting.step(turn)
        elif not body and turn.parts:
            pass  # a source's link alone: welcomed already
        elif not body:
            turn.say("media_unsupported" if turn.inbound.media else "empty")
        elif len(body) > MAX_BODY_CHARS:
            turn.say("too_long")
        elif command and flows.run_command(turn, command):
            pass
        elif danger.detected(turn):
            danger.respond(turn)  # before any form or menu, whatever step is waiting
        elif waiting and waiting.step and waiting.step(turn):
            pass
        else:
            in_intake = turn.state.flow == complaint.FLOW
            self._answer_new(turn)
            if in_intake:  # the form asked something else: ask its question again
                if turn.state.flow == complaint.FLOW:
                    complaint.reprompt(turn)
                elif turn.state.intake:
                    turn.optional.append(self.content.text("complaint_paused", turn.language))

    def _answer_new(self, turn: Turn) -> None:
        """A message no command or waiting flow took: a menu number, a licence number, a topic
        asked for in so many words, or what the NLU makes of it."""
        if complaint.tells_story(turn.inbound.body) and turn.session is not None:
            turn.state.story = turn.inbound.body.strip()
        if turn.text.isdigit() and turn.text in self.content.menu:
            menu.choose(turn, turn.text)
        elif licence_check.mentions_licence(turn):
            licence_check.start(turn)
        elif journey.tells_departure(turn):  # "15 March, Riyadh": before the NLU, like a licence
            journey.start(turn)
        elif (route := self.content.route_in(turn.text)) and not self._wants_action(turn):
            self._answer_route(turn, route)
        else:
            self._answer_by_intent(turn)
            intent = turn.understanding.intent
            if intent in OFFER_COMPLAINT_AFTER:
                turn.optional.append(self.content.text("complaint_offer", turn.language))
            # The hint names 0 and 8; while a numbered list waits, 8 is a choice, not a command.
            if turn.first_contact and intent not in {"greet", "menu"} and not turn.state.flow:
                turn.optional.append(self.content.text("after_first_answer", turn.language))

    def _wants_action(self, turn: Turn) -> bool:
        """A route splits a family of questions finer than the NLU; it never overrides a clear
        request to act (complain, check a licence, talk to a person...)."""
        result = turn.understood()
        if not self.is_confident(result) or result is None:
            return False
        return ACTION_FOR_INTENT.get(result.intent or "") not in {
            None, "out_of_scope", "welcome", "goodbye", "menu", "job_request", "anger"}

    def _answer_route(self, turn: Turn, target: str) -> None:
        topic = self.content.topics.get(target)
        if topic:
            self._answer_topic(turn, topic.id)
        elif target in registry.names():
            registry.start(turn, target)  # "I want to complain, ...": the complaint itself
        else:
            turn.say(target)  # a ui text: job_request, anger_offer

    def _answer_by_intent(self, turn: Turn) -> None:
        result = turn.understood()
        if result is not None and result.intent and self.is_confident(result):
            self._act_on(turn, result.intent)
            return
        options = self._likely_options(result)
        if complaint.tells_story(turn.inbound.body) and turn.session is not None:
            # Someone telling what happened to them, and we are unsure what they ask: making
            # a complaint (with their story kept) comes first among the choices.
            options = ["file_complaint", *[o for o in options if o != "file_complaint"]][:4]
        if options and turn.session is not None:
            menu.offer(turn, options, header="did_you_mean")
        elif options:  # stateless: name the likeliest answer rather than start a flow
            self._act_on(turn, options[0])
        else:
            turn.say("fallback")
            turn.say("menu")

    def _act_on(self, turn: Turn, intent: str) -> None:
        action = ACTION_FOR_INTENT.get(intent)
        if action:
            registry.start(turn, action)
            return
        topic = self.content.topic_for_intent(intent)
        if topic:
            self._answer_topic(turn, topic.id)
        else:  # content check guarantees a topic; this only guards a mismatched model
            turn.say("fallback")
            turn.say("menu")

    def _answer_topic(self, turn: Turn, topic_id: str) -> None:
        """A topic's answer, or a pointer to it when it was just sent."""
        last = turn.state.last_answer
        key = f"topic:{topic_id}"
        if last and last.get("key") == key and turn.session is not None and \
                utcnow() - datetime.fromisoformat(last["at"]) < REPEAT_WINDOW:
            turn.say("already_sent")
            turn.more = turn.state.more
            return
        menu.answer_topic(turn, self.content.topics[topic_id])

    def _likely_options(self, result: NluResult | None) -> list[str]:
        """Intents worth offering as numbered choices when the top intent is not sure enough."""
        if not result:
            return []
        skip = {RASA_FALLBACK_INTENT, "out_of_scope", "greet", "goodbye", "menu"}
        return [s.name for s in result.ranking
                if s.name not in skip and s.confidence >= MIN_CHOICE_CONFIDENCE][:MAX_CHOICES]

    # ---- output ----

    def _limits(self, turn: Turn) -> Limits:
        return Limits(turn.channel, self.sms_max_segments,
                      self.content.text("more_hint", turn.language))

    def _finish(self, turn: Turn) -> tuple[Understanding, list[OutboundMessage]]:
        contact = turn.contact
        contact.last_language = str(turn.language)
        contact.updated_at = utcnow()
        state = turn.state
        if turn.parts:
            limits = self._limits(turn)
            parts = with_optional(turn.parts, turn.optional, limits, bool(turn.more))
            bodies, state.more = render(parts, limits, more=turn.more)
            topics = [k for k in turn.keys if k.startswith("topic:")]
            if topics:
                state.answered(topics[-1], utcnow())
        contact.state = state.dump()
        if not turn.parts:
            return turn.understanding, []
        keys = tuple(turn.keys)
        return turn.understanding, [OutboundMessage(body, Lang(turn.language), keys)
                                    for body in bodies]


def _own_words(body: str, state: ConversationState) -> str:
    """The message without a source's code: a code is read only when no form or question
    waits (inside a complaint, "rahnuma ab12" is part of what the person is telling)."""
    return body if registry.waiting(state) else sources.without_code(body)


def build_engine(settings: Settings, nlu: Nlu | None = None) -> Engine:
    """The engine every entry point uses, wired from settings (the NLU can be swapped in tests)."""
    if nlu is None:
        token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
        keywords = KeywordClassifier.from_file(settings.nlu_dir / "keywords.yml")
        rasa = RasaClient(settings.rasa_url, timeout=settings.nlu_timeout_seconds, token=token)
        nlu = ResilientNlu(rasa, keywords, retry_after=settings.nlu_retry_after_seconds)
    content = get_content(settings.content_dir)
    return Engine(content, nlu, live=LiveContent(content),
                  confidence_threshold=settings.nlu_confidence_threshold,
                  sms_max_segments=settings.sms_max_segments,
                  first_response_hours=settings.first_response_hours,
                  urgent_response_hours=settings.urgent_response_hours,
                  rate_limit_per_minute=settings.rate_limit_per_minute)
