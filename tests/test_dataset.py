"""dSprites and ds_corr: grid, renderer, downsampling statistics, npz schema, bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from echo_suite.data import registry
from echo_suite.data import dependence, grid, ground_truth, npz, renderer
from conftest import REFERENCE_DIR, ROOT


# -- factor grid ---------------------------------------------------------------------------------
def test_factor_grid_and_values():
  assert grid.FACTOR_SIZES == (1, 3, 6, 40, 32, 32)
  assert grid.NUM_IMAGES == 737280
  values = grid.latents_possible_values()
  assert [len(values[n]) for n in grid.FACTOR_NAMES] == list(grid.FACTOR_SIZES)
  assert values["orientation"][0] == 0.0
  assert values["orientation"][-1] == pytest.approx(2 * np.pi)
  np.testing.assert_allclose(values["scale"], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])


def test_index_order_posy_fastest_and_round_trip():
  assert grid.index_of([[0, 0, 0, 0, 0, 1]])[0] == 1
  assert grid.index_of([[0, 0, 0, 0, 1, 0]])[0] == 32
  assert grid.index_of([[0, 0, 0, 1, 0, 0]])[0] == 1024
  assert grid.index_of([[0, 2, 5, 39, 31, 31]])[0] == grid.NUM_IMAGES - 1
  idx = np.random.RandomState(0).randint(grid.NUM_IMAGES, size=5000)
  np.testing.assert_array_equal(grid.index_of(grid.classes_of(idx)), idx)
  data = ground_truth.DSprites()
  np.testing.assert_array_equal(data.index_of_factors(data.factors_of(idx)), idx)
  with pytest.raises(ValueError, match="out of range"):
    grid.classes_of([grid.NUM_IMAGES])


# -- renderer ------------------------------------------------------------------------------------
def _all_poses(pos_x, pos_y):
  c = np.array([[0, sh, sc, o, pos_x, pos_y] for sh in range(3) for sc in range(6)
                for o in range(40)])
  return grid.index_of(c)


def test_images_are_binary_64x64():
  imgs = renderer.render(np.random.RandomState(1).randint(grid.NUM_IMAGES, size=256))
  assert imgs.shape == (256, 64, 64) and imgs.dtype == np.uint8
  assert set(np.unique(imgs)) == {0, 1}
  assert imgs.reshape(256, -1).sum(1).min() >= 50  # the smallest sprite covers 58 real pixels


@pytest.mark.parametrize("px,py", [(0, 0), (0, 31), (31, 0), (31, 31)])
def test_no_pixel_in_three_pixel_border(px, py):
  # The real data never touches the outer 3 pixels (the GIF's extremes reach index 3 and 60).
  imgs = renderer.render(_all_poses(px, py))
  border = np.ones((64, 64), bool)
  border[3:61, 3:61] = False
  assert imgs[:, border].sum() == 0
  lo, hi = (3, 29) if px == 0 else (35, 60)
  cols = np.nonzero(imgs.any(axis=(0, 1)))[0]
  assert lo <= cols.min() <= lo + 1 and hi - 1 <= cols.max() <= hi


def test_area_grows_with_scale_for_every_shape():
  for shape in range(3):
    areas = [renderer.render(grid.index_of([[0, shape, sc, o, 10, 10] for o in range(40)])).sum() / 40
             for sc in range(6)]
    assert np.all(np.diff(areas) > 0), (shape, areas)


def test_square_areas_match_real_data():
  # Real square at orientation 0: sides 10, 12, ..., 20 pixels (areas 100 ... 400).
  areas = [renderer.render(grid.index_of([[0, 0, sc, 0, 0, 0]]))[0].sum() for sc in range(6)]
  assert areas == [100, 144, 196, 256, 324, 400]


def test_neighbouring_classes_differ_except_full_turn():
  rng = np.random.RandomState(2)
  for _ in range(60):
    c = np.array([0, rng.randint(3), rng.randint(6), rng.randint(40), rng.randint(32),
                  rng.randint(32)])
    for f in range(1, 6):
      if c[f] + 1 < grid.FACTOR_SIZES[f]:
        d = c.copy()
        d[f] += 1
        a, b = renderer.render(grid.index_of([c, d]))
        assert (a != b).any(), (c, f)
  # Orientation 0 and 2 pi are both in the grid and render identically for every shape.
  for shape in range(3):
    a, b = renderer.render(grid.index_of([[0, shape, 5, 0, 7, 9], [0, shape, 5, 39, 7, 9]]))
    np.testing.assert_array_equal(a, b)


def test_ellipse_half_turn_symmetry():
  # The ellipse is symmetric under a half turn: orientation o and 2 pi - o are mirror images,
  # and the rendering at 180 degrees (not on the grid) equals orientation 0.
  np.testing.assert_array_equal(renderer.render_sprite(1, 1.0, np.pi), renderer.render_sprite(1, 1.0, 0.0))
  np.testing.assert_array_equal(renderer.render_sprite(0, 1.0, np.pi / 2), renderer.render_sprite(0, 1.0, 0))


def _real_frames():
  path = os.path.join(REFERENCE_DIR, "dsprites_real_factors.gif")
  if not os.path.exists(path):
    pytest.skip("../shared/reference is not beside this checkout")
  from PIL import Image
  gif = Image.open(path)
  frames = []
  for k in range(gif.n_frames):
    gif.seek(k)
    frames.append(np.array(gif.convert("L")) > 127)
  return np.array(frames)


def _iou(a, b):
  return (a & b).sum() / (a | b).sum()


def test_matches_real_frames():
  frames = _real_frames()
  # The GIF sweeps, per shape: scale up from frame s0, orientation from r0 (posX = posY = 0);
  # for the heart then posY (58..89) and posX (90..121) at scale 1, orientation 0.
  sweeps = {2: (0, 18), 1: (192, 210), 0: (256, 274)}
  for shape, (s0, r0) in sweeps.items():
    c = [[0, shape, sc, 0, 0, 0] for sc in range(6)] + [[0, shape, 5, o, 0, 0] for o in range(40)]
    ours = renderer.render(grid.index_of(c)).astype(bool)
    real = np.concatenate([frames[s0:s0 + 6], frames[r0:r0 + 40]])
    ious = [_iou(a, b) for a, b in zip(ours, real)]
    assert np.mean(ious) > 0.985 and np.min(ious) > 0.9, (shape, np.mean(ious), np.min(ious))
  pos = [[0, 2, 5, 0, 0, y] for y in range(32)] + [[0, 2, 5, 0, x, 31] for x in range(32)]
  ours = renderer.render(grid.index_of(pos)).astype(bool)
  ious = [_iou(a, b) for a, b in zip(ours, frames[58:122])]
  assert np.mean(ious) > 0.85 and np.min(ious) > 0.7, (np.mean(ious), np.min(ious))


def test_mean_image_is_a_centred_soft_square():
  data = ground_truth.DSprites()
  mean = data.images(data.sample_indices(4000, np.random.RandomState(3))).mean(0)
  assert mean[24:40, 24:40].mean() > 0.08
  assert mean[:3].max() == 0 and mean[:, :3].max() == 0 and mean[61:].max() == 0
  col = mean.mean(0)
  assert abs(col[:32].sum() - col[32:].sum()) / col.sum() < 0.05  # left-right balanced


def test_batches_deterministic_float32_nhwc():
  data = ground_truth.DSprites()
  a = next(data.batches(16, seed=5))
  b = next(data.batches(16, seed=5))
  c = next(data.batches(16, seed=6))
  assert a.shape == (16, 64, 64, 1) and a.dtype == np.float32
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  it = data.batches(16, seed=5)
  next(it), next(it)
  np.testing.assert_array_equal(next(it), next(data.batches(16, seed=5, start_step=2)))


# -- ds_corr -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corr():
  return registry.DSpritesCorrelated()


def test_ds_corr_statistics_at_defaults(corr):
  info = corr.info()
  assert info["fraction_of_full"] == pytest.approx(0.1424, abs=0.001)  # paper: about 15%
  assert info["total_correlation_nats"] == pytest.approx(1.49, abs=0.005)  # paper: 1.49 nats
  assert info["removed_bin_pairs"] == 71
  assert info["num_examples"] == corr.keep.sum() == len(corr.kept_indices)
  # The total correlation equals the KL divergence between joint and product of marginals.
  keep = corr.keep[0].astype(float) / corr.keep.sum()
  marg = [keep.sum(axis=tuple(j for j in range(5) if j != i)) for i in range(5)]
  prod = marg[0][:, None, None, None, None] * marg[1][None, :, None, None, None] * \
      marg[2][None, None, :, None, None] * marg[3][None, None, None, :, None] * \
      marg[4][None, None, None, None, :]
  nz = keep > 0
  assert np.sum(keep[nz] * np.log(keep[nz] / prod[nz])) == pytest.approx(
      info["total_correlation_nats"], rel=1e-9)


def test_dsprites_has_no_correlation():
  info = ground_truth.DSprites().info()
  assert info["total_correlation_nats"] == pytest.approx(0.0, abs=1e-9)
  assert info["fraction_of_full"] == 1.0 and info["removed_bin_pairs"] == 0


def test_ds_corr_deterministic_for_seed():
  a = dependence.correlated_keep_mask(seed=42)
  np.testing.assert_array_equal(a, dependence.correlated_keep_mask(seed=42))
  assert not np.array_equal(a, dependence.correlated_keep_mask(seed=43))
  assert dependence.correlated_keep_mask(remove_prob=0.0).all()


def test_ds_corr_no_removed_combination_reachable(corr):
  rng = np.random.RandomState(0)
  factors = corr.sample_factors(20000, rng)
  assert corr.keep.ravel()[corr.index_of_factors(factors)].all()
  assert corr.keep.ravel()[corr.sample_indices(20000, rng)].all()
  for step in range(20):
    assert corr.keep.ravel()[corr.batch_indices(64, seed=1, step=step)].all()
  removed = np.flatnonzero(~corr.keep.ravel())[:3]
  with pytest.raises(ValueError, match="removed"):
    corr.sample_observations_from_factors(corr.factors_of(removed), rng)
  with pytest.raises(ValueError, match="removed"):
    corr.images(removed)
  # keeps(): the one membership test (code tables, scored codes): kept, removed, off the grid.
  n = grid.NUM_IMAGES
  assert corr.keeps(corr.kept_indices).all() and not corr.keeps(removed).any()
  assert corr.keeps([-1, n, corr.kept_indices[0]]).tolist() == [False, False, True]
  assert int(corr.keeps(np.arange(n)).sum()) == len(corr.kept_indices)


# -- disentanglement_lib compatibility -----------------------------------------------------------
def test_disentanglement_lib_metric_runs_on_both_datasets(corr):
  import gin
  from echo_suite import gin_compat
  gin_compat.install(gin_tf=True)  # before disentanglement_lib
  from disentanglement_lib.evaluation.metrics import mig
  # Ground-truth MIG with the 20-bin histogram discretiser: orientation's 40 values share 20 bins,
  # so below 1; dependent factors share information, so lower on ds_corr.
  expected = {"dsprites": 0.879, "ds_corr": 0.776}
  for data in (ground_truth.DSprites(), corr):
    # Oracle: the representation is the ground-truth factors themselves.
    def oracle(x):
      return x

    class FactorsAsObservations(type(data)):  # observations are the factors: the oracle reads them
      def sample_observations_from_factors(self, factors, random_state):
        super().sample_observations_from_factors(factors, random_state)  # raises if removed
        return factors.astype(np.float32)

    # MIG through gin bindings, exactly as the suite will call it.
    with gin.unlock_config():
      gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer",
                        "discretizer.num_bins = 20"])
    score = mig.compute_mig(FactorsAsObservations(), oracle, np.random.RandomState(0),
                            num_train=3000, batch_size=100)
    gin.clear_config()
    assert score["discrete_mig"] == pytest.approx(expected[data.name], abs=0.02), score


# -- npz -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("npz") / "dsprites.npz")
  npz.export_npz(path)
  return path


def _npy_header(npz_path, field):
  """(shape, dtype) of one field of an npz, read from its header without loading it."""
  import zipfile
  with zipfile.ZipFile(npz_path) as z, z.open(f"{field}.npy") as f:
    version = np.lib.format.read_magic(f)
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    shape, _, dtype = read(f)
  return shape, dtype


@pytest.mark.slow  # renders and compresses 3 GB: about a minute
def test_export_schema_and_round_trip(exported):
  data = np.load(exported, allow_pickle=True, encoding="latin1")
  assert set(data.files) == {"imgs", "latents_values", "latents_classes", "metadata"}
  assert _npy_header(exported, "imgs") == ((737280, 64, 64), np.uint8)
  assert data["latents_classes"].dtype == np.int64
  assert data["latents_values"].dtype == np.float64
  meta = data["metadata"][()]
  assert tuple(meta["latents_sizes"]) == grid.FACTOR_SIZES
  assert tuple(meta["latents_names"]) == grid.FACTOR_NAMES
  np.testing.assert_array_equal(data["latents_values"][1024], [1, 1, 0.5, 2 * np.pi / 39, 0, 0])
  loaded = ground_truth.DSprites(npz_path=exported)
  idx = np.random.RandomState(4).randint(grid.NUM_IMAGES, size=500)
  np.testing.assert_array_equal(loaded.images(idx), renderer.render(idx))
  corr = registry.DSpritesCorrelated(npz_path=exported)
  kept = corr.kept_indices[:100]
  np.testing.assert_array_equal(corr.images(kept), renderer.render(kept))


@pytest.mark.slow  # shares the exported npz
def test_npz_from_environment_variable(exported, monkeypatch):
  monkeypatch.setenv("DSPRITES_NPZ", exported)
  assert registry.make_dataset("dsprites").npz_path == exported


def _write_npz(path, **fields):
  np.savez(path, **fields)
  return str(path)


def test_bad_npz_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match="not found"):
    npz.load_npz(str(tmp_path / "missing.npz"))
  junk = tmp_path / "junk.npz"
  junk.write_bytes(b"not a zip file")
  with pytest.raises(ValueError, match="not a readable npz"):
    npz.load_npz(str(junk))
  with pytest.raises(ValueError, match="lacks fields"):
    npz.load_npz(_write_npz(tmp_path / "keys.npz", imgs=np.zeros((2, 64, 64), np.uint8)))
  meta = np.array({"latents_sizes": np.array(grid.FACTOR_SIZES)}, dtype=object)
  small = _write_npz(tmp_path / "shape.npz", imgs=np.zeros((10, 64, 64), np.uint8),
                     latents_classes=np.zeros((10, 6), np.int64),
                     latents_values=np.zeros((10, 6)), metadata=meta)
  with pytest.raises(ValueError, match=r"'imgs' has shape \(10, 64, 64\), expected \(737280"):
    npz.load_npz(small)
  # Pixels must be 0/1 uint8: 0/255 images trained to a negative distortion before.
  for name, imgs, message in (
      ("255.npz", np.full((10, 64, 64), 255, np.uint8), "pixel values up to 255"),
      ("float.npz", np.zeros((10, 64, 64), np.float32), "dtype float32, expected uint8")):
    bad = _write_npz(tmp_path / name, imgs=imgs, latents_classes=np.zeros((10, 6), np.int64),
                     latents_values=np.zeros((10, 6)))
    with pytest.raises(ValueError, match=message):
      npz.load_npz(bad)


class _RunsCode:
  """Unpickling this object would create the file `marker`."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (open, (self.marker, "w"))


