"""Records you can trust: strict JSON, one cell per spec, unreadable records reported, one
process per run folder."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ganbench
from ganbench.harness import run_job
from ganbench.locks import OWNER, RunLock
from ganbench.results import scan_results, strict_json

from .conftest import assert_one_line_error

RING = ["run", "-v", "nsgan", "-d", "ring8", "-q"]


def strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_strict_json_turns_non_finite_numbers_into_null():
    import numpy as np
    import torch

    data = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": np.float32("nan"), "d": torch.tensor(2.0), "e": 3}
    assert strict_json(data) == {"a": None, "b": [None, None, 1.5], "c": None, "d": 2.0, "e": 3}


def test_a_run_that_captures_no_mode_writes_null_and_the_table_counts_it(cli, tmp_path):
    # sigma 1e-6: no generated point lands within 3 sigma of a mode, so reverse_kl is undefined
    result = cli(*RING, "--steps", "5", "--set", "dataset.sigma=1e-6", "--out", str(tmp_path))
    assert result.code == 0, result.err
    metrics_file = next(tmp_path.glob("*/metrics.json"))
    metrics = strict_loads(metrics_file.read_text())
    assert metrics["modes_captured"] == 0 and metrics["reverse_kl"] is None
    assert "| reverse_kl     | –" in result.out
    table = cli("table", str(tmp_path), "--metrics", "modes_captured,reverse_kl")
    assert table.code == 0 and "– (1 missing)" in table.out
    csv = cli("table", str(tmp_path), "--metrics", "reverse_kl", "--format", "csv").out.splitlines()
    assert csv[1].endswith(",0,1"), csv  # reverse_kl_n 0, reverse_kl_missing 1
    options = dict(variant="nsgan", dataset="ring8", steps=5, overrides={"dataset.sigma": 1e-6}, out=tmp_path / "api")
    fresh, loaded = ganbench.run(**options), ganbench.run(**options)  # trained, then read from its folder
    assert fresh.metrics["reverse_kl"] is None and fresh.metrics == loaded.metrics  # was NaN, then None


@pytest.mark.slow
def test_every_json_file_of_twenty_mixed_runs_is_strict(cli, tmp_path, exploding):
    """Completed, mode-less, time-limited and diverged runs on both mixtures: every file parses strictly."""
    out = str(tmp_path)
    mixed = cli("run", "-v", "nsgan,wgan,hinge", "-d", "ring8,grid25", "-s", "0-1", "--steps", "8", "-q", "-o", out)
    assert mixed.code == 0, mixed.err
    assert cli(*RING, "--steps", "5", "-s", "0-2", "--set", "dataset.sigma=1e-6", "-o", out).code == 0
    assert cli(*RING, "--steps", "100000", "--max-seconds", "0.3", "-o", out).code == 0
    specs = [ganbench.create_spec("exploding", "ring8", seed=s, steps=200) for s in range(4)]
    records = [run_job(s.to_dict(), out, progress=False) for s in specs]
    assert {r.status for r in records} == {"diverged"}
    files = list(tmp_path.rglob("*.json"))
    runs = {p.parent for p in files}
    assert len(runs) == 20
    for path in files:
        strict_loads(path.read_text())
    statuses = [strict_loads((run / "record.json").read_text())["status"] for run in runs]
    assert statuses.count("diverged") == 4
    assert any(strict_loads((run / "metrics.json").read_text()).get("reverse_kl", 0) is None for run in runs)
    assert any(strict_loads((run / "record.json").read_text())["stopped_by"] == "max_seconds" for run in runs)
    strict_loads(cli("list", "--json").out)


def test_a_table_keeps_different_budgets_and_overrides_apart(cli, tmp_path):
    out = str(tmp_path)
    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", out).code == 0
    assert cli(*RING, "--steps", "20", "-s", "0-1", "-o", out).code == 0
    assert cli(*RING, "--steps", "10", "--set", "lr_d=1e-3", "-o", out).code == 0
    result = cli("table", out, "--metrics", "modes_captured")
    assert result.code == 0, result.err
    header = [c.strip() for c in result.out.splitlines()[0].split("|")]
    runs = [line.split("|") for line in result.out.splitlines() if line.startswith("| ring8") and "| [" not in line]
    rows = {cells[header.index("setting")].strip(): cells for cells in runs}  # reference rows ([real], ...) apart
    assert set(rows) == {"steps=10, lr_d=0.0001", "steps=20, lr_d=0.0001", "steps=10, lr_d=0.001"}
    assert {label: cells[header.index("steps")].strip() for label, cells in rows.items()} == {
        "steps=10, lr_d=0.0001": "10",
        "steps=20, lr_d=0.0001": "20",
        "steps=10, lr_d=0.001": "10",
    }
    counts = {label: int(cells[header.index("n")]) for label, cells in rows.items()}
    assert counts == {"steps=10, lr_d=0.0001": 2, "steps=20, lr_d=0.0001": 2, "steps=10, lr_d=0.001": 1}
    assert "| setting " in result.out.splitlines()[0]


def test_configs_a_label_would_join_are_rows_of_their_own(cli, tmp_path):
    """Pass 77: network options were left out of every label where two networks were compared (widths 8 and 16 of
    mlp were both "network=mlp"), and floats were cut to 6 digits: one row, n=1, the other config's run dropped."""
    out = str(tmp_path)
    mlp = ("--network", "mlp", "--steps", "5", "-o", out, "-m", "frechet")
    assert cli(*RING, *mlp, "--set", "network.width=8", "-s", "0-1").code == 0
    assert cli(*RING, *mlp, "--set", "network.width=16").code == 0
    assert cli(*RING, *mlp, "--set", "network.width=8", "--set", "lr_d=1.0000001e-4").code == 0
    assert cli(*RING, "--network", "pacgan-mlp", "--steps", "5", "-o", out, "-m", "frechet").code == 0
    result = cli("table", out, "--format", "csv")
    assert result.code == 0, result.err
    runs = [row for row in csv.DictReader(io.StringIO(result.out)) if not row["variant"].startswith("[")]
    counts = {row["setting"]: int(row["n"]) for row in runs}
    assert counts == {
        "network=mlp, lr_d=0.0001, network.width=8": 2,
        "network=mlp, lr_d=0.0001, network.width=16": 1,
        "network=mlp, lr_d=0.00010000001": 1,
        "network=pacgan-mlp, lr_d=0.0001": 1,
    }, counts


