"""What memory this machine, its container and this process still allow, from /proc and /sys: no torch, so that
the command line can ask it even where importing torch would fail (a tight ``ulimit -v``)."""

from __future__ import annotations

import os

from ganbench.errors import MORE_MEMORY, one_line, raised_importing

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]


def host_memory_free() -> int | None:
    """Bytes free for all runs together on Linux: the host's MemAvailable, or less where a control group (a
    container) allows less; None where unknown."""
    known = [n for n in (_proc_number("/proc/meminfo", "MemAvailable:"), _control_group_room()) if n is not None]
    return min(known) if known else None


def process_memory_room() -> int | None:
    """Bytes one process may still map where ``ulimit -v`` (RLIMIT_AS) caps it, each run's own; None: no cap."""
    if resource is None:
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    mapped = _proc_number("/proc/self/status", "VmSize:")
    if soft == resource.RLIM_INFINITY or mapped is None:
        return None
    return max(soft - mapped, 0)


def _proc_number(path: str, key: str) -> int | None:
    """The kB figure of ``key`` in a /proc file, in bytes; None where there is none."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _control_group_room() -> int | None:
    """Bytes this process's control group may still take (a container's memory limit, cgroup v2 or v1), where a
    limit is set: MemAvailable counts the whole host."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "-", "")
        if controllers == "":
            names, roots = ("memory.max", "memory.current"), ("/sys/fs/cgroup" + path, "/sys/fs/cgroup")
        elif "memory" in controllers.split(","):
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes")
            roots = ("/sys/fs/cgroup/memory" + path, "/sys/fs/cgroup/memory")
        else:
            continue
        for root in roots:
            try:
                with open(os.path.join(root, names[0])) as f:
                    limit = f.read().strip()
                with open(os.path.join(root, names[1])) as f:
                    used = int(f.read())
            except (OSError, ValueError):
                continue
            if limit != "max" and limit.isdigit() and int(limit) < 2**60:  # v1 says "no limit" with a huge number
                return max(int(limit) - used, 0)
            break
    return None


LOST_EXCEPTION = ("without exception set", "without setting an exception")
"""How CPython says a C function failed without an exception: under a tight memory cap, one it could not make."""


def capped_import_line(exc: BaseException) -> str | None:
    """One line for an import that failed under a tight memory cap (``ulimit -v``, less than 1 GiB left): a
    library's segment that could not be mapped, or CPython's SystemError as it executes a module (pass 72), or
    its SystemError of an exception it could not make, anywhere (pass 75). Any other error, or one where memory
    is not short, is a bug: None, and the traceback stands (pass 73: a plugin's ValueError under a 60 GB cap was
    told "give it more memory")."""
    mapped = isinstance(exc, ImportError) and "failed to map segment" in str(exc)
    importing = raised_importing(exc)
    lost = type(exc) is SystemError and any(words in str(exc) for words in LOST_EXCEPTION)
    if not (mapped or (type(exc) is SystemError and (importing or lost))) or not memory_is_short():
        return None
    why = one_line(exc)[:160] or type(exc).__name__
    doing = "loading a library" if mapped or importing else "ganbench"
    return f"{doing} failed under this process's memory cap (ulimit -v): {why}; {MORE_MEMORY}"


def memory_is_short(room: int = 2**30) -> bool:
    """Whether this process may map less than ``room`` more bytes (``ulimit -v``); False where that is unknown,
    True where even asking runs out of memory (pass 75)."""
    try:
        left = process_memory_room()
    except MemoryError:
        return True
    return left is not None and left < room
