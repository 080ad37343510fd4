"""gomaprun: the runner of the gomap-repro catalogue (runner.py is its entry point).

The package is cut into layers; a module imports only from its own layer or
the layers below it (tests/runner/test_layers.py checks this by reading the
imports). From the bottom up:

    0 base        exit statuses, UsageError, the outcome names, small helpers
    1 catalogue   the registry (cases/manifest.tsv), selection, the only
                  `.expect` parser, the only builder of a case's command line
    2 build       CMake presets (default, tsan; per map generation) and bringing
                  a build up to date (a stamp, the build's generation checked)
      gobuild     the Go toolchain and the Go twins' build (cases/go.md)
      execution   processes: posix_spawn, process groups, timeouts, output caps
    3 judges      how a finished run is judged: the signature judge (expected/)
                  and the ThreadSanitizer judge; the flight-recorder reader
    4 runloop     units, seeds, policies and the one run loop
    5 reports     text table, JSON, JUnit, HTML, timelines, detection matrix,
                  --explain, the merge of shard reports, the end of a run
                  (run_report); they read results and never start a process
    6 cmdline     the argument parser and every option-combination check
    7 pipeline    the one path of every command that runs something: its
                  plan's units, builds, plan line, the run loop, its report
      main        what each command line does: a plan of units under their
                  judges, or --explain, --list, --merge
      gomain      the Go twins' plans (--go, --against-go)

A new way of judging a run is a new judge (judges/), registered by name
(judges.register; main and --merge make it with make_judge); a new way of
running a case (another program, another schedule) is a new judge that
builds its own command line (Judge.argv) plus, if it needs one, a build
preset; the run loop and the reports take any judge.
"""

# The layers, bottom first; modules are named by their first component below
# the package. The layering test reads this table.
LAYERS = (
    ("base",),
    ("catalogue",),
    ("build", "gobuild", "execution"),
    ("judges",),
    ("runloop",),
    ("reports",),
    ("cmdline",),
    ("pipeline", "main", "gomain"),
)
