"""`ganbench eval` on images: every number against its oracle on pytorch-fid's features."""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest
import torch

from .conftest import assert_one_line_error
from .test_inception import pytorch_fid_pool3

pytest.importorskip("pytorch_fid")


def test_eval_images_matches_every_oracle(cli, image_sets, weights_file):
    real, fake, real_npz, fake_dir = image_sets
    result = cli(
        "eval", "--dataset", str(real_npz), "--samples", str(fake_dir),
        "--metrics", "fid,is,kid,prdc", "--inception-weights", str(weights_file), "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    scores = json.loads(result.out)

    state = torch.load(weights_file, weights_only=True)
    to01 = lambda u8: torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 255  # noqa: E731
    pool_r, pool_f = pytorch_fid_pool3(state, to01(real)), pytorch_fid_pool3(state, to01(fake))
    from pytorch_fid.fid_score import calculate_frechet_distance

    mu_r, s_r = pool_r.astype(np.float64).mean(0), np.cov(pool_r.astype(np.float64), rowvar=False)
    mu_f, s_f = pool_f.astype(np.float64).mean(0), np.cov(pool_f.astype(np.float64), rowvar=False)
    ref_fid = calculate_frechet_distance(mu_r, s_r, mu_f, s_f)  # singular here: 24 samples in 2048-d
    assert scores["fid_inception"] == pytest.approx(ref_fid, rel=1e-6)
    assert "singular" in scores["fid_inception_note"]

    from torch_fidelity.metric_isc import isc_features_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric

    logits = torch.from_numpy(pool_f).double() @ state["fc.weight"].double().T
    ref_is = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    assert scores["is_inception"] == pytest.approx(ref_is["inception_score_mean"], rel=1e-4)
    ref_kid = kid_features_to_metric(
        torch.from_numpy(pool_r).double(), torch.from_numpy(pool_f).double(),
        kid_subsets=100, kid_subset_size=22, kid_kernel="poly", kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=2020, verbose=False,
    )  # fmt: skip
    assert scores["kid_inception"] == pytest.approx(ref_kid["kernel_inception_distance_mean"], rel=1e-3, abs=1e-9)

    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):
        ref_prdc = compute_prdc(pool_r.astype(np.float64), pool_f.astype(np.float64), 5)
    for key in ("precision", "recall", "density", "coverage"):
        assert scores[f"{key}_inception"] == pytest.approx(float(ref_prdc[key]), abs=1e-12), key


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda d: (d / "empty").mkdir() or str(d / "empty"), ["holds no images"]),
        (lambda d: np.savez(d / "v.npz", labels=np.zeros(3)) or str(d / "v.npz"), ["no image array", "labels"]),
        (lambda d: np.savez(d / "f.npz", images=np.full((3, 8, 8, 3), 7.0)) or str(d / "f.npz"), ["[0, 1]"]),
        (lambda d: np.savez(d / "c.npz", images=np.zeros((3, 5, 8, 8))) or str(d / "c.npz"), ["1 or 3 channels"]),
    ],
)
def test_bad_image_samples_give_one_line(cli, image_sets, weights_file, make, fragments):
    _, _, real_npz, _ = image_sets
    samples = make(real_npz.parent)
    result = cli("eval", "--dataset", str(real_npz), "--samples", samples, "--inception-weights", str(weights_file))
    assert_one_line_error(result, *fragments)


