"""Data sets from a user's files (data/files.py): small files written here in the official formats
load, give disentanglement_lib's own class's images for the same factors, and a missing or
malformed file is one error naming it."""
import os
import subprocess
import sys

import gin
import numpy as np
import pytest

from echo_suite.data import files, registry
from echo_suite.data import dependence
from echo_suite.data.grid import FactorGrid
from conftest import ROOT

TINY_SHAPES3D = (2, 2, 2, 2, 2, 3)  # Shapes3D's six factors with few classes: a 96-image file
TINY_MPI3D = (2, 2, 2, 1, 1, 3, 2)


def _images(sizes, seed=0):
  rng = np.random.RandomState(seed)
  return rng.randint(0, 256, size=tuple(sizes) + (64, 64, 3)).astype(np.uint8)


class TinyShapes3D(files.Shapes3D):
  grid = FactorGrid(files.Shapes3D.grid.names, TINY_SHAPES3D, tuple(range(6)))


class TinyMPI3D(files.MPI3DToy):
  grid = FactorGrid(files.MPI3DToy.grid.names, TINY_MPI3D, tuple(range(7)))


def _write_shapes3d(root, kind, images):
  """Shapes3D as its publishers write it: disentanglement_lib's npz (images shaped by the grid,
  labels the factor values) or DeepMind's 3dshapes.h5 (images and labels flat)."""
  folder = root / "3dshapes"
  folder.mkdir(parents=True, exist_ok=True)
  labels = np.stack(np.meshgrid(*[np.arange(s, dtype=np.float64) for s in TINY_SHAPES3D],
                                indexing="ij"), axis=-1)
  if kind == "h5":
    import h5py
    path = folder / "3dshapes.h5"
    with h5py.File(path, "w") as f:
      f.create_dataset("images", data=images.reshape(-1, 64, 64, 3))
      f.create_dataset("labels", data=labels.reshape(-1, 6))
  else:
    path = folder / files.Shapes3D.file_source.candidates[0].split("/")[1]
    save = np.savez_compressed if kind == "npz_compressed" else np.savez
    save(path, images=images, labels=labels)
  return path


def _library_class(module_name, cls_name, sizes, monkeypatch, **kwargs):
  """disentanglement_lib's own class on the tiny file: its path constants point at
  $DISENTANGLEMENT_LIB_DATA as read at import, and its factor sizes are hard-coded, so both are
  patched (in the test only; nothing installed is modified)."""
  from echo_suite import gin_compat
  gin_compat.install(gin_tf=True)
  import importlib
  module = importlib.import_module(f"disentanglement_lib.data.ground_truth.{module_name}")
  from disentanglement_lib.data.ground_truth import util
  if hasattr(module, "SHAPES3D_PATH"):
    monkeypatch.setattr(module, "SHAPES3D_PATH", kwargs.pop("path"))
  data = getattr(module, cls_name)(**kwargs)
  data.factor_sizes = list(sizes)
  data.state_space = util.SplitDiscreteStateSpace(data.factor_sizes, data.latent_factor_indices)
  data.factor_bases = np.prod(data.factor_sizes) / np.cumprod(data.factor_sizes)
  return data


@pytest.mark.parametrize("kind", ["npz", "npz_compressed", "h5"])
def test_shapes3d_loads_and_matches_disentanglement_libs_class(tmp_path, monkeypatch, kind):
  images = _images(TINY_SHAPES3D)
  path = _write_shapes3d(tmp_path, kind, images)
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path))
  ours = TinyShapes3D()  # found under $DISENTANGLEMENT_LIB_DATA as disentanglement_lib lays it out
  assert ours.data_path == str(path) and ours.observation_shape == [64, 64, 3]
  assert ours.num_examples == 96 and ours.factors_num_values == list(TINY_SHAPES3D)
  if kind == "npz":  # stored uncompressed: memory-mapped, not read
    assert isinstance(ours._images, np.memmap)
  factors = ours.sample_factors(40, np.random.RandomState(3))
  mine = ours.sample_observations_from_factors(factors, np.random.RandomState(0))
  # The image of factor classes c is images[c] of the file.
  np.testing.assert_array_equal(mine, images[tuple(factors.T)].astype(np.float32) / 255)
  if kind != "h5":  # disentanglement_lib reads its npz only
    npz = path if kind == "npz" else _write_shapes3d(tmp_path / "plain", "npz", images)
    theirs = _library_class("shapes3d", "Shapes3D", TINY_SHAPES3D, monkeypatch, path=str(npz))
    np.testing.assert_allclose(
        mine, theirs.sample_observations_from_factors(factors, np.random.RandomState(0)),
        atol=1e-7)


