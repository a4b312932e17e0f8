"""``python -m xai_lite``: the command-line interface (see :mod:`xai_lite.cli`)."""

from .cli import main

raise SystemExit(main())
