"""The fork server that the local pool's workers are forked from, started as early as possible.

The server imports torch and the training code once (seconds); every worker is then a fork of it
and starts in milliseconds (sweep/processes.py says why that matters for clean-up). Started when
the pool is first asked for, those seconds are spent while the whole sweep waits. The `emergelab`
script therefore starts it before its own imports when the command trains (`prestart`), so the
server imports on the second core while the driver imports on the first. This module imports
nothing heavy, so that it can run first.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.forkserver

# what a worker needs: the main script (a user's script may register its own tasks or metrics at
# import; the `emergelab` script itself imports only this package's light entry point) and the
# executor's entry point (which imports torch and the models). Not torch._dynamo (1.8 s): training
# never imports it (train/adamw.py calls the fused AdamW kernel without torch.optim, which would)
PRELOAD = ["__main__", "emergelab.sweep.executors"]
TRAINING_COMMANDS = ("demo", "run")


def context() -> mp.context.ForkServerContext:
    """The multiprocessing context of the local pool, with the server's preload set."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def prestart() -> None:
    """Start the fork server now; it imports in the background (returns at once). It exits with
    this process, so starting one that no pool uses costs only its imports, on an idle core."""
    context()
    multiprocessing.forkserver.ensure_running()


def trains(argv: list[str]) -> bool:
    """Whether the command line (without the program name) is one that trains: `emergelab demo`,
    `emergelab run SPEC` (also after global options such as --debug), but not their --help."""
    command = next((a for a in argv if not a.startswith("-")), None)
    return command in TRAINING_COMMANDS and "--help" not in argv


def prestart_for(argv: list[str]) -> None:
    """`prestart` when the command line (without the program name) is one that `trains`."""
    if trains(argv):
        try:
            prestart()
        except OSError:
            # this runs before the CLI, which turns environment errors into one line and exit 2;
            # the pool starts the server itself when it needs it, and the error surfaces there
            return