def test_changed_images_under_one_path_are_told_apart_from_the_old_ones():
    """Pass 77: beside another path, the sha256 of images was left out of labels (the path says enough), so the
    runs on x/d.npz before and after its images changed were one row and the new one was dropped."""
    import pandas as pd

    from ganbench.results import settings

    def spec(path: str, sha256: str) -> dict:
        return {"variant": "dcgan", "dataset": "files", "dataset_options": {"path": path, "sha256": sha256}}

    specs = {"c1": spec("/d/x/d.npz", "a" * 64), "c2": spec("/d/y/d.npz", "b" * 64), "c3": spec("/d/x/d.npz", "c" * 64)}
    frame = pd.DataFrame({"config": list(specs), "dataset": "files", "variant": "dcgan"})
    assert settings(frame, specs) == {
        "c1": "dataset.path=.../x/d.npz, dataset.sha256=aaaaaaaaaaaa",
        "c2": "dataset.path=.../y/d.npz",
        "c3": "dataset.path=.../x/d.npz, dataset.sha256=cccccccccccc",
    }


def test_runs_of_one_dataset_scored_with_other_weights_are_labelled_whatever_their_variant():
    """Pass 79: gan's FID with some Inception weights and nsgan's with others stood side by side, unlabelled (each
    variant had one config), one of them bold, and the leaderboard figure ranked them."""
    import pandas as pd

    from ganbench.results import settings

    def spec(variant: str, weights: str, n: int = 20) -> dict:
        features = json.dumps({"inception": {"weights": f"sha256 {weights * 64}"}})
        return {"variant": variant, "dataset": "files", "code": {"features": features}, "eval": {"n_samples": n}}

    frame = pd.DataFrame({"config": ["c1", "c2"], "dataset": "files", "variant": ["gan", "nsgan"]})
    assert settings(frame, {"c1": spec("gan", "e"), "c2": spec("nsgan", "f")}) == {
        "c1": "code.features=inception weights sha256 eeeeeeeeeeee",
        "c2": "code.features=inception weights sha256 ffffffffffff",
    }
    assert settings(frame, {"c1": spec("gan", "e"), "c2": spec("nsgan", "e", 30)}) == {
        "c1": "eval_samples=20",
        "c2": "eval_samples=30",
    }
    assert settings(frame, {"c1": spec("gan", "e"), "c2": spec("nsgan", "e")}) == {"c1": "", "c2": ""}


def test_runs_of_one_dataset_on_other_data_are_labelled_whatever_their_variant(cli, tmp_path):
    """Pass 80: ring8 of sigma 0.01 for gan and 0.2 for nsgan (and a file whose images changed between two variants'
    runs) stood unlabelled, each bold as the best of its data: the labels held only the path, not every key that
    says what a run was scored against."""
    import pandas as pd

    from ganbench.results import settings

    def spec(variant: str, **options) -> dict:
        return {"variant": variant, "dataset": "ring8", "dataset_options": options}

    frame = pd.DataFrame({"config": ["c1", "c2"], "dataset": "ring8", "variant": ["gan", "nsgan"]})
    assert settings(frame, {"c1": spec("gan", sigma=0.01), "c2": spec("nsgan", sigma=0.2)}) == {
        "c1": "dataset.sigma=0.01",
        "c2": "dataset.sigma=0.2",
    }
    frame["dataset"] = "files"
    one_path = {
        "c1": spec("gan", path="/d/x.npz", sha256="a" * 64),
        "c2": spec("nsgan", path="/d/x.npz", sha256="b" * 64),
    }
    assert settings(frame, one_path) == {"c1": "dataset.sha256=aaaaaaaaaaaa", "c2": "dataset.sha256=bbbbbbbbbbbb"}
    frame["dataset"] = "myring"  # pass 81: a plugin's ring whose radius was edited between two variants' runs
    code = {c: {**spec(v), "dataset": "myring", "code": {"dataset": f"myring 0.1 {h * 16}"}} for c, v, h in
            (("c1", "gan", "a"), ("c2", "nsgan", "b"))}  # fmt: skip
    assert settings(frame, code) == {
        "c1": "code.dataset=myring 0.1 " + "a" * 16,
        "c2": "code.dataset=myring 0.1 " + "b" * 16,
    }
    from ganbench.results import scored_on

    assert scored_on(code["c1"]) != scored_on(code["c2"])  # never bold, nor given reference rows, across them
    out = str(tmp_path)
    for variant, sigma in (("gan", "0.01"), ("nsgan", "0.2")):
        run = ("run", "-v", variant, "-d", "ring8", "--steps", "5", "-m", "frechet", "--set", f"dataset.sigma={sigma}")
        assert cli(*run, "-o", out).code == 0
    rows = [row for row in csv.DictReader(io.StringIO(cli("table", out, "--format", "csv").out))]
    assert {(r["variant"], r["setting"]) for r in rows if not r["variant"].startswith("[")} == {
        ("gan", "dataset.sigma=0.01"),
        ("nsgan", "dataset.sigma=0.2"),
    }