def test_a_data_file_never_runs_code(tmp_path, capsys):
  import pickle
  marker = tmp_path / "ran"
  as_pickle = tmp_path / "evil.npz"
  as_pickle.write_bytes(pickle.dumps(_RunsCode(str(marker))))
  with pytest.raises(ValueError, match="not a readable npz"):
    npz.load_npz(str(as_pickle))
  # An npz whose fields are pickled objects: refused without unpickling them.
  objects = _write_npz(tmp_path / "objects.npz",
                       imgs=np.array([_RunsCode(str(marker))], dtype=object),
                       latents_classes=np.zeros((1, 6), np.int64), latents_values=np.zeros((1, 6)))
  with pytest.raises(ValueError, match="plain numeric arrays"):
    npz.load_npz(objects)
  assert not marker.exists()
  # Through the CLI: one error line, exit 2, nothing run, nothing written.
  out = tmp_path / "run"
  from echo_suite.commands import train as disentanglement
  try:
    assert disentanglement.main(["--dsprites_npz", str(as_pickle), "--steps", "2",
                                 "--output_dir", str(out)]) == 2
  finally:  # the in-process CLI bound dataset.dsprites_npz: later tests must not read it
    import gin
    with gin.unlock_config():
      gin.clear_config()
  assert "not a readable npz" in capsys.readouterr().err
  assert not marker.exists() and not out.exists()


