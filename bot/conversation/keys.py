"""Every text key the code asks `content/` for, declared once with the placeholders the code
fills. `Content.text` refuses a key or a placeholder that is not declared here, and `rahnuma
content check` refuses content that does not match (a missing key, a placeholder the code never
fills, a key nothing uses), so code and content cannot drift apart unnoticed.

Placeholders naming a `content/contacts.yml` entry ({fia_helpline}...) are filled from there
and need no declaration. A key may have an SMS version `<key>_sms` with the same placeholders.
"""

from bot.casework.referrals import Category, ReferredTo, Status
from bot.registry.licences import LicenceStatus

_NONE: frozenset[str] = frozenset()
LICENCE = frozenset({"name", "licence_no", "valid_until"})

TEXT_KEYS: dict[str, frozenset[str]] = {
    # conversation
    **{key: _NONE for key in (
        "welcome", "menu", "after_first_answer", "complaint_offer", "rate_limited", "more_hint",
        "no_more", "choose_language", "language_set", "choose_topic", "did_you_mean",
        "choice_invalid", "fallback", "out_of_scope", "help", "stopped", "started",
        "handoff_received", "media_unsupported", "too_long", "empty", "error", "goodbye",
        "status_none", "job_request", "already_sent", "answer_then_prompt", "anger_offer")},
    "handoff_when": frozenset({"hours"}),
    # the complaint intake
    **{key: _NONE for key in (
        "complaint_consent", "complaint_declined", "complaint_category", "complaint_describe",
        "complaint_agent", "complaint_money", "complaint_location", "complaint_callback",
        "complaint_callback_number", "complaint_summary", "complaint_confirm",
        "complaint_correct", "summary_category", "summary_agent", "summary_money",
        "summary_location", "summary_callback", "summary_none", "complaint_also_official",
        "complaint_urgent_help", "complaint_cancelled", "complaint_reask",
        "complaint_evidence_saved", "complaint_paused", "complaint_resumed",
        "complaint_something_else", "complaint_story_needed", "status_unknown_reference")},
    "complaint_received": frozenset({"reference", "hours"}),
    "complaint_received_urgent": frozenset({"reference", "hours"}),
    "complaint_joined": frozenset({"reference"}),
    "callback_received": frozenset({"reference"}),
    "status_one": frozenset({"reference", "date", "status"}),
    "status_note": frozenset({"note"}),
    # danger first
    "danger_help": frozenset({"mission", "emergency"}),
    "danger_help_family": frozenset({"mission", "emergency"}),
    "danger_help_home": _NONE,
    "danger_emergency_unknown": _NONE,
    "danger_mission_unknown": _NONE,
    "danger_offer": frozenset({"hours"}),
    "danger_marked_urgent": frozenset({"hours"}),
    # the licence check
    "licence_ask": _NONE,
    "licence_no_list": _NONE,
    "licence_status_valid_no_date": LICENCE,
    **{f"licence_status_{status}": LICENCE for status in LicenceStatus},
    "licence_details": frozenset({"city", "phone", "date"}),
    "licence_advice_valid": _NONE,
    "licence_advice_stop": _NONE,
    "licence_not_found": frozenset({"query", "date"}),
    "licence_name_not_found": frozenset({"query", "date"}),
    "licence_choose": frozenset({"date"}),
    "licence_similar": frozenset({"query", "date"}),
    # licence alerts (bot/outreach/licence_alerts.py): the offer after an answer, the alert
    "licence_alert_offer": frozenset({"licence_no"}),
    "licence_alert_on": frozenset({"licence_no"}),
    "licence_alert_off": frozenset({"licence_no"}),
    "licence_alert": frozenset({"name", "licence_no", "status", "date"}),
    **{f"licence_alert_state_{status}": _NONE for status in LicenceStatus
       if status != LicenceStatus.VALID},
    # alerts to many: the one-time offer, the district, "stop alerts" (flows/alerts.py)
    **{key: _NONE for key in (
        "alerts_offer", "alerts_on_ask_district", "alerts_on", "alerts_district_saved",
        "alerts_district_skipped", "alerts_district_unknown", "alerts_off",
        "alerts_stopped")},
    # alerts to many: the frame around the warning staff wrote (bot/outreach/broadcasts.py)
    "alert_frame": frozenset({"warning"}),
    # a changemaker's referral after a session (bot/outreach/changemaker_referrals.py)
    "session_referral_received": frozenset({"reference"}),
    # a source's printed card (api/staff/sources.py): {keyword} "RAHNUMA <CODE>"
    **{key: _NONE for key in ("source_card_title", "source_card_what")},
    "source_card_scan": frozenset({"keyword", "whatsapp"}),
    "source_card_sms": frozenset({"keyword", "sms"}),
    # case updates to the worker (bot/outreach/case_updates.py); NEW is never a change
    **{f"case_update_{status}": frozenset({"reference"}) for status in Status
       if status not in (Status.NEW, Status.REFERRED)},
    "case_update_referred": frozenset({"reference", "office"}),
    "case_update_note": frozenset({"reference", "note"}),
    **{f"case_office_{office}": _NONE for office in ReferredTo},
    # the departure journey (bot/conversation/flows/journey.py, bot/outreach/journey_jobs.py)
    **{key: _NONE for key in (
        "journey_ask", "journey_not_understood", "journey_declined", "journey_stopped",
        "journey_none", "journey_checkin_paid", "journey_checkin_offer",
        "journey_checkin_later")},
    **{key: frozenset({"date"}) for key in (
        "journey_ask_place", "journey_date_past", "journey_date_far",
        "journey_reminder_protector")},
    "journey_reminder_briefing": frozenset({"date", "checklist"}),
    **{key: frozenset({"date", "place"}) for key in (
        "journey_offer", "journey_moved", "journey_current")},
    "journey_ask_date": frozenset({"place"}),
    "journey_scheduled": frozenset({"first"}),
    "journey_reminder_contract": frozenset({"date", "deadline"}),
    "journey_reminder_mission": frozenset({"date", "place", "mission", "emergency"}),
    "journey_checkin": frozenset({"place"}),
    # names the code builds from a value
    **{f"category_{category}": _NONE for category in Category},
    **{f"complaint_state_{status}": _NONE for status in Status},
    **{f"title_{action}": _NONE for action in (
        "menu", "language", "handoff", "complaint_status", "complaint", "licence_check")},
}
# Staff's canned replies (api/staff/cases.py offers every key with this prefix).
CANNED_PREFIX = "canned_"
CANNED_PLACEHOLDERS = frozenset({"reference"})


def declared(key: str) -> frozenset[str] | None:
    """The placeholders the code fills for `key`, or None when no code asks for it."""
    if key.startswith(CANNED_PREFIX):
        return CANNED_PLACEHOLDERS
    base = key.removesuffix("_sms")
    return TEXT_KEYS.get(key, TEXT_KEYS.get(base))
