"""The intent names (fixed by DESIGN.md) and which of them a flow answers instead of a topic."""

INTENTS: tuple[str, ...] = (
    "greet", "goodbye", "menu", "change_language", "ask_fees", "ask_contract",
    "contract_substitution", "check_licence", "file_complaint", "complaint_channels",
    "complaint_status", "ask_visa", "ask_protector", "passport_held", "unpaid_wages",
    "red_flags", "human_handoff", "out_of_scope",
    # Added for answers the first eighteen lumped together (issue 11): the names above are
    # fixed by DESIGN.md; these extend them.
    "ask_contract_copy", "ask_receipts", "ask_demand", "forced_labour", "job_request", "anger",
)

# Intents answered by an action (a flow in bot/conversation/flows or a fixed ui text); all
# others by the content topic that lists the intent.


ACTION_FOR_INTENT: dict[str, str] = {
    "greet": "welcome",
    "goodbye": "goodbye",
    "menu": "menu",
    "change_language": "language",
    "human_handoff": "handoff",
    "complaint_status": "complaint_status",
    "check_licence": "licence_check",
    "file_complaint": "complaint",
    "out_of_scope": "out_of_scope",
    "job_request": "job_request",
    "anger": "anger",
}
# The departure journey has no intent of its own (DESIGN.md fixes the names): menu 10 and a
# message that tells a date and a destination start it (bot/conversation/flows/journey.py).
ACTIONS = frozenset(ACTION_FOR_INTENT.values()) | {"journey"}