def test_bad_parameters():
  with pytest.raises(ValueError, match=r"unknown dataset 'mnist'.*dsprites.*ds_corr"):
    registry.make_dataset("mnist")
  for p in (-0.1, 1.0, 1.5):
    with pytest.raises(ValueError, match=r"remove_prob=.* \[0, 1\)"):
      dependence.correlated_keep_mask(remove_prob=p)
  for n in (0, -3, 2.5):
    with pytest.raises(ValueError, match="n_bins"):
      dependence.correlated_keep_mask(n_bins=n)
  with pytest.raises(ValueError, match=r"seed=-1 must be an integer >= 0"):
    dependence.correlated_keep_mask(seed=-1)


# -- ds_pairs ------------------------------------------------------------------------------------
def _pair_mi(sigma, slope=1.0, n1=32, n2=32):
  """I(c1; c2) of p(c1, c2) ~ exp(-(c1 - slope c2)^2 / (2 sigma^2)), written out independently."""
  c1, c2 = np.linspace(0, 1, n1)[:, None], np.linspace(0, 1, n2)[None, :]
  p = np.exp(-(c1 - slope * c2) ** 2 / (2 * sigma ** 2))
  p /= p.sum()
  outer = p.sum(1, keepdims=True) * p.sum(0, keepdims=True)
  return float(np.sum(p * np.log(p / outer)))


