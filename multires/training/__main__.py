"""``python -m multires.training``: the command line trainer (:mod:`multires.training.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