def test_one_config_has_no_setting_column(cli, tmp_path):
    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", str(tmp_path)).code == 0
    header = cli("table", str(tmp_path)).out.splitlines()[0]
    assert "setting" not in header and "| n " in header


def test_a_copied_run_folder_counts_once(cli, tmp_path):
    assert cli(*RING, "--steps", "10", "-o", str(tmp_path / "a")).code == 0
    run = next((tmp_path / "a").iterdir())
    (tmp_path / "b").mkdir()
    os.system(f"cp -r '{run}' '{tmp_path / 'b'}'")
    result = cli("table", str(tmp_path), "--metrics", "modes_captured")
    assert "| ring8   | nsgan   | 1 " in result.out
    assert "repeat a run found elsewhere" in result.err


def edit(text: str, **fields: object) -> str:
    """A record's text with ``fields`` set."""
    return json.dumps({**json.loads(text), **fields})


def edit_environment(text: str, **changes) -> str:
    record = json.loads(text)
    record["environment"].update(changes)
    return json.dumps(record)


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda t: t[: len(t) // 2], "not valid JSON"),
        (lambda t: "", "not valid JSON"),
        (lambda t: "[1, 2]", "not a JSON object"),
        (lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "spec"}), "missing spec"),
        (lambda t: t.replace('"completed"', '"finished"'), "unknown status"),
        (lambda t: edit_spec(t, variant=["x"]), "spec.variant must be a name"),
        (lambda t: edit_spec(t, budget=None), "spec.budget must hold integer steps"),
        (lambda t: edit_spec(t, seed="zero"), "spec.seed must be a non-negative integer"),
        (lambda t: "[" * 100_000 + "]" * 100_000, "not strict JSON (nested too deeply)"),
        (lambda t: t.replace('"steps_done": 10', '"steps_done": 1' + "0" * 300), "not strict JSON (the integer 1000"),
        (lambda t: t.replace('"steps_done": 10', '"steps_done": 1e400'), "not strict JSON (the number 1e400 is beyond"),
        (lambda t: t.replace('"steps_done": 10', '"steps_done": Infinity'), "not strict JSON (Infinity is not"),
        (
            lambda t: t.replace('"steps_done": 10', '"steps_done": 10, "steps_done": 4'),
            "not strict JSON (it holds the key 'steps_done' twice",
        ),
        (lambda t: json.dumps({**json.loads(t), "run_id": ["a"]}), "run_id must be text"),
        (lambda t: edit_spec(t, variant_options=[1, 2]), "spec.variant_options must be an object"),
        (lambda t: edit_spec(t, eval="fast"), "spec.eval must be an object"),
        (lambda t: edit_spec(t, eval={"n_samples": "many", "metrics": []}), "spec.eval must hold integer n_samples"),
        (lambda t: json.dumps({**json.loads(t), "environment": {"torch_threads": "2"}}), "environment.torch_threads"),
        (lambda t: json.dumps({**json.loads(t), "environment": [1]}), "environment must be an object, not [1]"),
        # each crashed `leaderboard update`, or made a baseline `check` refused (pass 50 F1, F2):
        (lambda t: edit_environment(t, torch_threads=0), "environment.torch_threads must be a positive integer"),
        (lambda t: edit_environment(t, device=7), "environment.device must be text, not 7"),
        (lambda t: edit_environment(t, device=["cpu"]), "environment.device must be text, not ['cpu']"),
        (lambda t: edit_environment(t, machine={"a": [1]}), "environment.machine must be text"),
        (lambda t: edit_environment(t, cpu=None), "environment.cpu must be text, not None"),
        (lambda t: edit_spec(t, seed=1), "its spec does not hash to its run id"),
        (
            lambda t: json.dumps({**json.loads(t), "metrics": {"modes_captured": 8}}),
            "its metrics differ from the run's",
        ),
        (lambda t: t.replace('"steps_done": 10', '"steps_done": 11'), "steps_done must be a whole number from 0 to"),
        (lambda t: t.replace('"steps_done": 10', '"steps_done": 9'), "a run stopped by its steps has done all 10"),
        (lambda t: t.replace('"schema_version": 1', '"schema_version": 2'), "written by a newer ganbench"),
        (lambda t: t.replace('"diverged_at": null', '"diverged_at": 5'), "a completed run did not diverge"),
        (lambda t: t.replace('"diverged_at": null', '"diverged_at": -1'), "diverged_at must be null or a step from 1"),
        (lambda t: t.replace('"stopped_by": "steps"', '"stopped_by": "error"'), "a completed run was stopped by its"),
        (lambda t: t.replace('"completed"', '"diverged"'), "a diverged run stops at the step it diverged"),
        # values no run writes, counted as good (pass 55)
        (lambda t: edit(t, stopped_by="max_seconds"), "stopped_by is max_seconds, but its budget has no time limit"),
        (lambda t: edit(t, resumed_from=999), "resumed_from must be null or a step from 1 to the budget's 10"),
        (lambda t: edit(t, train_seconds=-5), "train_seconds must be null or a number of seconds >= 0, not -5"),
        (lambda t: edit(t, wall_seconds="x"), "wall_seconds must be null or a number of seconds >= 0, not 'x'"),
        (lambda t: edit(t, error=5), "error must be null or text, not 5"),
        (lambda t: edit(t, best={"modes_captured": {"value": 8, "step": 99}}), "best modes_captured must be a score"),
        (lambda t: edit(t, best={"modes_captured": {"value": -1, "step": 10}}), "best.modes_captured = -1 is outside"),
    ],
)
def test_an_unreadable_record_is_reported_and_counted(cli, tmp_path, damage, why):
    assert cli(*RING, "--steps", "10", "-s", "0-2", "-o", str(tmp_path)).code == 0
    broken = sorted(tmp_path.glob("*/record.json"))[0]
    broken.write_text(damage(broken.read_text()))
    result = cli("table", str(tmp_path), "--metrics", "modes_captured")
    assert result.code == 0
    warnings = result.err.strip().splitlines()
    assert warnings[0].startswith(f"warning: unreadable record {broken}: {why}")
    assert "1 unreadable record(s) left out of the table" in warnings[1]
    assert "| ring8   | nsgan   | 2 " in result.out
    scan = scan_results(tmp_path)
    assert [p for p, _ in scan.unreadable] == [broken] and len(scan.runs) == 2
    with pytest.warns(UserWarning, match="unreadable record"):
        ganbench.load_results(tmp_path)
    plotted = cli("plot", str(tmp_path), "-o", str(tmp_path / "figures"))
    assert plotted.code == 0 and "Traceback" not in plotted.err and "unreadable record" in plotted.err


