"""Layer 4: units and the one run loop.

units      a unit is one (case, variant, mode) under one judge, with its
           runs' records, its policy and its verdict; run seeds
progress   the live status line and the per-unit progress lines
loop       run_units, the only loop that runs units, and capture_one, one
           captured run for --explain
"""