def test_mpi3d_loads_and_matches_disentanglement_libs_class(tmp_path, monkeypatch):
  images = _images(TINY_MPI3D, seed=1).reshape(-1, 64, 64, 3)
  (tmp_path / "mpi3d_toy").mkdir()
  np.savez(tmp_path / "mpi3d_toy" / "mpi3d_toy.npz", images=images)
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path))
  ours = TinyMPI3D()
  factors = ours.sample_factors(30, np.random.RandomState(4))
  mine = ours.sample_observations_from_factors(factors, np.random.RandomState(0))
  theirs = _library_class("mpi3d", "MPI3D", TINY_MPI3D, monkeypatch, mode="mpi3d_toy")
  np.testing.assert_allclose(
      mine, theirs.sample_observations_from_factors(factors, np.random.RandomState(0)), atol=1e-7)


def test_a_malformed_file_is_refused_naming_it(tmp_path):
  import pickle
  folder = tmp_path / "3dshapes"
  folder.mkdir()
  bad = folder / "3dshapes.h5"
  bad.write_bytes(pickle.dumps({"images": 1}))
  with pytest.raises(ValueError, match="not a readable HDF5 file"):
    TinyShapes3D(str(bad))
  wrong = tmp_path / "wrong.npz"
  np.savez(wrong, images=np.zeros((96, 64, 64, 1), np.uint8))
  with pytest.raises(ValueError, match=r"images of shape \(96, 64, 64, 1\).*expected 96 images"):
    TinyShapes3D(str(wrong))
  floats = tmp_path / "floats.npz"
  np.savez(floats, images=np.zeros((96, 64, 64, 3), np.float32))
  with pytest.raises(ValueError, match="dtype float32"):
    TinyShapes3D(str(floats))
  objects = tmp_path / "objects.npz"
  np.savez(objects, images=np.array([object()] * 2, dtype=object))
  with pytest.raises(ValueError, match="Python objects"):
    TinyShapes3D(str(objects))
  nokey = tmp_path / "nokey.npz"
  np.savez(nokey, imgs=np.zeros(3))
  with pytest.raises(ValueError, match=r"has no array 'images' \(it holds \['imgs'\]\)"):
    TinyShapes3D(str(nokey))


@pytest.mark.parametrize("name", ["shapes3d", "mpi3d_toy", "mpi3d_real", "cars3d", "smallnorb",
                                  "scream_dsprites"])
def test_a_missing_file_is_one_error_line_from_every_command(tmp_path, name):
  env = {**os.environ, files.DATA_ENV_VAR: str(tmp_path)}
  published = registry.DATASETS[name].file_source.published
  commands = [["dataset.py", "--dataset", name, "--info"]]
  if name == "shapes3d":  # each command once (each starts TensorFlow: seconds)
    commands += [["disentanglement.py", "--dataset", name, "--steps", "2", "--output_dir",
                  str(tmp_path / "run")],
                 ["score.py", "--codes", str(tmp_path / "codes.npz"), "--data", name],
                 ["scripts/sweep.py", "--runs_dir", str(tmp_path / "sweep"), "--datasets", name,
                  "--models", "echo", "--seeds", "0", "--steps", "2"]]
  for command in commands:
    if command[0] == "score.py":
      np.savez(tmp_path / "codes.npz", codes=np.zeros((3, 2), np.float32))
    out = subprocess.run([sys.executable, os.path.join(ROOT, command[0]), *command[1:]],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 2, (command, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {name} needs "), (command, lines)
    expected = os.path.join(tmp_path, registry.DATASETS[name].file_source.candidates[0])
    assert repr(expected) in lines[0]
    assert published in lines[0] and "usage:" not in out.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "sweep").exists()


def test_a_path_of_the_wrong_kind_is_named_as_such(tmp_path, monkeypatch):
  # A folder where a file is needed (or the reverse), or $DISENTANGLEMENT_LIB_DATA set to a file,
  # is not "a file that does not exist".
  (tmp_path / "folder").mkdir()
  (tmp_path / "file").write_text("")
  with pytest.raises(FileNotFoundError) as e:
    files.locate("shapes3d", files.Shapes3D.file_source, tmp_path / "folder")
  assert str(e.value) == f"shapes3d needs a file; {str(tmp_path / 'folder')!r} is a folder"
  with pytest.raises(FileNotFoundError) as e:
    files.locate("cars3d", files.Cars3D.file_source, tmp_path / "file")
  assert str(e.value) == f"cars3d needs a folder; {str(tmp_path / 'file')!r} is a file"
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path / "file"))
  with pytest.raises(FileNotFoundError) as e:
    files.locate("cars3d", files.Cars3D.file_source)
  assert str(e.value).startswith(f"cars3d is looked for under ${files.DATA_ENV_VAR}="
                                 f"{str(tmp_path / 'file')!r}, which is a file, not a folder")


