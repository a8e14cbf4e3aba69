"""What every page needs to know for this run: the data source, the user's filters and scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from queries.access import Grant
from queries.db import DatabaseSource
from queries.filters import Filters

_KEY = "_page_context"


@dataclass(frozen=True)
class PageContext:
    """Set by the entry point before the page runs.

    Attributes:
        source: where the data come from (and whether they are the synthetic demo).
        filters: the user's selection, including their access scope.
        threshold: the privacy rule's small-cell threshold.
        counties: every county (code, name, population...).
        wards: every ward.
        as_of: the latest report time in EAT, or None.
        as_of_date: the contract's as-of date D, which every period preset ends on.
        grant: who is looking, with which role and county scope.
        notes: what was ignored in the link the user opened (until they change the filters).
        freshness: where the figures are read from and how fresh they are, when the app reads
            a serving copy (queries.serving), else None.
    """

    source: DatabaseSource
    filters: Filters
    threshold: int
    counties: pd.DataFrame
    wards: pd.DataFrame
    as_of: dt.datetime | None
    as_of_date: dt.date
    grant: Grant
    notes: tuple[str, ...] = ()
    freshness: str | None = None

    @property
    def url(self) -> str:
        return self.source.url

    def county_name(self, code: str) -> str:
        match = self.counties.loc[self.counties["county_code"] == code, "county_name"]
        return str(match.iloc[0]) if len(match) else code

    def selection_label(self) -> str:
        """'All counties', 'Nakuru', or 'Nakuru, Mombasa' (+ wards), for titles and captions."""
        codes = self.filters.county_codes
        if codes is None:
            return "All counties"
        names = [self.county_name(code) for code in codes]
        text = ", ".join(names) if len(names) <= 3 else f"{len(names)} counties"
        if self.filters.ward_codes:
            text += f" ({len(self.filters.ward_codes)} ward{'s' if len(self.filters.ward_codes) > 1 else ''})"
        return text

    def period_label(self) -> str:
        return f"{self.filters.start:%d %b %Y} – {self.filters.end:%d %b %Y}"

    def comparison_label(self) -> str:
        """The comparison period as a trend chart's subtitle names it, with how far its weeks
        are moved to sit under this period's."""
        from queries.trends import comparison_offset_weeks

        compared = self.filters.comparison_filters()
        weeks = comparison_offset_weeks(self.filters)
        return (
            f"{compared.start:%d %b %Y} – {compared.end:%d %b %Y}, "
            f"drawn {weeks} week{'s' if weeks != 1 else ''} later"
        )

    def source_note(self) -> str:
        """The source line every chart and table carries."""
        as_of = f"{self.as_of:%d %b %Y %H:%M} EAT" if self.as_of else "no reports yet"
        synthetic = " SYNTHETIC DEMO DATA." if self.source.is_demo else ""
        freshness = f" {self.freshness}" if self.freshness else ""
        return (
            f"Source: Usalama Mitaani reporting database, data as of {as_of}.{synthetic}{freshness}"
        )


def set_current(context: PageContext) -> None:
    st.session_state[_KEY] = context


def current() -> PageContext:
    """The context the entry point set for this run."""
    return st.session_state[_KEY]
