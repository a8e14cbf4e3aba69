"""The briefing's data model: slides of figures, charts, tables and sentences, serialised to JSON.

Plain dataclasses, so that the page, the deck, the workbook, the PDF and a frozen snapshot all
render one model. Every hidden figure is already hidden here: a suppressed value is None with
its label ("<5" / "suppressed") beside it, never the number.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# A table cell: a number, text (a code, a name, "<5"), or None (no value).
Cell = float | int | str | None

# On every slide of a briefing built from the synthetic demo database.
DEMO_MARK = "SYNTHETIC DEMO DATA"
MODEL_VERSION = 1


@dataclass
class Figure:
    """One indicator as a slide shows it.

    Attributes:
        key, label, unit, kind: the indicator's (queries.indicators.INDICATORS).
        value: the unrounded number; None when hidden or when there is no value.
        text: the value as shown ("1,234", "55.2%", "<5", "Suppressed", "No data").
        hidden: the privacy rule hides it; `hidden_label` is then "<5" or "suppressed".
        comparison, change, change_pct: only for a like-for-like figure with a valid comparison
            and neither side hidden; else None.
        change_text: "+154 (+13.1%)" / "+2.1 pts", or None when no change is shown.
        direction: "up", "down", "flat" or None (no arrow).
        meaningful: the indicator's significance test called the change meaningful.
        test: "poisson", "two_proportion" or None (no test applies).
        note: why the value or its change reads as it does, or None.
        note_short: the same in a few words, for the line under the figure ("Oct 2026:
            latest month due", "as it stands now"), or None.
    """

    key: str
    label: str
    unit: str
    kind: str
    value: float | None
    text: str
    hidden: bool = False
    hidden_label: str | None = None
    comparison: float | None = None
    change: float | None = None
    change_pct: float | None = None
    change_text: str | None = None
    direction: str | None = None
    meaningful: bool = False
    test: str | None = None
    note: str | None = None
    note_short: str | None = None


def unchanged_line(figure: Figure) -> str:
    """The line under a figure shown without a change: why, in a few words (the month an RA
    reporting rate covers, "as it stands now"), else that it is not compared."""
    if figure.note_short:
        return figure.note_short[:1].upper() + figure.note_short[1:]
    return "Not compared" if figure.note else "No change shown"


@dataclass
class Series:
    """One series of a chart; None is a gap (a hidden or missing value)."""

    name: str
    values: list[float | None]


@dataclass
class Chart:
    """A chart the deck draws natively: 'line', 'column' or 'bar' over categories."""

    title: str
    kind: str
    categories: list[str]
    series: list[Series]
    unit: str = ""
    note: str | None = None


@dataclass
class Table:
    """A table behind a slide; `name` is its sheet name in the workbook (at most 31 chars)."""

    name: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass
class Slide:
    """One slide: a title, headline sentences, key figures, charts, tables, its source."""

    key: str
    title: str
    sentences: list[str]
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    source: str = ""
    notes: list[str] = field(default_factory=list)
    # Definitions slide: (label, definition) pairs.
    definitions: list[list[str]] = field(default_factory=list)


@dataclass
class IndicatorRow:
    """One row of the workbook's `Indicators` sheet: a contract indicator for the selection.

    `value` and `comparison` are unrounded numbers, "<5" / "suppressed" where hidden, or None.
    """

    key: str
    label: str
    value: float | str | None
    comparison: float | str | None
    change: float | None
    unit: str


@dataclass
class Briefing:
    """The whole briefing for one selection.

    Attributes:
        title: e.g. "Usalama Mitaani briefing: All counties".
        place: the selection in words ("all counties", "Nakuru", "Nakuru and Mombasa").
        start, end: the period (inclusive EAT dates).
        comparison: 'previous' or 'last_year'; comparison_start/end its period.
        comparison_label: "the previous 28 days", "the same period last year".
        comparison_note: why there is no valid comparison, or None.
        counties: the county codes of the selection (empty: every county in scope).
        scope: the county scope it was made for (None: national).
        as_of: the contract's as-of date D of the figures.
        data_as_of: the latest report time (EAT), as text, or None.
        generated_at: when the model was built (UTC, ISO text).
        threshold: the privacy rule's threshold it was built with.
        is_demo: the figures come from the synthetic demo database.
    """

    title: str
    place: str
    start: dt.date
    end: dt.date
    comparison: str
    comparison_start: dt.date
    comparison_end: dt.date
    comparison_label: str
    comparison_note: str | None
    counties: list[str]
    scope: list[str] | None
    as_of: dt.date
    data_as_of: str | None
    generated_at: str
    threshold: int
    slides: list[Slide]
    indicators: list[IndicatorRow]
    is_demo: bool = False
    version: int = MODEL_VERSION

    @property
    def period_text(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"

    @property
    def footer_text(self) -> str:
        """What every slide's footer says beside its source: the period, and on the demo that
        its figures are synthetic (any slide may be shown, or photographed, on its own)."""
        return f"{DEMO_MARK} · {self.period_text}" if self.is_demo else self.period_text

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        for name in ("start", "end", "comparison_start", "comparison_end", "as_of"):
            document[name] = getattr(self, name).isoformat()
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Briefing:
        data = dict(document)
        for name in ("start", "end", "comparison_start", "comparison_end", "as_of"):
            data[name] = dt.date.fromisoformat(data[name])
        data["slides"] = [_slide(s) for s in data["slides"]]
        data["indicators"] = [IndicatorRow(**row) for row in data["indicators"]]
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Briefing:
        return cls.from_dict(json.loads(text))


def _slide(document: dict[str, Any]) -> Slide:
    data = dict(document)
    data["figures"] = [Figure(**f) for f in data.get("figures", [])]
    data["charts"] = [
        Chart(**{**c, "series": [Series(**s) for s in c["series"]]}) for c in data.get("charts", [])
    ]
    data["tables"] = [Table(**t) for t in data.get("tables", [])]
    return Slide(**data)
