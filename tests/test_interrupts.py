"""Ctrl-C held back through moments that must not be cut (ganbench.interrupts)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ganbench.interrupts import holding_ctrl_c


def test_a_held_ctrl_c_is_raised_after_code_that_would_swallow_it():
    """torch swallowed a Ctrl-C while it imported numpy (left half imported): the command trained on, exit 0
    (pass 63). Held, the code inside never sees it, and it is raised as the hold ends."""
    started = signal.signal(signal.SIGINT, signal.default_int_handler)  # CI may start us ignoring it
    try:
        reached = []
        with pytest.raises(KeyboardInterrupt), holding_ctrl_c(then_raise=True):
            os.kill(os.getpid(), signal.SIGINT)
            try:
                time.sleep(0.05)  # where the import swallowed it
            except KeyboardInterrupt:
                reached.append("swallowed")
            reached.append("after")
        assert reached == ["after"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, started)


def test_a_ctrl_c_held_to_be_dropped_is_dropped():
    before = signal.getsignal(signal.SIGINT)
    with holding_ctrl_c(then_raise=False):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


@pytest.mark.parametrize("how", ["module", "script"])
def test_a_ctrl_c_handled_after_passing_through_code_run_from_a_string_exits_130(tmp_path, how):
    """A Ctrl-C that came while a dataclass was being made (code run from a string) left CPython's "unhandled
    Ctrl-C" mark set though main() handled it: `python -m ganbench` said "Interrupted." and then killed itself by
    the signal (-2, not 130) as it exited (pass 65, 3 of 13 tries)."""
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "sitecustomize.py").write_text(  # the Ctrl-C, where it came: inside code made from a string
        "import ganbench.threads\nganbench.threads.check_threads_env = lambda: exec('raise KeyboardInterrupt')\n"
    )
    program = [sys.executable, "-m", "ganbench"] if how == "module" else [str(Path(sys.executable).parent / "ganbench")]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [*program, "list"], capture_output=True, text=True, env=env, preexec_fn=_ctrl_c_as_a_terminal_sets_it
    )
    assert (done.returncode, done.stderr) == (130, "Interrupted.\n")


def _ctrl_c_as_a_terminal_sets_it() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # CI starts pytest ignoring Ctrl-C; Python then never handles it