@pytest.mark.parametrize("special", ["fifo", "device"])
def test_a_record_that_is_not_a_regular_file_is_never_read(cli, tmp_path, special):
    """A FIFO would block the table forever; a link to /dev/zero would fill the memory."""
    import os

    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", str(tmp_path)).code == 0
    broken = sorted(tmp_path.glob("*/record.json"))[0]
    broken.unlink()
    if special == "fifo":
        os.mkfifo(broken)
    else:
        broken.symlink_to("/dev/zero")
    result = cli("table", str(tmp_path), "--metrics", "modes_captured")
    assert result.code == 0 and f"unreadable record {broken}: not a regular file" in result.err
    assert "| ring8   | nsgan   | 1 " in result.out


def test_a_folder_named_with_a_newline_and_escapes_forges_no_line(cli, tmp_path):
    """A warning quoting a folder called "x\nError: fake" was two lines, the second an error of its own."""
    import shutil

    assert cli(*RING, "--steps", "10", "-o", str(tmp_path)).code == 0
    odd = tmp_path / "x\nError: fake \x1b[31mred"
    shutil.copytree(next(tmp_path.glob("ring8__*")), odd)
    (odd / "record.json").write_text("[")
    for command in (["table", str(tmp_path)], ["plot", str(tmp_path), "--out", str(tmp_path.parent / "figs")]):
        result = cli(*command)
        assert result.code == 0, result.err
        lines = result.err.splitlines()
        assert lines and all(line.startswith("warning: ") for line in lines), lines
        assert "x\\nError: fake \\x1b[31mred" in result.err and "\x1b" not in result.err


def test_a_record_copied_into_another_runs_folder_is_not_taken_as_that_run(cli, tmp_path):
    """Seed 1's record.json copied over seed 0's: the table does not show seed 1 twice, and the run
    of seed 0 trains again instead of returning seed 1's numbers."""
    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", str(tmp_path)).code == 0
    seed0, seed1 = sorted(tmp_path.glob("ring8__nsgan__seed*"))
    (seed0 / "record.json").write_bytes((seed1 / "record.json").read_bytes())
    result = cli("table", str(tmp_path), "--metrics", "modes_captured")
    assert f"unreadable record {seed0 / 'record.json'}: it is the record of run" in result.err
    assert "| ring8   | nsgan   | 1 " in result.out
    again = cli(*RING, "--steps", "10", "-s", "0", "-o", str(tmp_path))
    assert again.code == 0 and json.loads((seed0 / "record.json").read_text())["spec"]["seed"] == 0


