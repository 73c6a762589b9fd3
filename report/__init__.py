"""The sweep report: one self-contained HTML page per runs folder (runs.py reads the runs,
page.py writes the page; report.css and report.js are inlined into it)."""
