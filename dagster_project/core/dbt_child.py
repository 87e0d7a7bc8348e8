"""`kaohe-dbt`: dbt's own command line, in a child process that dies with the run that started it.

dagster-dbt runs each dbt command as a child process. Killed with `kill -9`, a run cannot stop
its child, which would go on writing the warehouse after the run's writer lock is released (the
next run then fails on DuckDB's own lock instead of waiting for kaohe's). So the dbt that kaohe
starts asks the kernel first (Linux `prctl(PR_SET_PDEATHSIG)`) to be killed when its parent
dies, then runs dbt's command line as the `dbt` script does.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_ENV = "KAOHE_DBT_PARENT"  # the pid of the process that starts dbt (analysis/scratch.run_dbt)


def die_with_parent() -> None:
    """SIGKILL this process when its parent ends; exit at once if the parent already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    expected = os.environ.get(PARENT_ENV)
    if expected and os.getppid() != int(expected):  # the parent died before the signal was set
        sys.exit(f"kaohe-dbt: the run that started dbt (pid {expected}) is gone")


def main() -> None:
    if sys.platform.startswith("linux"):
        die_with_parent()
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
