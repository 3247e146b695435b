"""Run the local server: ``python -m devserver --help``."""

from devserver.cli import main

raise SystemExit(main())
