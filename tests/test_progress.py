"""Progress off a terminal: a plain line per tenth of the work, not carriage-return bars."""

from __future__ import annotations

from ganbench.progress import progress


def test_a_log_gets_a_line_per_tenth(capsys):
    with progress(1000, desc="nsgan ring8 s0", unit="step") as bar:
        for step in range(1000):
            bar.update(1)
            bar.set_postfix({"loss_d": 1.234567, "step": step})
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) == 10
    assert lines[0].startswith("nsgan ring8 s0: 10% (100/1,000 steps") and "loss_d=1.23" in lines[0]
    assert lines[-1].startswith("nsgan ring8 s0: 100% (1,000/1,000 steps")


def test_a_resumed_loop_reports_only_what_is_new(capsys):
    bar = progress(100, initial=95, desc="run", unit="step")
    for _ in range(5):
        bar.update(1)
    assert [line.split(" (")[0] for line in capsys.readouterr().err.splitlines()] == ["run: 100%"]


def test_disabled_or_automatic_progress_prints_nothing_off_a_terminal(capsys):
    for enabled in (False, None):
        bar = progress(10, enabled=enabled, desc="quiet")
        bar.update(10)
        bar.close()
    assert capsys.readouterr().err == ""
