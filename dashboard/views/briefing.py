"""Briefing: the selection (or a frozen snapshot) as slides for the projector, with downloads."""

from __future__ import annotations

import streamlit as st

from dashboard import data, slideshow
from dashboard.context import current
from queries.briefing import build_briefing

context = current()
snapshot = slideshow.opened_snapshot(context)
if snapshot is not None:
    model = snapshot.model
else:
    model = data.load(
        build_briefing,
        context.url,
        context.filters,
        threshold=context.threshold,
        is_demo=context.source.is_demo,
    )
number = slideshow.slide_number(len(model.slides))
slideshow.show_slide(model, number)
slideshow.navigation(len(model.slides), number)
slideshow.downloads(model, context)
slideshow.snapshots(model, snapshot, context)
st.page_link("views/overview.py", label="Leave the briefing", icon=":material/arrow_back:")