def test_the_factor_response_of_another_grid_has_one_panel_per_factor(tmp_path):
  from PIL import Image
  from echo_suite.figures import model_figures
  grid = files.Shapes3D.grid
  rs = np.random.RandomState(0)
  factors = np.stack([rs.randint(s, size=3000) for s in grid.sizes], axis=1)
  codes = np.concatenate([factors[:, :2] + 0.1 * rs.randn(3000, 2), rs.randn(3000, 1)], axis=1)
  path = model_figures.factor_response(codes, factors, grid.sizes, str(tmp_path / "f.png"),
                                       [0, 1, 2], ["z0", "z1", "z2"], "shapes3d",
                                       names=grid.latent_names)
  with Image.open(path) as im:
    width, height = im.size
  assert width > 1.9 * height  # six factor columns, three dimension rows


class TinyCars3D(files.Cars3D):
  grid = FactorGrid(files.Cars3D.grid.names, (4, 24, 2), (0, 1, 2))  # two car models


def _write_cars(root, cars=2):
  """Cars3D's folder as published: one MATLAB file per car, 'im' (128, 128, 3, 24, 4) uint8."""
  import scipy.io
  folder = root / "cars"
  folder.mkdir(parents=True)
  rng = np.random.RandomState(5)
  for k in range(cars):
    im = rng.randint(0, 256, size=(128, 128, 3, 24, 4)).astype(np.uint8)
    scipy.io.savemat(folder / f"car_{k:03d}_mesh.mat", {"im": im})
  return folder


def test_cars3d_loads_and_matches_disentanglement_libs_class(tmp_path, monkeypatch):
  import PIL.Image
  folder = _write_cars(tmp_path)
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path))
  ours = TinyCars3D()
  assert ours.data_path == str(folder) and ours.num_examples == 4 * 24 * 2
  from echo_suite import gin_compat
  gin_compat.install(gin_tf=True)
  from disentanglement_lib.data.ground_truth import cars3d
  # Patched in the test only, where disentanglement_lib cannot run on today's stack or here: its
  # folder constant (read at import), its folder listing (file-system order: sorted here, as
  # ours), Pillow's ANTIALIAS (removed in Pillow 10: LANCZOS is the same filter) and its
  # 3-tuple thumbnail size (Pillow takes (width, height)).
  monkeypatch.setattr(cars3d, "CARS3D_PATH", str(folder))
  monkeypatch.setattr(cars3d.gfile, "ListDirectory", lambda p: sorted(os.listdir(p)))
  monkeypatch.setattr(PIL.Image, "ANTIALIAS", PIL.Image.LANCZOS, raising=False)
  thumbnail = PIL.Image.Image.thumbnail
  monkeypatch.setattr(PIL.Image.Image, "thumbnail",
                      lambda self, size, *a, **k: thumbnail(self, tuple(size[:2]), *a, **k))
  theirs = cars3d.Cars3D()
  factors = ours.sample_factors(60, np.random.RandomState(2))
  mine = ours.sample_observations_from_factors(factors, np.random.RandomState(0))
  np.testing.assert_allclose(
      mine, theirs.sample_observations_from_factors(factors, np.random.RandomState(0)),
      atol=1e-6)
  assert mine.std() > 0.05  # resized noise, not an empty image