def test_a_renamed_copy_of_a_run_folder_is_told_to_be_named_back_or_deleted_not_rerun(cli, tmp_path):
    """`cp -r <run> <run>.bak`: "rerun that run with --force" wrote into the run's own folder, and the warning
    stayed for ever."""
    assert cli(*RING, "--steps", "10", "-o", str(tmp_path / "out")).code == 0
    (run,) = (tmp_path / "out").iterdir()
    shutil.copytree(run, run.with_name(run.name + ".bak"))
    result = cli("table", str(tmp_path / "out"), "--metrics", "modes_captured")
    said = f"in a folder renamed from its own, {run.name}; give the folder its own name back, or delete it if it is"
    assert result.code == 0 and said in result.err and "--force" not in result.err, result.err
    assert "| ring8   | nsgan   | 1 " in result.out
    shutil.rmtree(run)
    assert_one_line_error(cli("table", str(tmp_path / "out")), "no readable run under", said)


def test_a_link_named_like_a_run_never_hides_the_run_it_links_to(cli, tmp_path):
    """`ln -s <run> out/link__x`: the link was walked first and the real folder, the same inode, never; the run
    then counted as a renamed copy, out of the table (pass 55)."""
    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", str(tmp_path / "out")).code == 0
    seed0 = next((tmp_path / "out").glob("ring8__nsgan__seed0__*"))
    for name in ("link__x", "zz__x", "a__x"):
        (tmp_path / "out" / name).symlink_to(seed0.name)
    result = cli("table", str(tmp_path / "out"), "--metrics", "modes_captured")
    assert "| ring8   | nsgan   | 2 " in result.out, result.out + result.err


def test_one_run_found_twice_with_different_values_names_both_folders_and_the_one_counted(cli, tmp_path):
    """Results of two machines merged into one folder: the run id does not hold the hardware, and the table took
    whichever copy's folder sorted first, saying only that a folder repeats a run."""
    assert cli(*RING, "--steps", "10", "-o", str(tmp_path / "out")).code == 0
    (run,) = (tmp_path / "out").iterdir()
    other = tmp_path / "out" / "other-machine" / run.name
    shutil.copytree(run, other)
    same = cli("table", str(tmp_path / "out"), "--metrics", "frechet")
    assert "1 run folder(s) repeat a run found elsewhere; counted once" in same.err and "different" not in same.err
    for name in ("record.json", "metrics.json"):
        data = json.loads((other / name).read_text())
        (data["metrics"] if name == "record.json" else data)["frechet"] = 5.0
        (other / name).write_text(json.dumps(data))
    original = json.loads((run / "record.json").read_text())["metrics"]["frechet"]
    for copy in (other, tmp_path / "out" / "0copy" / run.name):  # "0copy" sorts before the run's own folder
        if not copy.exists():
            shutil.copytree(other, copy)
        result = cli("table", str(tmp_path / "out"), "--metrics", "frechet")
        said = f"run {run.name.rpartition('__')[2]} is in {run} and in {copy} with different values (from two"
        assert result.code == 0 and said in result.err, result.err
        assert "the first, nearer the top, is counted (as `leaderboard check` counts it)" in result.err
        assert f"| {original:.4g}" in result.out and "| 5 " not in result.out  # the run's own folder counts (F5)
        with pytest.warns(UserWarning, match=re.escape(said)):
            assert ganbench.load_results(tmp_path / "out")["frechet"].tolist() == [original]
    shutil.rmtree(tmp_path / "out" / "0copy")
    run.rename(tmp_path / "out" / "a")  # copies named by hand: "run a is in out/a and in ..." (pass 83)
    result = cli("table", str(tmp_path / "out"), "--metrics", "frechet")
    assert f"run {run.name.rpartition('__')[2]} is in {tmp_path / 'out' / 'a'} and in {other}" in result.err, result.err


@pytest.mark.parametrize("edit", ["drop-eval", "empty-eval", "drop-metrics"])
def test_a_record_without_its_metrics_named_is_unreadable_not_a_traceback(cli, tmp_path, edit):
    """Pass 83: a record whose spec lost `eval` or `eval.metrics` was a KeyError in table, plot and load_results."""
    assert cli(*RING, "--steps", "10", "-o", str(tmp_path / "out")).code == 0
    (run,) = (tmp_path / "out").iterdir()
    record = json.loads((run / "record.json").read_text())
    if edit == "drop-eval":
        del record["spec"]["eval"]
    elif edit == "empty-eval":
        record["spec"]["eval"] = {}
    else:
        del record["spec"]["eval"]["metrics"]
    (run / "record.json").write_text(json.dumps(record))
    for command in (["table"], ["plot", "-o", str(tmp_path / "figs")]):
        assert_one_line_error(
            cli(*command[:1], str(tmp_path / "out"), *command[1:]), "no readable run under", "unreadable record"
        )
    with pytest.raises(ganbench.GanbenchError, match="unreadable record"):
        ganbench.load_results(tmp_path / "out")
    assert not (tmp_path / "figs").exists()


def test_a_failed_runs_record_on_disk_is_trained_again(cli, tmp_path):
    assert cli(*RING, "--steps", "10", "-o", str(tmp_path)).code == 0
    path = next(tmp_path.glob("*/record.json"))
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "status": "failed", "error": "an earlier attempt failed"}))
    table = cli("table", str(tmp_path))  # a failed run has no value to average, but is not silently dropped
    said = f"warning: 1 run(s) failed or were skipped, and are left out: the first {path.parent} (failed; its record"
    assert table.code == 0 and said in table.err
    again = cli(*RING, "--steps", "10", "-o", str(tmp_path))
    assert again.code == 0 and "completed" in again.out
    assert json.loads(path.read_text())["metrics"] == record["metrics"]


