"""Checkpoints carry a checksum: any flipped bit, truncation or foreign file is refused in one
line that names the file and --force, and the run folder is left exactly as it was."""

from __future__ import annotations

import hashlib
import io
import random
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import ganbench
from ganbench.checkpoints import checkpoint_header, load_checkpoint, save_checkpoint
from ganbench.errors import CheckpointError

from .conftest import assert_one_line_error

ARGS = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "40", "--checkpoint-every", "20", "-q"]


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def interrupted(cli, tmp_path):
    """A run folder as a kill leaves it: a checkpoint (step 40), spec and history, no record."""
    assert cli(*ARGS, "--out", str(tmp_path)).code == 0
    run_dir = next(tmp_path.iterdir())
    for name in ("record.json", "metrics.json", "samples.png"):
        (run_dir / name).unlink()
    return run_dir


def flip(path: Path, offset: int, mask: int = 0x10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def test_an_intact_checkpoint_resumes(cli, interrupted):
    assert checkpoint_header(interrupted / "checkpoint.pt")["step"] == 40
    assert cli(*ARGS, "--out", str(interrupted.parent)).code == 0
    assert (interrupted / "record.json").exists()


def test_a_run_resumes_at_the_cadence_its_history_was_logged_at(cli, interrupted):
    """Pass 93: resumed with another --log-every, history.csv held rows every 10 steps, then every 7, and nothing
    said so; the same command (its cadence, or none: the default it was run with) resumes."""
    before = folder_digest(interrupted)
    result = cli(*ARGS, "--out", str(interrupted.parent), "--log-every", "7")
    assert_one_line_error(result, "logged its history every 10 steps up to step 40; resume it with --log-every 10")
    assert folder_digest(interrupted) == before
    assert cli(*ARGS, "--out", str(interrupted.parent), "--log-every", "7", "--force").code == 0
    (interrupted / "record.json").unlink()
    assert cli(*ARGS, "--out", str(interrupted.parent), "--log-every", "7").code == 0


@pytest.mark.parametrize("where", [0, 25, 60, 0.25, 0.5, 0.75, -1])
def test_a_flipped_bit_anywhere_is_refused(cli, interrupted, where):
    checkpoint = interrupted / "checkpoint.pt"
    size = checkpoint.stat().st_size
    offset = where if isinstance(where, int) and where >= 0 else size - 1 if where == -1 else int(size * where)
    flip(checkpoint, offset)
    before = folder_digest(interrupted)
    result = cli(*ARGS, "--out", str(interrupted.parent))
    assert_one_line_error(result, str(checkpoint), "--force")
    assert folder_digest(interrupted) == before


def test_random_byte_flips_never_resume_and_never_trace(cli, interrupted):
    checkpoint = interrupted / "checkpoint.pt"
    original = checkpoint.read_bytes()
    rng = random.Random(7)
    for _ in range(12):
        data = bytearray(original)
        for offset in rng.sample(range(len(data)), 3):
            data[offset] = rng.randrange(256) if data[offset] else 1
        checkpoint.write_bytes(bytes(data))
        assert_one_line_error(cli(*ARGS, "--out", str(interrupted.parent)), "--force")
        assert not (interrupted / "record.json").exists()


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:30], "header"),
        (lambda b: b"", "is empty (0 bytes): not a ganbench checkpoint"),
        (lambda b: b + b"extra", "extra bytes"),
        (lambda b: bytes(random.Random(1).randrange(256) for _ in range(5000)), "not a ganbench checkpoint"),
        (lambda b: b.replace(b'"format": 2', b'"format": 9', 1), "format 9"),
    ],
)
def test_truncated_or_foreign_files_are_refused(cli, interrupted, damage, fragment):
    checkpoint = interrupted / "checkpoint.pt"
    checkpoint.write_bytes(damage(checkpoint.read_bytes()))
    before = folder_digest(interrupted)
    assert_one_line_error(cli(*ARGS, "--out", str(interrupted.parent)), str(checkpoint), fragment, "--force")
    assert folder_digest(interrupted) == before


