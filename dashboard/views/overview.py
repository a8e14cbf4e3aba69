"""Overview: the national (or selected counties') picture for officials and briefings."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.context import current
from queries.indicators import headline

HEADLINE_KEYS = [
    "incidents_reported",
    "incident_rate_per_100k",
    "incidents_resolved_pct",
    "ras_active",
    "ra_reporting_rate",
    "people_trained",
    "rehab_referrals",
    "referral_admission_pct",
]

context = current()
components.page_header("Programme overview", context, st.session_state.get("_url_notes", []))
cards = data.load(headline, context.url, context.filters, threshold=context.threshold)
components.headline_cards(cards, HEADLINE_KEYS, context)
components.suppression_note(context)
