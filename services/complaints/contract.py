"""Complaints' published contract: what other services and the gateway may know
of complaint handling without importing its domain or application.

The handling commands (GB/T 19012 / ISO 10002: acknowledgement, assessment,
investigation, decision, communication, review, external dispute resolution,
corrective action; 9.4) the ``change`` RPC takes, and the integration events
complaints publishes. Complaints' own modules import these names from here:
one definition. This module imports only the standard library.
"""

from __future__ import annotations

# command name -> the Complaint method it runs; each takes the complaint id first
COMMANDS = {
    "acknowledge": "acknowledge",
    "assess": "assess",
    "assign_investigator": "assign_investigator",
    "decide": "decide",
    "communicate": "communicate",
    "accept": "accept",
    "reject": "reject",
    "record_review": "record_review",
    "record_consent": "record_consent",
    "refer_to_dispute": "refer_to_dispute",
    "record_dispute_outcome": "record_dispute_outcome",
    "agree_corrective_action": "agree_corrective_action",
}

# -- integration events ---------------------------------------------------------
# Versioned; no personal data.

SOURCE = "complaints"
# ComplaintReceived v2 — data: {complaint_id, number, channel, anonymous,
# received_at, verified, demand_id, referral_id, institution_id, staff_id}
# (links "" when absent). v2 added ``verified``: the complaint was filed with
# its case's progress code and its links derived from the case (a v1 message
# has none: not verified). The envelope's correlation_id is the demand id when
# linked.
COMPLAINT_RECEIVED = ("ComplaintReceived", 2)
# CorrectiveActionAgreed v3 — data: {complaint_id, number, outcome,
# demand_id, institution_id}: an improvement item for evaluation (9.3). v1
# also carried ``action``, the agreed action's text, which can name a person,
# and v1 and v2 ``owner``, the person responsible as staff typed them (a
# name, not an account; issue 18): both stay here, and evaluation reads them
# with ``corrective_action(complaint_id, version)`` (the envelope's
# aggregate_version; RPC below) when it opens the item; a v1 or v2 message is
# read with what it carries.
CORRECTIVE_ACTION_AGREED = ("CorrectiveActionAgreed", 3)
# For the complainant, whom notify tells (ISO 10002 8.3, 8.6; 9.4):
# ComplaintAcknowledged v1 {complaint_id, acknowledged_at};
# ComplaintDecided v1 {complaint_id, outcome (upheld | partly_upheld |
# not_upheld), decided_at}. The complainant's contact, the number and the
# decision's text stay here: notify reads them when it sends (RPC below).
# SuggestionReceived v2 — data: {card_id, institution_id, received_at,
# classified_at}: a comment card classified as a suggestion (9.1.1), which
# evaluation makes an improvement item with a deadline (9.3.1). The card's
# contact stays here, and since v2 its text too (v1 carried ``text``, the
# customer's own words; issue 18): evaluation reads it with
# ``suggestion_text(card_id)`` (RPC below); a v1 message is read with its text.
SUGGESTION_RECEIVED = ("SuggestionReceived", 2)
COMPLAINT_ACKNOWLEDGED = ("ComplaintAcknowledged", 1)
COMPLAINT_DECIDED = ("ComplaintDecided", 1)

# -- RPC for notify only ----------------------------------------------------------
# ``complainant_contact(complaint_id)`` -> {complaint_id, number, anonymous,
# name, phone, email, received_at, decision: {outcome, response, remedy},
# demand_id, institution_id}. nameko RPC has no caller identity: any client
# of the broker can call it (see services.complaints.service).

# -- RPC for evaluation only ------------------------------------------------------
# ``corrective_action(complaint_id, version)`` -> {complaint_id, number,
# action, owner}: the action agreed by the complaint's event at ``version``;
# ``suggestion_text(card_id)`` -> the text of a card classified as a
# suggestion. Read when evaluation opens the improvement item, never carried
# in an event (NotFound for anything else). Same caveat: no caller identity.