def test_ds_pairs_total_correlation_is_the_pairs_mutual_information():
  tcs = []
  for sigma in (0.05, 0.2, 0.7):
    info = registry.DSpritesPairs(sigma=sigma).info()
    assert info["total_correlation_nats"] == pytest.approx(_pair_mi(sigma), rel=1e-9)
    assert info["num_examples"] == grid.NUM_IMAGES and info["sigma"] == sigma
    tcs.append(info["total_correlation_nats"])
  assert tcs[0] > tcs[1] > tcs[2] > 0  # smaller sigma, stronger dependence
  assert tcs[1] == pytest.approx(0.450, abs=0.001)
  assert registry.DSpritesPairs(sigma=float("inf")).info()["total_correlation_nats"] == pytest.approx(
      0.0, abs=1e-12)
  # Two disjoint pairs: independent blocks, so their informations add.
  two = dependence.paired_weights((("posX", "posY"), ("scale", "orientation")), sigma=0.2)
  assert dependence.total_correlation(two) == pytest.approx(
      _pair_mi(0.2) + _pair_mi(0.2, n1=6, n2=40), rel=1e-9)
  # A shape x posX pair, slope 0.5: still the pair's information.
  one = dependence.paired_weights((("shape", "posX"),), sigma=0.3, slope=0.5)
  assert dependence.total_correlation(one) == pytest.approx(
      _pair_mi(0.3, 0.5, n1=3, n2=32), rel=1e-9)


