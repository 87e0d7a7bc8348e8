"""Errors as people need to read them: the real exception behind Dagster's wrappers, in one line."""

from __future__ import annotations

import re

from dagster_project.core.lock import process_description

_DUCKDB_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")


def root_cause(error):
    """The innermost cause of a Dagster error (a step's `DagsterExecutionStepExecutionError`
    wraps the exception that was raised in the asset)."""
    while error.cause is not None:
        error = error.cause
    return error


def describe_error(error) -> str:
    """One line: the real exception, its message and, for a DuckDB lock conflict, who holds it."""
    cause = root_cause(error)
    message = (cause.message or "").strip()
    if not message.startswith(cause.cls_name or "\0"):
        message = f"{cause.cls_name}: {message}" if cause.cls_name else message
    holder = _DUCKDB_LOCK_HOLDER.search(message)
    if holder:
        message += f" — the holder is {process_description(int(holder.group(1)))}"
    return message


def exception_text(exc: BaseException | None) -> str:
    """A live exception in one line: the description of a `dg.Failure`, else type and message."""
    import dagster as dg

    if isinstance(exc, dg.Failure) and exc.description:
        return exc.description
    return f"{type(exc).__name__}: {exc}" if exc is not None else "failed"


def failure_message(data) -> str:
    """A step's or a run's failure (StepFailureData / JobFailureData) in one line: the description
    of a `dg.Failure` raised on purpose, else the real exception."""
    user = getattr(data, "user_failure_data", None)
    if user and user.description:
        return user.description
    return describe_error(data.error) if data.error else "failed"