def test_an_old_unchecksummed_checkpoint_is_refused(cli, interrupted):
    checkpoint = interrupted / "checkpoint.pt"
    buffer = io.BytesIO()
    torch.save({"format": "ganbench-checkpoint-1", "run_id": "x", "state": {}}, buffer)
    checkpoint.write_bytes(buffer.getvalue())
    assert_one_line_error(cli(*ARGS, "--out", str(interrupted.parent)), "older ganbench", "--force")


def test_a_valid_checkpoint_whose_state_does_not_fit_is_refused(cli, interrupted):
    checkpoint = interrupted / "checkpoint.pt"
    run_id = checkpoint_header(checkpoint)["run_id"]
    state = load_checkpoint(checkpoint, run_id)
    state["generator"] = {"0.0.weight": torch.zeros(3, 3)}
    save_checkpoint(checkpoint, run_id, state)
    assert_one_line_error(cli(*ARGS, "--out", str(interrupted.parent)), "does not fit this run", "--force")


@pytest.mark.parametrize(
    "field, value", [("step", 1000), ("step", -3), ("step", 2.5), ("step", True), ("epoch", -3), ("cursor", 10**9)]
)
def test_a_valid_checkpoint_claiming_a_step_no_run_of_its_spec_reaches_is_refused(cli, interrupted, field, value):
    """Forged with a valid checksum: 1000 steps of a 40-step run was recorded as completed, -3 trained 43 steps."""
    checkpoint = interrupted / "checkpoint.pt"
    run_id = checkpoint_header(checkpoint)["run_id"]
    state = load_checkpoint(checkpoint, run_id)
    state[field] = value
    save_checkpoint(checkpoint, run_id, state)
    result = cli(*ARGS, "--out", str(interrupted.parent))
    assert_one_line_error(result, f"holds {field} {value!r}", "the run: 40 steps", "--force")
    assert not (interrupted / "record.json").exists()


def test_force_starts_afresh_over_a_corrupt_checkpoint(cli, interrupted):
    flip(interrupted / "checkpoint.pt", 100)
    result = cli(*ARGS, "--out", str(interrupted.parent), "--force")
    assert result.code == 0, result.err
    assert "completed, 40 steps" in result.out


def test_the_checksum_covers_every_tensor_value(tmp_path):
    state = {"weights": torch.arange(1000, dtype=torch.float32), "step": 3}
    path = tmp_path / "c.pt"
    save_checkpoint(path, "abc", state)
    assert torch.equal(load_checkpoint(path, "abc")["weights"], state["weights"])
    raw = path.read_bytes()
    value = torch.tensor([500.0]).numpy().tobytes()  # one float of the weights, found in the payload
    offset = raw.rindex(value)
    flip(path, offset + 2, 0x01)
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path, "abc")


def test_run_id_mismatch_is_refused_before_loading(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, "abc", {"step": 1})
    with pytest.raises(CheckpointError, match="belongs to run abc"):
        load_checkpoint(path, "def")


def test_the_api_refuses_a_corrupt_checkpoint_too(tmp_path, interrupted):
    flip(interrupted / "checkpoint.pt", 200)
    with pytest.raises(CheckpointError, match="--force"):
        ganbench.run(variant="nsgan", dataset="ring8", steps=40, checkpoint_every=20, out=interrupted.parent)