def test_ds_pairs_samples_follow_the_exact_distribution():
  data = registry.DSpritesPairs(sigma=0.1)
  idx = np.concatenate([data.batch_indices(1000, seed=3, step=s) for s in range(100)])
  f = data.factors_of(idx)  # (N, 5): shape, scale, orientation, posX, posY
  exact = dependence.pair_joint(data.probs, ("posX", "posY"))
  empirical = np.zeros((32, 32))
  np.add.at(empirical, (f[:, 3], f[:, 4]), 1.0)
  empirical /= len(f)
  assert 0.5 * np.abs(empirical - exact).sum() < 0.03  # total variation, 100,000 draws
  assert np.abs(np.diag(empirical).sum() - np.trace(exact)) < 0.01
  for k, size in ((0, 3), (1, 6), (2, 40)):  # the other factors stay uniform
    counts = np.bincount(f[:, k], minlength=size) / len(f)
    np.testing.assert_allclose(counts, 1.0 / size, atol=0.01)
  # disentanglement_lib's path (legacy RandomState) draws from the same distribution.
  g = data.sample_factors(100000, np.random.RandomState(0))
  assert np.mean(np.abs(g[:, 3] - g[:, 4])) == pytest.approx(np.mean(np.abs(f[:, 3] - f[:, 4])),
                                                             abs=0.1)