def test_a_full_disk_is_one_line_keeps_the_last_checkpoint_and_the_rerun_resumes(cli, tmp_path, monkeypatch):
    """The disk fills at the checkpoint of step 20: one line, exit 2; the checkpoint of step 10 is intact; once
    there is space the same command resumes from it and ends as an uninterrupted run."""
    import errno

    from ganbench import harness
    from ganbench.checkpoints import checkpoint_header

    args = [*RING, "--steps", "30", "--checkpoint-every", "10", "-o"]
    assert cli(*args, str(tmp_path / "whole")).code == 0
    save = harness.save_checkpoint

    def full_at_20(path, run_id, state):
        if state["step"] >= 20:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        save(path, run_id, state)

    monkeypatch.setattr(harness, "save_checkpoint", full_at_20)
    result = cli(*args, str(tmp_path / "full"))
    assert_one_line_error(result, "checkpoint.pt (No space left on device)", "resumes from the run's last checkpoint")
    checkpoint = next((tmp_path / "full").glob("*/checkpoint.pt"))
    assert checkpoint_header(checkpoint)["step"] == 10 and not (checkpoint.parent / "record.json").exists()
    monkeypatch.setattr(harness, "save_checkpoint", save)  # space again
    assert cli(*args, str(tmp_path / "full")).code == 0
    assert json.loads((checkpoint.parent / "record.json").read_text())["resumed_from"] == 10
    whole = next((tmp_path / "whole").glob("*/metrics.json"))
    assert (checkpoint.parent / "metrics.json").read_bytes() == whole.read_bytes()


def test_a_forced_run_the_disk_refuses_says_how_to_go_on_without_losing_steps(cli, tmp_path, monkeypatch):
    """`run --force` into a folder it cannot write advised "run the same command again: it resumes" (pass 49 F5b):
    with --force a rerun starts afresh. Refused before it removed the old run: the same command again; refused
    while training: again without --force, which resumes from the checkpoint this run wrote."""
    import errno

    from ganbench import harness

    args = [*RING, "--steps", "30", "--checkpoint-every", "10", "-o", str(tmp_path), "--force"]
    assert cli(*args).code == 0
    record = next(tmp_path.glob("*/record.json"))
    before = record.read_bytes()

    def read_only(folder):
        raise OSError(errno.EACCES, "Permission denied", str(folder / ".ganbench-probe-x"))

    with monkeypatch.context() as patch:
        patch.setattr(harness, "probe", read_only)
        result = cli(*args)
    assert_one_line_error(result, "Permission denied")
    assert result.err.strip().endswith(", then run the same command again"), result.err
    assert record.read_bytes() == before
    save = harness.save_checkpoint

    def full_at_20(path, run_id, state):
        if state["step"] >= 20:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        save(path, run_id, state)

    with monkeypatch.context() as patch:
        patch.setattr(harness, "save_checkpoint", full_at_20)
        result = cli(*args)
    assert_one_line_error(result, "(No space left on device)", "then run it again without --force: it resumes from")
    assert cli(*args[:-1]).code == 0
    assert json.loads(record.read_text())["resumed_from"] == 10


def test_a_run_the_disk_refuses_before_its_first_checkpoint_is_told_it_starts_again(cli, tmp_path, monkeypatch):
    """A full disk before any checkpoint said "it resumes from the run's last checkpoint" of a run that had none
    (pass 50 F7): the rerun starts at step 0, and now the advice says so."""
    import errno

    from ganbench import harness

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(harness, "write_json_atomic", full)
    result = cli(*RING, "--steps", "10", "-o", str(tmp_path))
    assert_one_line_error(result, "spec.json (No space left on device)", "then run the same command again: the run ")
    assert result.err.strip().endswith("starts again (it had written no checkpoint yet)")
    assert "resumes" not in result.err
    assert not list(tmp_path.glob("*/checkpoint.pt"))


def test_a_write_the_disk_refuses_names_the_file_meant_not_its_temporary(cli, tmp_path, monkeypatch):
    """`plot` into a read-only figures folder said "cannot write figures to .../.ganbench-k2j3.tmp" (pass 49 F5d):
    every atomic write's error names its target, whether the folder refuses the temporary file or the disk fills
    while it is written; the old file stays."""
    import errno

    from ganbench import atomic

    target = tmp_path / "a.json"
    target.write_text("old")
    real_mkstemp = atomic.tempfile.mkstemp

    def refused(**where):
        name = str(Path(where["dir"]) / f"{where['prefix']}abcdefgh{where['suffix']}")
        raise OSError(errno.EACCES, "Permission denied", name)

    with monkeypatch.context() as patch:
        patch.setattr(atomic.tempfile, "mkstemp", refused)
        with pytest.raises(PermissionError) as caught:
            atomic.write_atomic(target, lambda f: f.write(b"new"))
    assert caught.value.filename == str(target) and caught.value.errno == errno.EACCES

    def fills(f):
        f.write(b"ne")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as caught:
        atomic.write_atomic(target, fills)
    assert caught.value.filename == str(target) and caught.value.errno == errno.ENOSPC
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    assert atomic.tempfile.mkstemp is real_mkstemp

    runs = tmp_path / "runs"
    assert cli(*RING, "--steps", "10", "-o", str(runs)).code == 0
    with monkeypatch.context() as patch:
        patch.setattr(atomic.tempfile, "mkstemp", refused)
        result = cli("plot", str(runs), "-o", str(tmp_path / "figures"))
    assert_one_line_error(result, f"cannot write figures to {tmp_path / 'figures'}", "(Permission denied)")
    assert ".tmp" not in result.err


