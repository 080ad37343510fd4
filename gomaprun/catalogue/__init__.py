"""Layer 1: the catalogue.

manifest   cases/manifest.tsv, the registry every other part reads
expect     expected/<id>.<variant>.expect, the only parser of that format
select     ids, globs and groups on the command line
command    the only place that builds a case's command line
sources    reading a case's C source and write-up (headers, the fix)
"""