def test_ds_pairs_bad_parameters():
  for sigma in (0, -1):
    with pytest.raises(ValueError, match=r"sigma=.* must be > 0"):
      registry.DSpritesPairs(sigma=sigma)
  for pair in (("posX", "posX"), ("posX", "color"), ("posX", "size"), ("posX",)):
    with pytest.raises(ValueError, match="bad factor pair"):
      registry.DSpritesPairs(pairs=(pair,))
  with pytest.raises(ValueError) as e:  # one pair, not nested: not read letter by letter
    registry.DSpritesPairs(pairs=("posX", "posY"))
  assert str(e.value).startswith("pairs=('posX', 'posY') must be a tuple of factor-name pairs, "
                                 "e.g. (('posX', 'posY'),)")


# -- command line --------------------------------------------------------------------------------
def _cli(*args):
  return subprocess.run([sys.executable, os.path.join(ROOT, "dataset.py"), *args],
                        capture_output=True, text=True, cwd=ROOT)


def test_cli_json_and_info():
  out = _cli("--dataset", "ds_corr", "--json")
  assert out.returncode == 0, out.stderr
  info = json.loads(out.stdout)
  for key in ("name", "num_examples", "fraction_of_full", "factor_names", "factor_sizes",
              "factor_entropies_nats", "total_correlation_nats", "removed_bin_pairs"):
    assert key in info
  assert info["num_examples"] == 104960
  text = _cli("--dataset", "dsprites", "--info").stdout
  assert "737,280" in text and "total correlation  0.000 nats" in text
  bad = _cli("--dataset", "nope")
  assert bad.returncode == 2 and "unknown dataset 'nope'" in bad.stderr
  pairs = _cli("--dataset", "ds_pairs", "--gin_param", "ds_pairs.sigma = 0.05", "--json")
  assert pairs.returncode == 0, pairs.stderr
  assert json.loads(pairs.stdout)["total_correlation_nats"] == pytest.approx(_pair_mi(0.05))
  typo = _cli("--dataset", "ds_pairs", "--gin_param", "ds_pairs.sigmaa = 0.05")
  assert typo.returncode == 2 and "sigmaa" in typo.stderr


def test_cli_preview_writes_pngs(tmp_path):
  from PIL import Image
  out = _cli("--dataset", "ds_corr", "--preview", str(tmp_path))
  assert out.returncode == 0, out.stderr
  names = sorted(os.listdir(tmp_path))
  assert names == ["ds_corr_mean.png", "ds_corr_removed_bin_pairs.png", "ds_corr_samples.png",
                   "ds_corr_vs_reference.png"]
  out = _cli("--dataset", "ds_pairs", "--preview", str(tmp_path / "pairs"))
  assert out.returncode == 0, out.stderr
  assert "ds_pairs_pair_joints.png" in os.listdir(tmp_path / "pairs")
  names += [os.path.join("pairs", "ds_pairs_pair_joints.png")]
  for name in names:
    with Image.open(tmp_path / name) as im:
      assert im.format == "PNG" and min(im.size) > 200
  out = _cli("--dataset", "color_dsprites", "--preview", str(tmp_path / "colour"))
  assert out.returncode == 0, out.stderr
  # No removed-bin-pairs map where nothing is removed; the reference shows the colour data's
  # sprites and says so.
  assert sorted(os.listdir(tmp_path / "colour")) == [
      "color_dsprites_mean.png", "color_dsprites_samples.png", "color_dsprites_vs_reference.png"]
  out = _cli("--dataset", "ds_pairs", "--gin_param", "ds_pairs.base = 'noisy_dsprites'",
             "--preview", str(tmp_path / "pairs"))
  assert out.returncode == 0, out.stderr
  assert "ds_pairs_on_noisy_dsprites_pair_joints.png" in os.listdir(tmp_path / "pairs")
  with Image.open(tmp_path / "colour" / "color_dsprites_samples.png") as im:
    pixels = np.asarray(im.convert("RGB"), np.int16)
  spread = pixels.max(-1) - pixels.min(-1)  # channels apart: coloured, not grey
  assert (spread > 40).mean() > 0.005, (spread > 40).mean()