def test_an_output_path_that_is_a_device_is_written_not_replaced(tmp_path):
    from ganbench.atomic import write_atomic

    write_atomic(Path("/dev/null"), lambda f: f.write(b"<xml/>"), devices=True)  # a path the user named
    assert Path("/dev/null").is_char_device()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(IsADirectoryError, match="not a regular file"):  # a run's own file: never waited on
        write_atomic(fifo, lambda f: f.write(b"blocked"))
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_atomic(fifo, lambda f: f.write(b"through the pipe"), devices=True)
    assert reader.communicate(timeout=10)[0] == b"through the pipe" and stat.S_ISFIFO(os.stat(fifo).st_mode)


def edit_spec(text: str, **changes) -> str:
    record = json.loads(text)
    record["spec"].update(changes)
    return json.dumps(record)


def test_a_run_shorter_than_its_log_interval_still_writes_a_csv_header(cli, tmp_path):
    assert cli(*RING, "--steps", "5", "-o", str(tmp_path)).code == 0
    assert next(tmp_path.glob("*/history.csv")).read_text() == "step\n"


def test_what_this_user_may_not_read_in_a_results_folder_is_one_line_never_skipped(cli, tmp_path, monkeypatch):
    """A run folder below the results folder that could not be read was skipped: `table` showed n=1 of 2 without
    a word; an unreadable record advised --force; load_results gave an empty table with a two-line warning."""
    import ganbench.results

    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", str(tmp_path / "r")).code == 0
    first, second = sorted((tmp_path / "r").iterdir())
    scandir = os.scandir

    def refused(path):
        if Path(path) == second:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    with monkeypatch.context() as m:
        m.setattr(ganbench.results.os, "scandir", refused)
        for command in (["table", str(tmp_path / "r")], ["plot", str(tmp_path / "r"), "-o", str(tmp_path / "f")]):
            assert_one_line_error(cli(*command), f"cannot read the folder {second} (Permission denied)", "readable")
        with pytest.raises(ganbench.GanbenchError, match="cannot read the folder"):
            ganbench.load_results(tmp_path / "r")
    check_record = ganbench.results.check_record

    def denied(folder, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(folder / "record.json"))

    monkeypatch.setattr(ganbench.results, "check_record", denied)
    result = cli("table", str(tmp_path / "r"))
    assert_one_line_error(result, "2 unreadable record(s)", "Permission denied; make them readable")
    with pytest.raises(ganbench.GanbenchError, match="Permission denied; make them readable"):
        ganbench.load_results(tmp_path / "r")
    monkeypatch.setattr(ganbench.results, "check_record", check_record)
    assert len(ganbench.load_results(tmp_path / "r")) == 2 and first.is_dir()


def test_an_interrupted_run_is_counted_as_unfinished(cli, tmp_path):
    assert cli(*RING, "--steps", "10", "-s", "0-1", "-o", str(tmp_path)).code == 0
    (sorted(tmp_path.glob("*/record.json"))[0]).unlink()
    result = cli("table", str(tmp_path))
    assert "1 run folder(s) without a record" in result.err
    with pytest.warns(UserWarning, match=r"1 run folder\(s\) without a record"):  # pass 57: the API said nothing
        assert len(ganbench.load_results(tmp_path)) == 1
    shutil.copytree(next(tmp_path.glob("*/record.json")).parent, tmp_path / "old" / "copy")
    with pytest.warns(UserWarning, match=r"1 run folder\(s\) repeat a run found elsewhere; counted once"):
        assert len(ganbench.load_results(tmp_path)) == 1
    for record in tmp_path.glob("**/record.json"):
        record.unlink()
    with pytest.raises(ganbench.GanbenchError, match="without a record"):  # pass 58: a frame without columns
        ganbench.load_results(tmp_path)
    assert_one_line_error(cli("table", str(tmp_path)), "without a record")


def test_a_locked_run_folder_is_refused_naming_the_holder(cli, tmp_path):
    spec = ganbench.create_spec("nsgan", "ring8", steps=10)
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir()
    with RunLock(run_dir):
        assert json.loads((run_dir / OWNER).read_text())["pid"] == os.getpid()
        result = cli(*RING, "--steps", "10", "-o", str(tmp_path))
        assert_one_line_error(result, str(run_dir), f"process {os.getpid()}", "being trained")
        assert sorted(p.name for p in run_dir.iterdir()) == [OWNER]
    assert not any(run_dir.iterdir()), "the lock left files behind"
    assert cli(*RING, "--steps", "10", "-o", str(tmp_path)).code == 0