def png_folder_with(folder, bad_name: str, write_bad) -> str:
    """A folder of 11 good 24x24 RGB PNGs and one more, ``bad_name``, written by ``write_bad(path)``."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(11):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    write_bad(folder / bad_name)
    return str(folder)


def bomb(path):
    """A PNG whose header says 20000 x 20000 pixels (its data is a few kilobytes of zeros)."""
    from PIL import Image

    Image.new("1", (20000, 20000)).save(path)


@pytest.mark.parametrize(
    "bad_name, write_bad, fragments",
    [
        ("zz.png", lambda p: p.write_bytes(b""), ["cannot read image", "zz.png"]),
        ("zz.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10), ["cannot read image", "zz.png"]),
        ("zz.png", bomb, ["zz.png has more than 67,108,864 pixels", "refused before decoding"]),
        ("zz.png", lambda p: __import__("PIL.Image").Image.new("1", (9000, 9000)).save(p), ["more than 67,108,864"]),
        ("z\nz.png", lambda p: p.write_bytes(b""), ["cannot read image", "z\\nz.png"]),
    ],
)
def test_a_damaged_or_hostile_image_in_a_samples_folder_is_named_in_one_line(
    cli, image_sets, weights_file, tmp_path, bad_name, write_bad, fragments
):
    _, _, real_npz, _ = image_sets
    samples = png_folder_with(tmp_path / "samples", bad_name, write_bad)
    result = cli("eval", "--dataset", str(real_npz), "--samples", samples, "--inception-weights", str(weights_file))
    assert_one_line_error(result, *fragments)


def test_samples_unlike_the_real_images_name_both_sides(cli, weights_file, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(2)
    for folder, shape in (("grey", (16, 16)), ("rgb", (16, 16, 3)), ("grey_too", (16, 16))):
        (tmp_path / folder).mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(tmp_path / folder / f"{i}.png")
    weights = ("--inception-weights", str(weights_file), "-m", "fid")
    grey, rgb = str(tmp_path / "grey"), str(tmp_path / "rgb")
    result = cli("eval", "--dataset", grey, "--samples", rgb, *weights)
    assert_one_line_error(result, f"the samples in {rgb} are RGB 16x16", f"the real images ({grey}) grey 16x16")
    assert cli("eval", "--dataset", grey, "--samples", str(tmp_path / "grey_too"), *weights).code == 0


def test_sixteen_bit_and_float_images_are_scaled_not_clipped(tmp_path):
    from PIL import Image

    from ganbench.imagefiles import read_image

    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)  # 0, 257, ..., 65535: every 8-bit value
    Image.fromarray(ramp).save(tmp_path / "sixteen.png")
    np.testing.assert_array_equal(read_image(tmp_path / "sixteen.png"), np.arange(256, dtype=np.uint8).reshape(16, 16))
    Image.fromarray((np.arange(256).reshape(16, 16) / 255).astype(np.float32), mode="F").save(tmp_path / "unit.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "unit.tif"), np.arange(256, dtype=np.uint8).reshape(16, 16))


def test_deep_images_are_scaled_by_their_format_not_by_their_own_maximum(tmp_path):
    """A dark 16-bit image stays dark (1028 of 65535 is 4 of 255, not 255); float images hold 0..1, so one of
    0..255, or one holding NaN, is refused in one line instead of stretched or blackened."""
    from PIL import Image

    from ganbench.imagefiles import ImageFileError, read_image

    Image.fromarray(np.full((8, 8), 1028, dtype=np.uint16)).save(tmp_path / "dark.png")
    assert read_image(tmp_path / "dark.png").max() == 4
    Image.fromarray(np.full((8, 8), 0.25, dtype=np.float32), mode="F").save(tmp_path / "dim.tif")
    assert read_image(tmp_path / "dim.tif").max() == 64  # round(0.25 * 255)
    Image.fromarray(np.full((8, 8), 200.0, dtype=np.float32), mode="F").save(tmp_path / "bytes.tif")
    with pytest.raises(ImageFileError, match=r"from 200 to 200; its format's pixels run from 0 to 1"):
        read_image(tmp_path / "bytes.tif")
    nan = np.zeros((8, 8), dtype=np.float32)
    nan[3, 3] = np.nan
    Image.fromarray(nan, mode="F").save(tmp_path / "nan.tif")
    with pytest.raises(ImageFileError, match="holds NaN or inf"):
        read_image(tmp_path / "nan.tif")
    Image.fromarray(np.full((8, 8), 4, dtype=np.uint8)).convert("I").save(tmp_path / "int32.tif")
    with pytest.raises(ImageFileError, match="holds 32-bit integer pixels, which have no agreed brightest value"):
        read_image(tmp_path / "int32.tif")  # was read as 16-bit: 4 of 65535, black
    Image.fromarray(np.full((8, 8), 1028, dtype=np.uint16)).save(tmp_path / "dark.tif")
    assert read_image(tmp_path / "dark.tif").max() == 4  # a 16-bit TIFF is read as the 16-bit PNG is


def tiff_with_a_tag_past_its_end(path, pixels: np.ndarray) -> None:
    """A TIFF whose RowsPerStrip (278) claims more values than the file holds: Pillow skips that tag, warning."""
    import struct

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + 12 * entry
        if struct.unpack_from("<H", data, at)[0] == 278:
            struct.pack_into("<I", data, at + 4, 10**6)  # its count
    path.write_bytes(bytes(data))


def test_a_damaged_tiff_that_decodes_is_one_warning_and_one_that_does_not_one_error(cli, tmp_path):
    from ganbench.imagefiles import read_image

    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8)
    tiff_with_a_tag_past_its_end(tmp_path / "a.tif", pixels)
    with pytest.warns(UserWarning) as said:
        np.testing.assert_array_equal(read_image(tmp_path / "a.tif"), pixels)
    assert [str(w.message) for w in said] == [
        f"image {tmp_path / 'a.tif'} may be damaged: Tag data larger than file. Skipping tag 278 (read all the same)"
    ]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.tif").write_bytes((tmp_path / "a.tif").read_bytes()[:20])  # its pixels cut off
    result = cli("eval", "-d", "digits", "--samples", str(tmp_path / "bad"), "-m", "fid_classifier")
    assert_one_line_error(result, "cannot read image", "remove or replace it")


@pytest.mark.parametrize("shape", [(4, 3, 3, 3), (4, 1, 8, 1), (4, 3, 32, 1)])
def test_images_whose_shape_fits_both_layouts_are_refused_not_guessed(shape):
    from ganbench.arrays import FeatureError
    from ganbench.images import as_uint8_nchw

    with pytest.raises(FeatureError, match=r"read as \(N, C, H, W\) and \(N, H, W, C\) alike"):
        as_uint8_nchw(np.zeros(shape, dtype=np.uint8))
    assert as_uint8_nchw(np.zeros((4, 8, 8, 3), dtype=np.uint8)).shape == (4, 3, 8, 8)


def test_missing_weights_give_one_line_naming_the_three_ways(cli, image_sets, tmp_path, monkeypatch):
    _, _, real_npz, fake_dir = image_sets
    monkeypatch.delenv("GANBENCH_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "emptyhub"))
    result = cli("eval", "--dataset", str(real_npz), "--samples", str(fake_dir), "--metrics", "fid")
    assert_one_line_error(result, "--inception-weights", "GANBENCH_INCEPTION_WEIGHTS", "checkpoints")


def digits_u8(n: int = 300) -> np.ndarray:
    """scikit-learn's digits as uint8 (N, 1, 8, 8) images, 0..16 stretched to 0..254."""
    from sklearn.datasets import load_digits

    return (load_digits().images[:n] * 15.875).round().astype(np.uint8)[:, None]