def test_a_cars3d_folder_of_the_wrong_size_is_refused(tmp_path):
  folder = _write_cars(tmp_path, cars=1)
  with pytest.raises(ValueError, match=r"holds 1 .mat files; expected 2"):
    TinyCars3D(str(folder))


def test_scream_dsprites_matches_disentanglement_libs_class(tmp_path, monkeypatch):
  import PIL.Image
  from test_dataset import _library_dsprites
  folder = tmp_path / "scream"
  folder.mkdir()
  rng = np.random.RandomState(6)
  PIL.Image.fromarray(rng.randint(0, 256, size=(300, 420, 3)).astype(np.uint8)).save(
      folder / "scream.jpg", quality=90)
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path))
  ours = registry.make_dataset("scream_dsprites")
  assert ours.scream.shape == (250, 350, 3) and ours.observation_shape == [64, 64, 3]
  # disentanglement_lib's class, its dSprites part built as in test_dataset (no npz here) and
  # patched in the test only: the painting's path constant and the 3-tuple thumbnail size.
  from disentanglement_lib.data.ground_truth import dsprites
  theirs = _library_dsprites("ScreamDSprites")
  monkeypatch.setattr(dsprites, "SCREAM_PATH", str(folder / "scream.jpg"))
  monkeypatch.setattr(dsprites.DSprites, "__init__", lambda self, indices=None: None)
  thumbnail = PIL.Image.Image.thumbnail
  monkeypatch.setattr(PIL.Image.Image, "thumbnail",
                      lambda self, size, *a, **k: thumbnail(self, tuple(size[:2]), *a, **k))
  dsprites.ScreamDSprites.__init__(theirs)
  np.testing.assert_allclose(ours.scream, theirs.scream)
  factors = ours.sample_factors(20, np.random.RandomState(1))
  mine = ours.sample_observations_from_factors(factors, np.random.RandomState(3))
  np.testing.assert_allclose(
      mine, theirs.sample_observations_from_factors(factors, np.random.RandomState(3)), atol=1e-6)
  fixed = ours.observations(ours.index_of_factors(factors[:3]))
  np.testing.assert_array_equal(fixed, ours.observations(ours.index_of_factors(factors[:3])))
  assert not np.allclose(fixed, mine[:3])


TINY_NORB = (2, 2, 2, 2, 2)  # category, instance, elevation, azimuth, lighting


class TinyNORB(files.SmallNORB):
  grid = FactorGrid(files.SmallNORB.grid.names, TINY_NORB, (0, 2, 3, 4))


def _norb_file(path, array, magic):
  """A SmallNORB binary matrix: int32 magic, ndim, max(3, ndim) dims (padded with 1), data."""
  dims = list(array.shape) + [1] * (3 - array.ndim)
  header = np.array([magic, array.ndim] + dims, "<i4").tobytes()
  path.write_bytes(header + np.ascontiguousarray(array).tobytes())


def _write_norb(root):
  """The four official files of a tiny SmallNORB: instance 1 in 'training', 0 in 'testing',
  rows in a shuffled order, azimuth stored as 0, 2, ... as there."""
  folder = root / "small_norb"
  folder.mkdir()
  rng = np.random.RandomState(8)
  cat_s, ele_s, azi_s, lig_s = TINY_NORB[0], TINY_NORB[2], TINY_NORB[3], TINY_NORB[4]
  for chunk, instance in zip(files._NORB_CHUNKS, (1, 0)):
    rows = np.array([(c, instance, e, 2 * a, li) for c in range(cat_s) for e in range(ele_s)
                     for a in range(azi_s) for li in range(lig_s)])[rng.permutation(16)]
    dat = rng.randint(0, 256, size=(len(rows), 2, 96, 96)).astype(np.uint8)
    _norb_file(folder / f"{chunk}-dat.mat", dat, 507333717)
    _norb_file(folder / f"{chunk}-cat.mat", rows[:, 0].astype(np.int32), 507333716)
    _norb_file(folder / f"{chunk}-info.mat", rows[:, 1:].astype(np.int32), 507333716)
  return folder