def test_a_checkpoint_read_as_another_process_replaces_it_names_that_process_not_damage(cli, tmp_path):
    """A run started beside one training the same spec read the checkpoint as the other replaced it (the state of
    step 255, the header of step 260), and advised --force or deleting the folder: it would destroy a live run."""
    spec = ganbench.create_spec("nsgan", "ring8", steps=10)
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir()
    (run_dir / "checkpoint.pt").write_bytes(b"half of one checkpoint, half of the next")
    with RunLock(run_dir):
        result = cli(*RING, "--steps", "10", "-o", str(tmp_path))
        assert_one_line_error(result, f"process {os.getpid()}", "being trained")
    result = cli(*RING, "--steps", "10", "-o", str(tmp_path))  # no one trains it: the checkpoint is damaged
    assert_one_line_error(result, "checkpoint", "--force")
    assert (run_dir / "checkpoint.pt").read_bytes() == b"half of one checkpoint, half of the next"


def test_a_multi_run_skips_a_locked_folder_and_reports_it(cli, tmp_path):
    spec = ganbench.create_spec("nsgan", "ring8", seed=1, steps=10)
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir()
    with RunLock(run_dir):
        result = cli(*RING, "--steps", "10", "-s", "0-2", "-o", str(tmp_path))
    assert result.code == 1, result.err  # the other runs finish; the command says its results are incomplete
    assert f"skipped: {run_dir}: run folder {run_dir} is being trained by process {os.getpid()}" in result.err
    assert "| ring8   | nsgan   | 2 " in result.out
    assert len(list(tmp_path.glob("*/record.json"))) == 2


@pytest.mark.slow
def test_two_processes_on_one_run_folder(tmp_path):
    """The second process is refused while the first trains; history.csv stays one clean run."""
    args = ["run", "-v", "wgan-gp", "-d", "ring8", "-n", "mlp", "--steps", "400", "-q", "--out", str(tmp_path)]
    exe = str(Path(sys.executable).parent / "ganbench")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(f"*/{OWNER}")):
        time.sleep(0.05)
    assert list(tmp_path.glob(f"*/{OWNER}")), "the first process never took the lock"
    second = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=300)
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert second.returncode == 2, second.stderr
    assert second.stderr.count("\n") == 1 and f"process {first.pid}" in second.stderr
    history = next(tmp_path.glob("*/history.csv")).read_text().splitlines()
    steps = [int(line.split(",")[0]) for line in history[1:]]
    assert history[0].startswith("step,") and steps == list(range(10, 401, 10))


def test_an_unwritable_run_folder_on_resume_is_named_and_the_advice_keeps_its_checkpoint(cli, tmp_path, monkeypatch):
    """Only the run's folder refuses writes (chattr +i, a read-only bind mount): the message named --out, which is
    writable, and advised another --out, which would train the run again from step 0."""
    import errno

    from ganbench import harness

    args = [*RING, "--steps", "20", "--checkpoint-every", "10", "-o", str(tmp_path)]
    assert cli(*args).code == 0
    run_dir = next(tmp_path.glob("ring8__*"))
    (run_dir / "record.json").unlink()
    (run_dir / "metrics.json").unlink()

    def refused(folder):  # as mkdtemp's: the probe's random name, which never exists (and "free some space")
        raise PermissionError(errno.EPERM, "Operation not permitted", str(folder / ".ganbench-probe-5ulc5p7n"))

    monkeypatch.setattr(harness, "probe", refused)
    result = cli(*args)
    assert_one_line_error(result, f"cannot write in the run folder {run_dir} (Operation not permitted); make it "
                          "writable, then run the same command again: it resumes from the run's last")  # fmt: skip
    assert "--out" not in result.err and "probe" not in result.err


def test_an_output_reached_through_a_symbolic_link_updates_its_target_and_keeps_the_link(tmp_path):
    """`leaderboard update` of a baseline linked to a shared copy, or --junit through a link, replaced the link with
    a file of its own: the shared copy went stale without a word."""
    from ganbench.atomic import write_atomic

    shared = tmp_path / "shared" / "suite.baseline.json"
    shared.parent.mkdir()
    shared.write_text("old")
    link = tmp_path / "suite.baseline.json"
    link.symlink_to(shared)
    write_atomic(link, lambda f: f.write(b"new"), follow=True)  # a path the user named
    assert link.is_symlink() and shared.read_text() == "new"
    assert sorted(p.name for p in shared.parent.iterdir()) == ["suite.baseline.json"]  # no temporary left
    dangling = tmp_path / "report.xml"
    dangling.symlink_to(tmp_path / "shared" / "new.xml")  # as a shell's > does: the file is made where it points
    write_atomic(dangling, lambda f: f.write(b"<x/>"), follow=True)
    assert dangling.is_symlink() and (tmp_path / "shared" / "new.xml").read_text() == "<x/>"


def test_the_environment_probe_leaves_no_file_open():
    """/proc/cpuinfo was left open: a ResourceWarning in every run, an error in a plugin's tests under -W error."""
    import gc
    import warnings

    import torch

    from ganbench.environment import environment

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert environment(torch.device("cpu"))["cpu"]
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