# -- colour and noise (disentanglement_lib's ColorDSprites, NoisyDSprites) -----------------------
class _LazyImages:
  """disentanglement_lib's `images` array (N, 64, 64) without 3 GB in memory: rendered on
  indexing."""

  def __getitem__(self, indices):
    return renderer.render(np.asarray(indices, np.int64))


def _library_dsprites(cls_name, latent=(1, 2, 3, 4, 5)):
  """disentanglement_lib's own class, built as its __init__ does but with the suite's renderer in
  place of the npz it would open (its gfile read is the one piece patched; nothing installed is
  modified)."""
  from echo_suite import gin_compat
  gin_compat.install(gin_tf=True)
  from disentanglement_lib.data.ground_truth import dsprites, util
  data = object.__new__(getattr(dsprites, cls_name))
  data.latent_factor_indices = list(latent)
  data.data_shape = [64, 64, 1]
  data.images = _LazyImages()
  data.factor_sizes = np.array(grid.FACTOR_SIZES, dtype=np.int64)
  data.full_factor_sizes = list(grid.FACTOR_SIZES)
  data.factor_bases = np.prod(data.factor_sizes) / np.cumprod(data.factor_sizes)
  data.state_space = util.SplitDiscreteStateSpace(data.factor_sizes, data.latent_factor_indices)
  return data


@pytest.mark.parametrize("name,cls_name", [("color_dsprites", "ColorDSprites"),
                                           ("noisy_dsprites", "NoisyDSprites")])
def test_colour_and_noise_match_disentanglement_libs_classes(name, cls_name):
  ours, theirs = registry.DATASETS[name](), _library_dsprites(cls_name)
  assert ours.observation_shape == [64, 64, 3] and ours.factors_num_values == \
      theirs.factors_num_values and ours.num_factors == theirs.num_factors
  factors = ours.sample_factors(50, np.random.RandomState(1))
  a = ours.sample_observations_from_factors(factors, np.random.RandomState(7))
  b = theirs.sample_observations_from_factors(factors, np.random.RandomState(7))
  assert a.shape == b.shape == (50, 64, 64, 3) and a.dtype == np.float32
  np.testing.assert_allclose(a, b, atol=1e-6)  # the same draws: float32 here, float64 there
  # Fresh draws per call, as there; without a generator, one fixed draw per index.
  fresh = ours.sample_observations_from_factors(factors, np.random.RandomState(8))
  assert not np.allclose(a, fresh)
  idx = ours.index_of_factors(factors[:5])
  fixed = ours.observations(idx)
  np.testing.assert_array_equal(fixed, ours.observations(idx))
  np.testing.assert_array_equal(fixed[2:3], ours.observations(idx[2:3]))
  assert fixed.min() >= 0 and fixed.max() <= 1
  shapes = ours.images(idx).astype(bool)
  if name == "color_dsprites":  # the sprite in one colour, channels in [0.5, 1], on black
    colours = fixed[shapes]
    assert colours.min() >= 0.5 and np.all(fixed[~shapes] == 0)
    assert np.allclose(colours, colours[:1], atol=0.5) and len(np.unique(fixed[0][shapes[0]],
                                                                         axis=0)) == 1
  else:  # a white sprite on noise in [0, 1]
    assert np.all(fixed[shapes] == 1) and 0.45 < fixed[~shapes].mean() < 0.55