def test_samples_in_every_form_score_alike_and_ambiguous_or_foreign_files_are_one_line(cli, tmp_path):
    images = digits_u8()
    np.save(tmp_path / "s.npy", images)
    torch.save(torch.from_numpy(images), tmp_path / "s.pt")
    torch.save({"samples": torch.from_numpy(images), "note": "mine"}, tmp_path / "d.pt")
    scores = []
    np.savez(tmp_path / "one.npz", images)  # np.savez's arr_0, the only array
    for name in ("s.npy", "s.pt", "d.pt", "one.npz"):
        result = cli("eval", "-d", "digits", "--samples", str(tmp_path / name), "-m", "fid_classifier", "--json")
        assert result.code == 0, result.err
        scores.append(json.loads(result.out)["fid_classifier"])
    assert scores[0] == scores[1] == scores[2] == scores[3]
    np.savez(tmp_path / "two.npz", images=images, samples=images[:10])
    torch.save({"a": 1}, tmp_path / "dict.pt")
    np.save(tmp_path / "huge.npy", np.full((20, 1, 8, 8), 1e300))
    np.save(tmp_path / "over.npy", np.linspace(0.001, 1.0001, 20 * 64).reshape(20, 1, 8, 8))
    np.save(tmp_path / "long.npy", images.astype(np.longdouble))
    np.savez(tmp_path / "ab.npz", a=images, b=images)
    np.savez(tmp_path / "unnamed.npz", images[:50], images[50:])  # arr_0 and arr_1: arr_0 is no more the one
    whole = (tmp_path / "s.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(whole[: len(whole) // 2])  # a copy stopped early
    torch.save(torch.from_numpy(images).to(torch.float8_e5m2), tmp_path / "f8.pt")
    header = (tmp_path / "s.npy").read_bytes()
    (tmp_path / "flip.npy").write_bytes(header.replace(b"(", b"\xd7", 1))  # numpy's tokenizer fails on it
    from PIL import Image

    (tmp_path / "tiny").mkdir()
    for i in range(10):
        Image.fromarray(np.zeros((1, 1), np.uint8)).save(tmp_path / "tiny" / f"{i}.png")
    for samples, fragments in (
        ("two.npz", ["several image arrays (images, samples)", "save only the one"]),
        ("dict.pt", ["holds a dict of a", "save one image tensor"]),
        ("huge.npy", ["float images must lie in [0, 1], these span [1e+300"]),  # finite: not "NaN or inf"
        ("over.npy", ["these span [0.001, 1.0001]"]),  # pass 57: "span [0.001, 1]" read as inside
        *[("long.npy", ["(extended precision)", "astype('float64')"])] * (np.dtype(np.longdouble).itemsize > 8),
        ("f8.pt", ["must be of a common dtype, not float8_e5m2", "pass x.float()"]),
        ("ab.npz", ["several image arrays (a, b)"]),
        ("unnamed.npz", ["several image arrays (arr_0, arr_1)"]),
        ("cut.pt", ["cut.pt (File is not a zip file); it is truncated or corrupt"]),
        ("flip.npy", ["flip.npy (", "it is truncated or corrupt"]),
        ("tiny", ["are grey 1x1, dataset 'digits' grey 8x8"]),  # decoded files have no layout to guess
    ):
        result = cli("eval", "-d", "digits", "--samples", str(tmp_path / samples), "-m", "fid_classifier")
        assert_one_line_error(result, *fragments)


def test_eval_reads_a_folder_as_run_does(cli, tmp_path):
    """Class subfolders, .tif files and hidden files: what `run --dataset FOLDER` reads, eval reads."""
    from PIL import Image

    images = digits_u8(40)
    for i, image in enumerate(images):
        folder = tmp_path / "classes" / f"c{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[0]).save(folder / f"{i}.{'tif' if i % 2 else 'png'}")
    (tmp_path / "classes" / "c0" / "._0.png").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # macOS metadata
    np.save(tmp_path / "s.npy", images)
    result = cli("eval", "-d", "digits", "--samples", str(tmp_path / "classes"), "-m", "fid_classifier", "--json")
    assert result.code == 0, result.err
    same = cli("eval", "-d", "digits", "--samples", str(tmp_path / "s.npy"), "-m", "fid_classifier", "--json")
    # the folder's files in sorted order are another order of the same 40 images: the same statistics
    assert json.loads(result.out)["fid_classifier"] == pytest.approx(json.loads(same.out)["fid_classifier"], rel=1e-6)


def test_eval_checks_each_metrics_sample_minimum_before_scoring(cli, tmp_path):
    np.save(tmp_path / "p.npy", np.random.default_rng(0).normal(size=(3, 2)))
    result = cli("eval", "-d", "ring8", "--samples", str(tmp_path / "p.npy"))
    assert_one_line_error(result, "metric 'prdc' needs at least 6 samples, got 3")
    np.save(tmp_path / "few.npy", digits_u8(12))  # 10 splits of one or two images: a score of 1, whatever they are
    result = cli("eval", "-d", "digits", "--samples", str(tmp_path / "few.npy"), "-m", "is")
    assert_one_line_error(result, "metric 'is' needs at least 20 samples, got 12")


def test_kid_over_subsets_that_are_both_whole_sets_has_no_spread():
    """Below 1,000 samples a side every subset is both whole sets: one value drawn 100 times, no spread."""
    import ganbench

    rng = np.random.default_rng(0)
    small = ganbench.evaluate_samples("ring8", rng.normal(size=(200, 2)), ["kid"])
    large = ganbench.evaluate_samples("ring8", rng.normal(size=(1500, 2)), ["kid"])
    assert math.isfinite(small["kid_raw"]) and small["kid_raw_std"] is None
    assert math.isfinite(large["kid_raw"]) and large["kid_raw_std"] > 0


def test_unit_range_images_saved_as_uint8_are_warned_of(cli, tmp_path):
    np.save(tmp_path / "u.npy", (digits_u8() > 127).astype(np.uint8))  # [0, 1] images cast to uint8
    with pytest.warns(
        UserWarning, match="are all but black .pixel values 0 and 1 only, of 0..255.*multiply them by 255"
    ):
        result = cli("eval", "-d", "digits", "--samples", str(tmp_path / "u.npy"), "-m", "fid_classifier")
    assert result.code == 0


def test_eval_on_a_labelled_file_scores_in_the_classifier_space_as_a_run_on_it_does(cli, tmp_path):
    """`eval -d PATH` reads PATH as `run -d PATH` trains on it: labels give it the classifier space."""
    from sklearn.datasets import load_digits

    images = digits_u8(400)
    np.savez(tmp_path / "labelled.npz", images=images, labels=load_digits().target[:400])
    np.savez(tmp_path / "bare.npz", images=images)
    np.save(tmp_path / "fakes.npy", images[::-1])
    args = ["--samples", str(tmp_path / "fakes.npy"), "-m", "fid_classifier", "--json"]
    scored = cli("eval", "-d", str(tmp_path / "labelled.npz"), *args)
    assert scored.code == 0, scored.err
    assert abs(json.loads(scored.out)["fid_classifier"]) < 1e-3  # the same images, in another order
    np.savez(tmp_path / "twice.npz", images=images, labels=load_digits().target[:400], y=np.zeros(400, int))
    assert_one_line_error(cli("eval", "-d", str(tmp_path / "twice.npz"), *args), "holds labels twice (labels and y)")
    unlabelled = cli("eval", "-d", str(tmp_path / "bare.npz"), *args)
    assert_one_line_error(unlabelled, "'fid_classifier' is metric 'fid' in the classifier space", "does not offer")
    missing = cli("eval", "-d", str(tmp_path / "labelled.npz"), "--samples", str(tmp_path / "none.npy"))
    assert_one_line_error(missing, "none.npy do not exist; pass an .npy, .npz or .pt file or a folder")
    (tmp_path / "samples").mkdir()
    typo = cli("eval", "-d", str(tmp_path / "labelled.npz"), "--samples", str(tmp_path / "sampels"))
    assert_one_line_error(typo, "sampels do not exist; did you mean", "/samples?")  # as -d's typos are


def test_ganbench_log_warnings_are_warning_lines(cli, tmp_path, monkeypatch):
    """An unwritable cache costs time, not results: said once, as a `warning:` line like every other."""
    (tmp_path / "cache").write_text("a file, not a folder")
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    np.save(tmp_path / "s.npy", digits_u8(100))
    result = cli("eval", "-d", "digits", "--samples", str(tmp_path / "s.npy"), "-m", "fid_classifier")
    assert result.code == 0, result.err
    said = [line for line in result.err.splitlines() if "cannot write cache entries" in line]
    assert len(said) == 1 and said[0].startswith("warning: cannot write cache entries"), result.err