def test_smallnorb_loads_and_matches_disentanglement_libs_class(tmp_path, monkeypatch):
  import PIL.Image
  folder = _write_norb(tmp_path)
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path))
  ours = TinyNORB()
  assert ours.num_factors == 4 and ours.observation_shape == [64, 64, 1]
  from echo_suite import gin_compat
  gin_compat.install(gin_tf=True)
  from disentanglement_lib.data.ground_truth import norb, util
  # Patched in the test only: the path template (read from the environment at import), `int` of
  # a one-element array (numpy 2 refuses it), Pillow's removed ANTIALIAS (= LANCZOS); the class
  # is assembled as its __init__ does, with the tiny grid's sizes in place of its constants.
  monkeypatch.setattr(norb, "SMALLNORB_TEMPLATE", str(folder / "smallnorb-{}-{}.mat"))
  monkeypatch.setattr(norb, "int", lambda a: int(np.asarray(a).reshape(-1)[0]), raising=False)
  monkeypatch.setattr(PIL.Image, "ANTIALIAS", PIL.Image.LANCZOS, raising=False)
  images, features = norb._load_small_norb_chunks(norb.SMALLNORB_TEMPLATE, norb.SMALLNORB_CHUNKS)
  theirs = object.__new__(norb.SmallNORB)
  theirs.images, theirs.factor_sizes, theirs.latent_factor_indices = images, list(TINY_NORB), \
      [0, 2, 3, 4]
  theirs.index = util.StateSpaceAtomIndex(theirs.factor_sizes, features)
  theirs.state_space = util.SplitDiscreteStateSpace(theirs.factor_sizes, [0, 2, 3, 4])
  factors = ours.sample_factors(40, np.random.RandomState(2))
  mine = ours.sample_observations_from_factors(factors, np.random.RandomState(0))
  np.testing.assert_allclose(
      mine, theirs.sample_observations_from_factors(factors, np.random.RandomState(0)),
      atol=1e-6)
  # The instance is drawn afresh: other draws, other instances for some of the same factors.
  again = ours.sample_observations_from_factors(factors, np.random.RandomState(1))
  assert 0 < np.mean(np.any(mine != again, axis=(1, 2, 3))) < 1


def test_a_smallnorb_file_with_a_wrong_header_is_refused(tmp_path):
  folder = _write_norb(tmp_path)
  bad = folder / f"{files._NORB_CHUNKS[0]}-cat.mat"
  bad.write_bytes(bad.read_bytes()[:-4])
  with pytest.raises(ValueError, match=r"header dims \(16,\) of int32 do not fit its"):
    TinyNORB(str(folder))


def test_a_model_trains_scores_and_draws_on_another_grid(tmp_path, monkeypatch):
  """End to end on a file-based grid of six factors and colour images: training, the code table
  and its scores, every model figure, the data previews (ds_corr over it included)."""
  import gin
  from echo_suite import training
  from echo_suite.figures import dataset_figures, model_figures
  from echo_suite.metrics import evaluate, scores
  from echo_suite.models.autoencoder import Autoencoder
  from echo_suite.data import ground_truth
  _write_shapes3d(tmp_path, "npz", _images(TINY_SHAPES3D))
  monkeypatch.setenv(files.DATA_ENV_VAR, str(tmp_path))
  data = TinyShapes3D()
  gin.clear_config()
  model = Autoencoder(name="vae", num_channels=3)
  model, results = training.train(str(tmp_path / "run"), data, steps=3, batch_size=16,
                                  progress=False, model=model)
  assert results["training"]["step"] == 3 and results["data"]["factor_sizes"] == [2] * 5 + [3]
  with scores.gin_bindings({"eval_mig.num_train": 200, "eval_mig.batch_size": 50}):
    block, table = evaluate.evaluate(model.representation_function, data, metrics=["mig"],
                                     progress=False)
  assert block["eval_on"] == "shapes3d" and np.isfinite(
      block["metrics"]["mean"]["mig"].get("discrete_mig", 0.0))
  assert len(table.indices) <= data.num_examples
  images = data.observations(table.indices[:4])
  paths = model_figures.write_all(
      str(tmp_path / "figures"), decode=model.decode, codes=table.codes,
      factors=data.factors_of(table.indices), sizes=data.factors_num_values,
      rates=results["training"]["rate_per_dim_nats"], min_rate=0.0, rate_kind="KL",
      images=images, recon=model.reconstruct(images), factor_names=data.factor_names)
  assert len(paths) == 5 and all(os.path.getsize(p) > 1000 for p in paths)
  previews = dataset_figures.write_previews(data, str(tmp_path / "previews"), n_mean=50)
  assert [os.path.basename(p) for p in previews] == ["shapes3d_samples.png", "shapes3d_mean.png"]

  class TinyCorrelated(ground_truth.DSpritesCorrelated):
    def __init__(self):
      keep, removed = dependence.correlated_keep_mask(0.05, 2, 0, True, grid=data.grid)
      ground_truth.Dependent.__init__(self, data, keep)
      self.removed_bin_pairs, self.n_bins = removed, 2
  corr = TinyCorrelated()
  assert 0 < corr.num_examples < data.num_examples and corr.independent() is data
  assert [os.path.basename(p) for p in dataset_figures.write_previews(
      corr, str(tmp_path / "previews"), n_mean=50)][-1] == (
          "ds_corr_on_shapes3d_removed_bin_pairs.png")  # named by its base: no overwrite