def test_colour_training_batches_are_fresh_and_resume_exactly():
  data = registry.DATASETS["color_dsprites"]()
  first = data.batch(8, seed=3, step=5)
  np.testing.assert_array_equal(first, data.batch(8, seed=3, step=5))
  again = next(data.batches(8, seed=3, start_step=5))
  np.testing.assert_array_equal(first, again)
  # The batch's images are those of its indices, in colours drawn for this step.
  idx = data.batch_indices(8, 3, 5)
  np.testing.assert_array_equal(first.max(axis=3) > 0, data.images(idx).astype(bool))
  assert not np.allclose(first, data.observations(idx))
  assert data.independent() is data and registry.DATASETS["ds_corr"]().independent().name == \
      "dsprites"


def test_dependence_on_another_data_set_keeps_its_images_and_evaluation_set():
  corr = ground_truth.DSpritesCorrelated(base="color_dsprites")
  plain = ground_truth.DSpritesCorrelated()
  # The same removal on the same grid: the kept combinations and their exact TC are dSprites'.
  np.testing.assert_array_equal(corr.kept_indices, plain.kept_indices)
  assert corr.info()["total_correlation_nats"] == pytest.approx(1.4914, abs=1e-4)
  assert corr.info()["base"] == "color_dsprites" and "base" not in plain.info()
  assert corr.observation_shape == [64, 64, 3] and corr.independent().name == "color_dsprites"
  batch = corr.batch(4, seed=0, step=0)
  assert batch.shape == (4, 64, 64, 3) and np.all(corr.keeps(corr.batch_indices(4, 0, 0)))
  pairs = ground_truth.DSpritesPairs(base="color_dsprites", pairs=(("scale", "orientation"),),
                                     sigma=0.1)
  assert pairs.info()["total_correlation_nats"] > 0.3 and pairs.num_channels == 3
  with pytest.raises(ValueError, match=r"ds_corr.base='ds_pairs' must be a data set with "
                                       r"independent factors, one of \['dsprites'"):
    ground_truth.DSpritesCorrelated(base="ds_pairs")
  with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
    ground_truth.DSpritesPairs(base="mnist")
  with pytest.raises(ValueError, match="bad factor pair"):
    ground_truth.DSpritesPairs(base="color_dsprites", pairs=(("posX", "hue"),))


def test_dsprites_noshape_draws_shape_as_disentanglement_lib_does():
  ours = registry.make_dataset("dsprites_noshape")
  theirs = _library_dsprites("DSprites", latent=(2, 3, 4, 5))
  assert ours.factor_names == ["scale", "orientation", "posX", "posY"]
  assert ours.factors_num_values == theirs.factors_num_values == [6, 40, 32, 32]
  factors = ours.sample_factors(200, np.random.RandomState(1))
  mine = ours.sample_observations_from_factors(factors, np.random.RandomState(4))
  np.testing.assert_array_equal(
      mine, theirs.sample_observations_from_factors(factors, np.random.RandomState(4)))
  drawn = grid.classes_of(ours.index_of_factors(factors, np.random.RandomState(4)))[:, 1]
  assert set(drawn) == {0, 1, 2}  # every shape, at random
  assert ours.info()["total_correlation_nats"] == pytest.approx(0.0, abs=1e-12)


def test_export_of_a_data_set_without_an_official_npz_is_refused(tmp_path, capsys):
  # --export writes dSprites' schema: a colour export would silently be plain dSprites.
  from echo_suite.commands import dataset as dataset_cli
  target = tmp_path / "colour.npz"
  with pytest.raises(SystemExit) as stop:
    dataset_cli.main(["--dataset", "color_dsprites", "--export", str(target)])
  err = capsys.readouterr().err
  assert stop.value.code == 2 and err == (
      "error: --export writes dSprites in its official npz schema; --dataset color_dsprites has "
      "none (leave --dataset out, or look at it with --preview DIR)\n")
  assert not target.exists()