@pytest.mark.parametrize("where", ["score", "render"])
def test_scores_failing_inside_the_loop_cost_a_rescore_not_the_steps_since_the_last_checkpoint(
    tmp_path, monkeypatch, where
):
    """With --eval-every, a failure scoring step 14 (a metric, the picture) checkpoints step 14 first: the rerun
    resumes there, scores it, and ends with an uninterrupted run's numbers and history."""
    import ganbench.harness

    options = dict(steps=21, checkpoint_every=1000, metrics=["modes", "frechet"], eval_samples=200, eval_every=7)
    options |= dict(log_every=7)
    whole = ganbench.run("nsgan", "ring8", out=tmp_path / "whole", **options)
    calls = []
    target = ganbench.harness if where == "score" else type(ganbench.get_dataset("ring8"))
    real = getattr(target, where)

    def failing_the_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError(f"{where} failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, where, failing_the_second_time)
    with pytest.raises(RuntimeError, match=f"{where} failed"):
        ganbench.run("nsgan", "ring8", out=tmp_path / "failed", **options)
    run_dir = tmp_path / "failed" / Path(whole.run_dir).name
    assert checkpoint_header(run_dir / "checkpoint.pt")["step"] == 14
    monkeypatch.setattr(target, where, real)
    again = ganbench.run("nsgan", "ring8", out=tmp_path / "failed", **options)
    assert again.resumed_from == 14 and again.metrics == whole.metrics and again.best == whole.best
    for name in ("metrics.json", "history.csv"):
        assert (run_dir / name).read_bytes() == (Path(whole.run_dir) / name).read_bytes(), name


@pytest.mark.parametrize("eval_every", [None, 7])  # 7: steps 7..35 scored, then the last, 40, fails
def test_a_metric_that_fails_after_training_costs_a_rescore_not_the_training(tmp_path, monkeypatch, eval_every):
    """The checkpoint is written before the final scores: the rerun resumes at the end and scores; its numbers
    and history (the last row's losses too) are an uninterrupted run's."""
    import ganbench.harness

    options = dict(steps=40, checkpoint_every=1000, metrics=["modes"], eval_samples=200, eval_every=eval_every)
    whole = ganbench.run("nsgan", "ring8", out=tmp_path / "whole", **options)
    real_score, calls = ganbench.harness.score, []

    def failing_at_the_end(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1 + 5 * bool(eval_every):
            raise RuntimeError("a plugin's metric failed")
        return real_score(*args, **kwargs)

    monkeypatch.setattr(ganbench.harness, "score", failing_at_the_end)
    with pytest.raises(RuntimeError, match="a plugin's metric failed"):
        ganbench.run("nsgan", "ring8", out=tmp_path / "failed", **options)
    run_dir = tmp_path / "failed" / Path(whole.run_dir).name
    assert checkpoint_header(run_dir / "checkpoint.pt")["step"] == 40 and not (run_dir / "record.json").exists()
    monkeypatch.setattr(ganbench.harness, "score", real_score)
    again = ganbench.run("nsgan", "ring8", out=tmp_path / "failed", **options)
    assert again.resumed_from == 40 and again.metrics == whole.metrics and again.best == whole.best
    for name in ("metrics.json", "history.csv"):
        assert (run_dir / name).read_bytes() == (Path(whole.run_dir) / name).read_bytes(), name


HEADER = "step,loss_d,loss_g,d_real,d_fake,js_estimate,g_grad_norm"
UNSCORED = SimpleNamespace(eval=SimpleNamespace(every=0), dataset="ring8", dataset_options={})  # what it reads


@pytest.mark.parametrize(
    "edit, said",
    [
        (None, None),
        ("unlink", "history.csv was gone when the run resumed at step 40"),
        ("garbage", "history.csv was no history ganbench reads (no 'step' header; kept as history.csv.unread) when"),
        ("bom", None),  # re-saved by a spreadsheet: a byte-order mark, CRLF (pass 52 F3: every row was erased)
        ("front", "history.csv held the rows of steps 30-40 only (rows deleted, or replaced?) when the run resumed"),
        ("tail", "history.csv held the rows of steps 10-20 only (rows deleted, or replaced?) when the run resumed"),
        ("empty", "history.csv was emptied when the run resumed at step 40"),  # pass 53 F1: no word
        ("header", "history.csv held no rows (rows deleted, or replaced?) when the run resumed at step 40"),
        # pass 57: a traceback at int('²'); '٢٠' and 'abc' were kept for plot to refuse the whole file
        ("superscript", "history.csv held 1 row(s) ganbench cannot read (line 3: step '²' is not a whole number)"),
        ("arabic", "history.csv held 1 row(s) ganbench cannot read (line 3: step '٢٠' is not a whole number)"),
        ("text", "history.csv held 1 row(s) ganbench cannot read (line 3: 'abc' is not a number), left out (the"),
        ("twice", "history.csv held 1 row(s) ganbench cannot read (line 4: step 20 after step 20)"),  # pass 58
        ("quoted", None),  # pass 58: every cell quoted (pandas' QUOTE_ALL) read as plot reads it, not set aside
    ],
)
def test_a_history_lost_while_a_run_was_stopped_is_said_as_it_resumes(cli, interrupted, edit, said):
    """The rows up to the checkpoint live in history.csv alone: deleted or replaced while a run was stopped, its
    curves (and plot's seeds) were silently shorter (pass 49 F3)."""
    history = interrupted / "history.csv"
    rows = history.read_text().splitlines()
    assert rows[0] == HEADER and [r.split(",")[0] for r in rows[1:]] == ["10", "20", "30", "40"]
    if edit == "unlink":
        history.unlink()
    elif edit == "garbage":
        history.write_text("not,a history\n")
    elif edit == "bom":
        history.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")
    elif edit == "empty":
        history.write_text("")
    elif edit == "twice":
        history.write_text("\n".join([*rows[:3], rows[2], *rows[3:]]) + "\n")
    elif edit == "quoted":
        history.write_text("".join(",".join(f'"{c}"' for c in row.split(",")) + "\n" for row in rows))
    elif edit in ("superscript", "arabic", "text"):
        cells = rows[2].split(",")
        cells[{"superscript": 0, "arabic": 0, "text": 1}[edit]] = {"superscript": "²", "arabic": "٢٠"}.get(edit, "abc")
        history.write_text("\n".join([*rows[:2], ",".join(cells), *rows[3:]]) + "\n")
    elif edit in ("front", "tail", "header"):
        kept = {"front": rows[3:], "tail": rows[1:3], "header": []}[edit]
        history.write_text("\n".join([rows[0], *kept]) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli(*ARGS, "--out", str(interrupted.parent)).code == 0
    warned = [str(w.message) for w in caught if "training curves miss" in str(w.message)]
    if edit == "garbage":  # kept aside, not emptied on a guess
        assert (history.parent / "history.csv.unread").read_text() == "not,a history\n"
    if edit in ("bom", "quoted"):  # the rows as ganbench writes them
        assert history.read_text().splitlines()[:5] == rows
    if edit in ("superscript", "arabic", "text", "twice"):  # the rows it could not read, kept in a copy
        assert (history.parent / "history.csv.unread").is_file()
    if said is None:
        assert warned == []
    else:
        assert len(warned) == 1 and said in warned[0] and "(to have them, rerun with --force, which" in warned[0]


@pytest.mark.parametrize("text", ["step\n", "step,loss_d\n", ""])  # a run too short to log, or killed before
@pytest.mark.parametrize("start_step", [5, 10])  # before the first row, or at it (whose row may follow its scoring)
def test_a_run_that_logged_nothing_before_its_checkpoint_resumes_without_a_word(tmp_path, text, start_step):
    from ganbench.loggers import history_csv

    (tmp_path / "history.csv").write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history_csv.on_run_start(spec=UNSCORED, run_dir=str(tmp_path), start_step=start_step, log_every=10)
    history_csv.on_run_end(run_dir=str(tmp_path))
    assert (tmp_path / "history.csv").read_text() == (text or "step\n")


@pytest.mark.parametrize("text", ["step,loss_d\n", ""])
def test_a_history_emptied_past_its_first_row_is_said_even_at_another_log_every(tmp_path, text):
    """Rows were due before step 11 at every 10 steps; at every 2 (a --log-every lowered at the resume) the
    curves miss those steps as well."""
    from ganbench.loggers import history_csv

    for log_every in (10, 2):
        (tmp_path / "history.csv").write_text(text)
        with pytest.warns(UserWarning, match="when the run resumed at step 11: its training curves miss"):
            history_csv.on_run_start(spec=UNSCORED, run_dir=str(tmp_path), start_step=11, log_every=log_every)
        history_csv.on_run_end(run_dir=str(tmp_path))


@pytest.mark.parametrize(
    "steps, start, missing",
    [
        (list(range(20, 301, 20)), 300, False),
        ([20, 40, 60, 160, 180, 200, 220, 240, 260, 280, 300], 300, True),  # 80-140 deleted (pass 51 F1)
        (list(range(40, 301, 20)), 300, True),  # the first row deleted
        (list(range(20, 201, 20)), 300, True),  # the rows before the checkpoint deleted
        ([20, 40, 60, 63, 70, 77, 84], 90, False),  # --log-every 20, then 7 from a resume at 60
        ([7, 14, 21, 40, 60, 80], 90, False),  # --log-every 7, then 20 from a resume at 21
        ([], 300, False),  # nothing logged before the checkpoint: a log_every longer than it
        ([5, 12, 18, 24], 27, False),  # --log-every 5, then 6 from a resume at 9 (pass 52 F1: a false alarm)
        ([10, 21, 24, 27], 27, False),  # 10, then 3 from a resume at 20
        ([5, 10, 15, 25], 27, True),  # the row just before the checkpoint deleted (pass 52 F2)
        ([7], 14, False),  # a checkpoint written as scoring step 14 failed, before its row: not a lost row
        ([7, 14], 21, False),
        ([7], 21, True),
        ([5, 10, 15, 25, 35], 40, False),  # two blocks deleted, or a cadence changed: not told apart, not said
    ],
)
def test_rows_missing_from_a_history_are_told_from_a_changed_log_every(steps, start, missing):
    from ganbench.loggers.history_csv import _rows_missing

    assert _rows_missing(steps, start, 0) is missing


@pytest.mark.parametrize(
    "steps, start, missing",
    [
        ([2, 3, 4], 4, False),  # --log-every 2 --eval-every 3: scoring rows between (a false alarm in CI)
        ([2, 3, 4, 6, 8, 9, 10, 12], 13, False),
        ([2, 3, 4, 9, 10, 12], 13, True),  # 6 and 8 deleted
        ([2, 3, 4, 6, 8, 9, 10], 13, True),  # 12, the row before the checkpoint
        ([4, 6, 8, 12, 16, 18, 20, 24], 25, False),  # --log-every 4 --eval-every 6
        ([2, 4, 6, 8, 10], 11, False),  # --log-every 2 --eval-every 4: every log row a multiple of 2 only
        ([3, 6, 9], 10, False),  # --log-every 6 --eval-every 3: every row a scoring row
        ([3, 9], 10, True),
    ],
)
def test_rows_missing_from_a_history_count_its_scoring_rows(steps, start, missing):
    from ganbench.loggers.history_csv import _rows_missing

    eval_every = 4 if start == 11 else 6 if start == 25 else 3
    assert _rows_missing(steps, start, eval_every) is missing


def test_a_history_row_holding_what_its_metric_cannot_give_is_set_aside_at_resume():
    """A hand-edited row (99 of ring8's 8 modes, a fraction of 5, a negative distance) was kept at resume and
    plotted (pass 60), where a record or a baseline holding it is refused; a diverged loss (nan, 1e308) is not
    an edit."""
    from ganbench.loggers.history_csv import _bounds, _rows_to_keep

    spec = ganbench.create_spec("nsgan", "ring8", metrics=["modes", "frechet"])
    header = ["step", "loss_d", "modes_captured", "hq_fraction", "reverse_kl", "frechet"]
    rows = [
        ["10", "1e308", "8", "0.5", "0.1", "0.2"],
        ["20", "nan", "99", "0.5", "0.1", "0.2"],
        ["30", "0.5", "7", "5", "0.1", "0.2"],
        ["40", "0.5", "7", "0.5", "", "-5"],
        ["50", "0.5", "2.5", "0.5", "0.1", "0.2"],
        ["60", "0.5", "", "", "", ""],
    ]
    kept, unreadable = _rows_to_keep([header, *rows], 60, 0, _bounds(spec))
    assert [row[0] for row in kept[1:]] == ["10", "60"]
    assert unreadable == [
        (3, "modes_captured = 99.0 is outside the values modes_captured can take, [0, 8]"),
        (4, "hq_fraction = 5.0 is outside the values hq_fraction can take, [0, 1]"),
        (5, "frechet = -5.0 is outside the values frechet can take, [0, inf]"),
        (6, "modes_captured = 2.5 is not a whole number (it counts)"),
    ]
