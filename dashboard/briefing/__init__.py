"""The briefing's renderers (deck, workbook, HTML slides, PDF) and its command line,
`python -m dashboard.briefing`. Nothing here imports Streamlit: the command runs without a server.
"""

from __future__ import annotations


def export_bytes(kind: str, model_json: str) -> bytes:
    """The bytes of a briefing export ('pptx', 'xlsx' or 'pdf') of a model in its JSON form."""
    from dashboard.briefing import deck, pdf, workbook
    from queries.briefing import Briefing

    writers = {"pptx": deck.pptx_bytes, "xlsx": workbook.xlsx_bytes, "pdf": pdf.pdf_bytes}
    return writers[kind](Briefing.from_json(model_json))
