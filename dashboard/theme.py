"""One colour-blind-safe palette and a Plotly template sized to be read on a projector."""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import plotly.io as pio

from queries.schema import (
    INCIDENT_CATEGORIES,
    INCIDENT_CHANNELS,
    REFERRAL_SOURCES,
    SUBSTANCES,
    TRAINING_AUDIENCES,
    TRAINING_TOPICS,
)

# Okabe-Ito, the palette most readable with colour-vision deficiency, then two neutral greys.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#6C5B7B",
    "#8C6D31",
)
BRAND_GREEN = "#006B3F"
OTHER_GREY = "#999999"
STREAM_COLOURS = {
    "incidents": "#0072B2",
    "ras": "#009E73",
    "training": "#E69F00",
    "rehab": "#CC79A7",
}
FONT_FAMILY = "Source Sans Pro, DejaVu Sans, Arial, sans-serif"
TEMPLATE_NAME = "usalama"


def _category_colours(values: tuple[str, ...]) -> dict[str, str]:
    # Grey is reserved for 'other', so no real category may be drawn in it.
    base = [colour for colour in PALETTE if colour != OTHER_GREY]
    colours = {value: base[i % len(base)] for i, value in enumerate(values)}
    colours["other"] = OTHER_GREY
    return colours


# A category keeps its colour on every chart of every page.
CATEGORY_COLOURS: dict[str, dict[str, str]] = {
    "category": _category_colours(INCIDENT_CATEGORIES),
    "channel": _category_colours(INCIDENT_CHANNELS),
    "audience": _category_colours(TRAINING_AUDIENCES),
    "topic": _category_colours(TRAINING_TOPICS),
    "source": _category_colours(REFERRAL_SOURCES),
    "substance": _category_colours(SUBSTANCES),
}


_ACRONYMS = {
    "gbv": "GBV",
    "ngao": "NGAO",
    "ra": "RA",
    "psra": "PSRA",
    "nacada": "NACADA",
    "ngo": "NGO",
}
_LABELS = {
    "hatua_app": "Hatua App",
    "50_plus": "50+",
    "under_15": "Under 15",
    "drugs_alcohol": "Drugs & alcohol",
    "no_ra": "No RA linked",
}


def label(code: str) -> str:
    """A stored code as people read it: 'ra_meeting' -> 'RA meeting', '15_19' -> '15-19'."""
    if code in _LABELS:
        return _LABELS[code]
    if "_" in code and code.replace("_", "").isdigit():
        return code.replace("_", "-")
    words = [_ACRONYMS.get(word, word) for word in code.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:] if text else text


def _register_template() -> None:
    template = go.layout.Template()
    template.layout = go.Layout(
        font=dict(family=FONT_FAMILY, size=18, color="#1A1A1A"),
        title=dict(font=dict(size=24), x=0, xanchor="left", y=0.97),
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=80, r=20, t=90, b=70),
        xaxis=dict(
            showgrid=False,
            linecolor="#444",
            ticks="outside",
            title_font_size=18,
            tickfont_size=16,
            # Numbers as every table and card writes them: 1,200 and 10,000, never 1200 or 10k.
            separatethousands=True,
            exponentformat="none",
            automargin=True,
        ),
        yaxis=dict(
            gridcolor="#E5E5E5",
            zeroline=False,
            title_font_size=18,
            tickfont_size=16,
            separatethousands=True,
            exponentformat="none",
            automargin=True,
        ),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font_size=16, title_text=""),
        hoverlabel=dict(font_size=16),
        separators=".,",
    )
    pio.templates[TEMPLATE_NAME] = template


_register_template()


@functools.cache
def template_json() -> dict:
    """The house template as a figure's JSON holds it (layout.template): made once, since
    Plotly would copy and validate it for every figure it is set on."""
    return pio.templates[TEMPLATE_NAME].to_plotly_json()


def colours_for(dimension: str) -> dict[str, str]:
    """The fixed colours of a category dimension: CATEGORY_COLOURS' own, or for forum types
    and settlement types (which it lacks) the palette in contract order; 'other' is grey."""
    from queries.schema import FORUM_TYPES, SETTLEMENT_TYPES

    if dimension in CATEGORY_COLOURS:
        return CATEGORY_COLOURS[dimension]
    values = {"forum_type": FORUM_TYPES, "settlement_type": SETTLEMENT_TYPES}[dimension]
    colours = _category_colours(values)
    if dimension == "settlement_type":
        colours["no_ra"] = "#CCCCCC"  # forums not linked to any RA
    return colours
