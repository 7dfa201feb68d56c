"""What is leased and who holds it: run dates' lease keys and process holder ids (whose
process, on this machine, can be seen to be gone)."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import date

__all__ = ["process_holder", "run_lease_key"]


def run_lease_key(pipeline: str, run_day: date) -> str:
    """The lease key of one run date of a pipeline: ``<pipeline>/<YYYY-MM-DD>``."""
    return f"{pipeline}/{run_day.isoformat()}"


#: Kinds of holder that are one process (``<kind>:<host>:<pid>:<random>``): the CLI's runs
#: and demand store syncs. A lease of such a process on this machine that no longer
#: exists is taken over at once instead of waiting for it to expire.
_PROCESS_KINDS = ("cli", "sync")


def _machine() -> str:
    """This machine as process ids see it: the host name, and the pid namespace where
    there is one (containers sharing a host name do not share pids)."""
    try:
        namespace = f"/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}{namespace}"


def process_holder(kind: str = "cli") -> str:
    """A holder id for this process: ``<kind>:<host>[/<pid namespace>]:<pid>:<random>``."""
    if kind not in _PROCESS_KINDS:
        raise ValueError(f"kind must be one of {_PROCESS_KINDS}")
    return f"{kind}:{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _local_process_gone(holder: str) -> bool:
    """Whether ``holder`` is a process of this machine that no longer runs."""
    parts = holder.split(":")
    if len(parts) != 4 or parts[0] not in _PROCESS_KINDS or parts[1] != _machine():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
