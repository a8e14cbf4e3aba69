"""The PS briefing: one model of slides (figures, charts, tables, sentences) built from the query
layer with the privacy rule applied, which the page, the deck, the workbook and the PDF render.

`build_briefing` gathers it; `Briefing.to_json` / `from_json` freeze it (`snapshots`).
"""

from queries.briefing.build import build_briefing
from queries.briefing.model import Briefing, Chart, Figure, IndicatorRow, Series, Slide, Table

__all__ = [
    "Briefing",
    "Chart",
    "Figure",
    "IndicatorRow",
    "Series",
    "Slide",
    "Table",
    "build_briefing",
]
