"""The briefing's renderers (deck, workbook, HTML slides, PDF) and its command line,
`python -m dashboard.briefing`. Nothing here imports Streamlit: the command runs without a server.
"""
