"""The `emergelab` script (and `python -m emergelab`).

A thin door in front of `emergelab.cli`: a command that trains starts the workers' fork server
(`forkserver.prestart_for`) before the CLI's imports (torch, pydantic, the sweep: seconds), so
both import at once on two cores instead of one after the other. Such a command imports only
run.py's commands (`emergelab.cli.main`); the analysis code waits until the sweep has started.
"""

from __future__ import annotations

import sys


def main() -> None:
    from emergelab.forkserver import prestart_for

    prestart_for(sys.argv[1:])
    from emergelab.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
