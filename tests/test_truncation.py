"""The truncation trick at sampling time: the distribution, where it is recorded, and its checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from scipy import stats

import ganbench
from ganbench.errors import OptionError
from ganbench.evaluation import truncated_normal

from .conftest import assert_one_line_error

QUICK = dict(steps=20, eval_samples=500, checkpoint_every=10, log_every=5)


@pytest.mark.parametrize("bound", [0.5, 1.0, 2.0])
def test_truncated_noise_follows_scipys_truncnorm(bound):
    z = truncated_normal((20_000, 2), bound, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert z.dtype == torch.float32 and z.abs().max() <= bound
    result = stats.kstest(z.flatten().double().numpy(), stats.truncnorm(-bound, bound).cdf)
    assert result.pvalue > 0.01, result


def test_an_untruncated_spec_is_written_as_before_and_a_truncated_one_records_its_bound():
    plain = ganbench.create_spec("nsgan", "ring8")
    assert "truncation" not in plain.to_dict()["eval"]
    truncated = ganbench.create_spec("nsgan", "ring8", truncation=1)
    assert truncated.to_dict()["eval"]["truncation"] == 1.0 and truncated.run_id != plain.run_id
    assert ganbench.RunSpec.from_dict(truncated.to_dict()) == truncated
    assert ganbench.RunSpec.from_dict(plain.to_dict()) == plain


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 9, True, "1"])
def test_a_bound_that_is_not_a_positive_number_of_deviations_is_refused(bad):
    with pytest.raises(OptionError, match="truncation must be"):
        ganbench.create_spec("nsgan", "ring8", truncation=bad)


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "abc", ""])
def test_a_bad_bound_on_the_command_line_is_one_line(cli, tmp_path, bad):
    out = tmp_path / "out"
    assert_one_line_error(cli("run", "-v", "nsgan", "-d", "ring8", "--truncation", bad, "-o", str(out)), "truncation")
    assert not out.exists()


def test_truncation_changes_the_scores_not_the_training_and_tables_show_it(cli, tmp_path):
    plain = ganbench.run("nsgan", "ring8", out=tmp_path, **QUICK)
    cut = ganbench.run("nsgan", "ring8", out=tmp_path, truncation=0.5, **QUICK)
    assert cut.run_id != plain.run_id and cut.metrics["frechet"] != plain.metrics["frechet"]
    spec = json.loads((Path(cut.run_dir) / "spec.json").read_text())
    assert spec["eval"]["truncation"] == 0.5
    table = cli("table", str(tmp_path), "-m", "frechet")
    assert table.code == 0 and "truncation=0.5" in table.out


def test_a_suite_sets_truncation_and_its_baseline_settings_say_so(tmp_path):
    from ganbench.suites import load_suite

    path = tmp_path / "s.toml"
    path.write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 10\ntruncation = 1.5\n')
    suite = load_suite(path)
    assert suite.settings["truncation"] == 1.5
    assert all(spec.eval.truncation == 1.5 for spec in suite.specs())
    path.write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 10\n')
    assert "truncation" not in load_suite(path).settings  # baselines made before the key stay valid
    path.write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 10\ntruncation = -2\n')
    with pytest.raises(ganbench.errors.GanbenchError, match=r"s.toml:4: truncation must be"):
        load_suite(path)
