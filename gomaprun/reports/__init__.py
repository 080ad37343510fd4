"""Layer 5: reports. They read units and records; none of them starts a process.

text      the plan line, -v output, the failures, the table, the closing lines
json_report, junit
timeline  the map timeline as a terminal lane chart and as SVG
html      the self-contained HTML page
matrix    the detection matrix (text, markdown, HTML cells)
explain   --explain: write-up, source header, expected files, fix, and the
          timeline of the run the run loop captured for it
"""