def test_the_data_path_flag_reaches_the_loader_from_every_command(tmp_path):
  wrong = tmp_path / "mine.npz"
  np.savez(wrong, images=np.zeros((3, 64, 64, 3), np.uint8))
  for command in (["dataset.py", "--dataset", "shapes3d", "--data_path", str(wrong), "--info"],
                  ["disentanglement.py", "--dataset", "shapes3d", "--data_path", str(wrong),
                   "--steps", "2", "--output_dir", str(tmp_path / "run")],
                  ["score.py", "--data", "shapes3d", "--data_path", str(wrong), "--codes",
                   str(wrong)]):
    out = subprocess.run([sys.executable, os.path.join(ROOT, command[0]), *command[1:]],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2, (command, out.stderr)
    assert out.stderr.strip().splitlines() == [
        f"error: {str(wrong)!r}: images of shape (3, 64, 64, 3) and dtype uint8; expected "
        "480,000 images of 64x64x3 uint8"], command
  assert not (tmp_path / "run").exists()
  missing = subprocess.run([sys.executable, os.path.join(ROOT, "dataset.py"), "--dataset",
                            "cars3d", "--data_path", str(tmp_path / "nowhere"), "--info"],
                           capture_output=True, text=True)
  assert missing.returncode == 2 and missing.stderr.startswith(
      f"error: cars3d needs the folder {str(tmp_path / 'nowhere')!r}, which does not exist")


def test_data_path_reaches_a_file_based_base_and_is_refused_where_nothing_reads_it(tmp_path):
  # ds_corr drawn on scream_dsprites reads the painting from --data_path; dSprites, colour and
  # ds_corr on dSprites read no such file, so a --data_path there is an error, not ignored.
  from PIL import Image
  painting = tmp_path / "painting.jpg"
  Image.fromarray(np.random.RandomState(0).randint(0, 255, (250, 350, 3), np.uint8)).save(
      painting)
  gin.clear_config()
  gin.parse_config(["ds_corr.base = 'scream_dsprites'"])
  try:
    data = registry.make_dataset("ds_corr", data_path=str(painting))
    assert data.info()["base"] == "scream_dsprites" and data.base.data_path == str(painting)
    registry.check_data_file("ds_corr", str(painting))  # what sweep checks before any run
    with pytest.raises(ValueError, match="^scream_dsprites needs the file "):
      registry.check_data_file("ds_corr", str(tmp_path / "nowhere.jpg"))
  finally:
    gin.clear_config()
  for name in ("dsprites", "color_dsprites", "ds_corr", "ds_pairs"):
    with pytest.raises(ValueError) as e:
      registry.make_dataset(name, data_path=str(painting))
    assert str(e.value).startswith(f"--data_path {str(painting)!r}: {name} reads no file given so")
