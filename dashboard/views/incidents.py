"""Incidents page (placeholder until its issue lands)."""

from __future__ import annotations

import streamlit as st

from dashboard import components
from dashboard.context import current

context = current()
components.page_header("Incidents", context, st.session_state.get("_url_notes", []))
st.info("This page is being built.")
