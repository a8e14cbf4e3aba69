"""The app's own CSS, injected once per run by the entry point: large type for the projector,
cards that never cut their words, and the print stylesheet (any page printed without the sidebar,
charts fitted to the page width, tables whole)."""

from __future__ import annotations

import streamlit as st

SCREEN_CSS = """
[data-testid="stMetricValue"] { font-size: 2.4rem; line-height: 1.15; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem; font-weight: 600; line-height: 1.3; }
[data-testid="stMetricDelta"] { font-size: 1rem; }
/* Streamlit cuts a card's label, value, delta and its description with an ellipsis on one
   line; a card must never hide its words (a 4-card row at 1366 px is ~200 px a card), so
   every text in a card wraps instead, between words where it can. */
[data-testid="stMetric"] .stMarkdownEllipsis,
[data-testid="stMetric"] .stMarkdownEllipsis p {
    white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: break-word;
}
[data-testid="stMetric"] div:has(> [data-testid="stMetricDelta"]) {
    flex-wrap: wrap; overflow: visible; row-gap: 0.25rem; height: auto;
}
[data-testid="stMetricDelta"] {
    flex: 0 1 auto; min-width: 0; max-width: 100%; height: auto; border-radius: 0.75rem;
}
[data-testid="stMetricDeltaDescription"] { overflow: visible; min-width: 0; }
/* Projector: captions (and a card's "vs comparison period") at least 16 px. */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1rem; }
p.chart-title { font-size: 1.45rem; font-weight: 700; margin: 0.6rem 0 0 0; line-height: 1.25; }
p.chart-subtitle { font-size: 1rem; color: #555; margin: 0.15rem 0 0 0; }
/* The sidebar script below draws nothing: it must not push the page down by a gap. */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) {
    display: none;
}
/* Streamlit leaves 6rem above the title; under its 3.75rem header, 4.5rem is enough, and on
   a phone the saved space is a sixth of a screen of text. */
[data-testid="stMainBlockContainer"] { padding-top: 4.5rem; }
p.map-legend { font-size: 1rem; line-height: 1.8; margin: 0.3rem 0; }
/* A map or chart sent twice, fitted to a wide screen and to a phone's width: one shows. */
@media (min-width: 641px) { [class*="st-key-narrow-"] { display: none; } }
@media (max-width: 640px) { [class*="st-key-wide-"] { display: none; } }
/* On a phone the grid (a canvas of fixed-width columns) left a table's last columns off-screen
   behind its long first column. The table as text wraps the row's name and fits the screen, so a
   phone shows that instead; a long or wide one scrolls inside a frame of three quarters of the
   screen, with its header and each row's name kept in view. */
@media (max-width: 640px) {
  [data-testid="stElementContainer"]:has([data-testid="stDataFrame"]),
  [data-testid="stDataFrame"], .sort-hint { display: none; }
  div.print-table { display: block; overflow: auto; max-height: 75vh; margin: 0 0 0.5rem 0;
    /* A shadow at an edge with more columns beyond it says the table scrolls sideways: the
       white covers move with the content, the shadows stay at the frame's edges. */
    background:
      linear-gradient(to left, #fff 30%, rgba(255, 255, 255, 0)) 100% 0 / 40px 100% no-repeat local,
      radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, 0.25), rgba(0, 0, 0, 0))
        100% 0 / 16px 100% no-repeat scroll; }
  div.print-table table { border-collapse: collapse; border: 0; width: 100%;
    font-size: 0.95rem; line-height: 1.3; }
  div.print-table th, div.print-table td { border: 0; border-bottom: 1px solid #dde1e6;
    padding: 0.35rem 0.25rem; text-align: right; vertical-align: top; }
  div.print-table th { background: #f3f4f6; font-weight: 600; position: sticky; top: 0;
    z-index: 1; }
  div.print-table th:first-child, div.print-table td:first-child { text-align: left;
    position: sticky; left: 0; background: #fff; min-width: 6rem; max-width: 45vw; }
  div.print-table th:first-child { background: #f3f4f6; z-index: 2; }
}
"""

# Printing: A4 portrait with 12 mm margins leaves 186 mm (about 703 CSS px) of width.
PRINT_WIDTH_PX = 703
PRINT_CSS = """
@page { size: A4 portrait; margin: 12mm; }
@media print {
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stSidebarCollapseButton"], header[data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stElementToolbar"], [data-testid="stDownloadButton"], [data-testid="stButton"],
  [data-testid="stExpander"] summary svg, .no-print { display: none !important; }
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {
    height: auto !important; overflow: visible !important; position: static !important; }
  [data-testid="stMainBlockContainer"], .block-container {
    padding: 0 !important; margin: 0 !important; max-width: 100% !important; }
  /* A chart keeps the width it was drawn at on screen and is scaled down to the page (the
     script below records both), so it is never cut and never redrawn. */
  [data-testid="stPlotlyChart"], [data-testid="stDeckGlJsonChart"] {
    width: var(--screen-width, auto) !important; zoom: var(--print-zoom, 1);
    break-inside: avoid; }
  /* The grid on screen scrolls and shows ~16 rows; the printed table is the whole table. */
  [data-testid="stDataFrame"], [data-testid="stDataFrameResizable"] { display: none !important; }
  .print-table { display: block !important; max-height: none !important;
    overflow: visible !important; }
  .print-table table { border-collapse: collapse; width: 100%; font-size: 9pt; }
  .print-table th, .print-table td { border: 1px solid #999; padding: 1px 4px; text-align: left; }
  .print-table tr { break-inside: avoid; }
  h1, h2, h3, p.chart-title { break-after: avoid; }
  /* A row of cards wraps on the narrow page instead of running off its edge. */
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    flex: 1 1 150px !important; min-width: 150px !important; }
  /* A folded "Table: ..." prints open, so its table is on paper. */
  details::details-content { content-visibility: visible !important; display: block !important;
    height: auto !important; }
  details > div, details > section { display: block !important; }
}
.print-table { display: none; }
"""

# Keeps each chart's print zoom (page width / drawn width) current as charts are drawn.
PRINT_SCRIPT = """
<span class="print-zoom-script"></span>
<script>
(function () {
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  if (doc.body.dataset.printZoom) return;
  doc.body.dataset.printZoom = "1";
  const view = doc.defaultView || window;
  const fit = () => {
    if (view.matchMedia('print').matches) return;  // measure the screen layout only
    doc.querySelectorAll(
        '[data-testid="stPlotlyChart"], [data-testid="stDeckGlJsonChart"]').forEach((el) => {
      const width = el.getBoundingClientRect().width;
      if (width > 0) {
        el.style.setProperty('--screen-width', width + 'px');
        el.style.setProperty('--print-zoom', Math.min(1, PRINT_WIDTH_PX / width).toFixed(4));
      }
    });
  };
  new MutationObserver(fit).observe(doc.body, {childList: true, subtree: true});
  fit();
})();
</script>
""".replace("PRINT_WIDTH_PX", str(PRINT_WIDTH_PX))


# The script's element draws nothing; hidden, it takes no gap, so pages keep their spacing.
SCRIPT_HIDDEN_CSS = (
    '[data-testid="stElementContainer"]:has(.print-zoom-script) { display: none !important; }'
)


def inject() -> None:
    """Add the app's screen and print CSS, and the script that fits charts to a printed page."""
    st.html(f"<style>{SCREEN_CSS}{PRINT_CSS}{SCRIPT_HIDDEN_CSS}</style>")
    st.html(PRINT_SCRIPT, unsafe_allow_javascript=True)
