#!/usr/bin/env python3
"""Run the catalogue of concurrent-map failures many times and check every signature.

The runner lives in the package gomaprun/ (its layers are described in
gomaprun/__init__.py and docs/design.md); this file is its entry point.
`python3 runner.py --help` describes the command line.

Standard library only; Python 3.9 or newer.
"""

import sys

from gomaprun.main import main

if __name__ == "__main__":
    sys.exit(main())
