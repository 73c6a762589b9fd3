"""Scoring representations trained anywhere (metrics.external, score.py), disentanglement_lib's
remaining metrics (IRS, downstream task, fairness) and UDR: oracles, refusals, and one number
through the API, the command and a direct call of disentanglement_lib's function."""
import json
import importlib.machinery
import importlib.util
import os

import gin
import numpy as np
import pytest

import conftest
from echo_suite.commands import score as score_cli
from echo_suite.data import grid, registry
from echo_suite.metrics import code_table, external, udr

FACTORS = grid.classes_of(np.arange(grid.NUM_IMAGES))[:, 1:].astype(np.float32)  # shape..posY
# Every metric at a size that runs in seconds (each departure is recorded by the scores block).
SMALL = {
    "eval_factor_vae.num_train": 200, "eval_factor_vae.num_eval": 100,
    "eval_factor_vae.num_variance_estimate": 1000, "eval_mig.num_train": 1000,
    "eval_dci.num_train": 200, "eval_dci.num_test": 100, "eval_sap.num_train": 500,
    "eval_sap.num_test": 200, "eval_modularity.num_train": 500, "eval_modularity.num_test": 200,
    "eval_beta_vae.batch_size": 16, "eval_beta_vae.num_train": 100, "eval_beta_vae.num_eval": 50,
    "eval_unsupervised.num_train": 500, "eval_irs.num_train": 500,
    "eval_downstream_logistic.num_train": (10, 100), "eval_downstream_logistic.num_test": 100,
    "eval_downstream_boosted.num_train": (10, 100), "eval_downstream_boosted.num_test": 100,
    "eval_fairness.num_train": 200, "eval_fairness.num_test_points_per_class": 5,
}
# Tree probes over every factor's classes at any sample size (minutes a call here): their own
# tests, against disentanglement_lib's modules, are tests/test_metric_modules.py's.
SEPARATE = ["strong_downstream", "reduced_downstream", "unified"]
ALL = [m for m in external.names.METRIC_NAMES if m not in SEPARATE]
# scikit-learn probes with fixed model sizes (gradient-boosted trees over up to 40 classes, 5-fold
# cross-validated logistic regression): ~10 s per call here whatever the sample size, so the
# slow tier (`make test-slow`) checks them; the others run in `make test`.
PROBED = ["dci", "downstream_logistic", "downstream_boosted", "fairness"]
CHEAP = [m for m in ALL if m not in PROBED]
PCA_FILE = '''"""PCA of the pixels, fitted on 10,000 images with scikit-learn: no TensorFlow here."""
import numpy as np
from sklearn.decomposition import PCA

from echo_suite.data.renderer import render
from pca_settings import COMPONENTS  # a file beside this one

_pca = PCA(n_components=COMPONENTS, random_state=0).fit(
    render(np.random.RandomState(0).randint(737280, size=10000)).reshape(10000, -1))


def encode(images):
  return _pca.transform(images.reshape(len(images), -1)).astype(np.float32)
'''


def cli_args(settings):
  return [a for k, v in settings.items() for a in ("--gin_param", f"{k} = {v!r}")]


def random_rotation(d, seed=0):
  q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
  return q.astype(np.float32)


REPRESENTATIONS = {
    "factors": FACTORS,
    "rotated factors": ((FACTORS - FACTORS.mean(0)) / FACTORS.std(0)) @ random_rotation(5),
    "random codes": np.random.default_rng(1).normal(size=(grid.NUM_IMAGES, 5)).astype(np.float32),
}


# -- disentanglement_lib called directly, configured as its study's metric gin files are --------
DIRECT = {
    "factor_vae": ("factor_vae.compute_factor_vae", ["prune_dims.threshold = 0.05"],
                   dict(batch_size=64, num_train=200, num_eval=100, num_variance_estimate=1000)),
    "mig": ("mig.compute_mig", ["discretizer.discretizer_fn = @histogram_discretizer",
                                "discretizer.num_bins = 20"], dict(num_train=1000, batch_size=16)),
    "dci": ("dci.compute_dci", [], dict(num_train=200, num_test=100, batch_size=16)),
    "sap": ("sap_score.compute_sap", [], dict(num_train=500, num_test=200, batch_size=16,
                                              continuous_factors=False)),
    "modularity": ("modularity_explicitness.compute_modularity_explicitness",
                   ["discretizer.discretizer_fn = @histogram_discretizer",
                    "discretizer.num_bins = 20"], dict(num_train=500, num_test=200, batch_size=16)),
    "beta_vae": ("beta_vae.compute_beta_vae_sklearn", [],
                 dict(batch_size=16, num_train=100, num_eval=50)),
    "unsupervised": ("unsupervised_metrics.unsupervised_metrics",
                     ["discretizer.discretizer_fn = @histogram_discretizer",
                      "discretizer.num_bins = 20"], dict(num_train=500, batch_size=16)),
    "irs": ("irs.compute_irs", ["discretizer.discretizer_fn = @histogram_discretizer",
                                "discretizer.num_bins = 20"],
            dict(diff_quantile=0.99, num_train=500, batch_size=16)),
    "downstream_logistic": ("downstream_task.compute_downstream_task",
                            ["predictor.predictor_fn = @logistic_regression_cv"],
                            dict(num_train=[10, 100], num_test=100, batch_size=16)),
    "downstream_boosted": ("downstream_task.compute_downstream_task",
                           ["predictor.predictor_fn = @gradient_boosting_classifier"],
                           dict(num_train=[10, 100], num_test=100, batch_size=16)),
    "fairness": ("fairness.compute_fairness",
                 ["predictor.predictor_fn = @gradient_boosting_classifier"],
                 dict(num_train=200, num_test_points_per_class=5, batch_size=16)),
}


def direct(metric, table, function, seed=0):
  """disentanglement_lib's own function on the code table, with its study's gin bindings."""
  import importlib
  from echo_suite import gin_compat
  gin_compat.install(gin_tf=True)
  name, bindings, kwargs = DIRECT[metric]
  module, fn = name.rsplit(".", 1)
  module = importlib.import_module(f"disentanglement_lib.evaluation.metrics.{module}")
  gin.clear_config()
  gin.parse_config(bindings)
  random_state = np.random.RandomState(seed)
  saved = np.random.get_state()
  if metric in PROBED:  # its unseeded scikit-learn estimators draw from a copy of random_state
    np.random.set_state(random_state.get_state())
  try:
    values = getattr(module, fn)(table, function, random_state, **kwargs)
  finally:
    gin.clear_config()
    np.random.set_state(saved)
  if metric.startswith("downstream"):
    values["mean_test_accuracy"] = values["100:mean_test_accuracy"]
  return {k: float(v) for k, v in values.items()}


def conformance(tmp, metrics):
  """{representation: (API scores, command scores, disentanglement_lib's scores)} of `metrics`;
  the command only when `tmp` is given."""
  out = {}
  data = registry.make_dataset("dsprites")
  for label, codes in REPRESENTATIONS.items():
    api = external.score(codes, metrics=metrics, settings=SMALL, progress=False)["metrics"]["mean"]
    cli = None
    if tmp is not None:
      path = tmp / f"{label.replace(' ', '_')}.npz"
      np.savez(path, codes=codes)
      assert score_cli.main(["--codes", str(path), "--metrics", *metrics, *cli_args(SMALL),
                             "--output_dir", str(tmp / label.replace(" ", "_")),
                             "--no_progress"]) == 0
      with open(tmp / label.replace(" ", "_") / "results.json") as f:
        cli = json.load(f)["scores"]["metrics"]["mean"]
    table = code_table.CodeTableData(data, codes, data.kept_indices)
    dlib = {m: direct(m, table, table.representation_function) for m in metrics}
    out[label] = (api, cli, dlib)
  return out


@pytest.fixture(scope="module")
def cheap(tmp_path_factory):
  return conformance(tmp_path_factory.mktemp("conformance"), CHEAP)


@pytest.fixture(scope="module")
def probed():
  return conformance(None, PROBED)


def _agree(api, dlib, metrics):
  assert set(api) == set(metrics)
  for metric in metrics:
    if metric == "factor_vae" and dlib[metric]["num_active_dims"] == 0:  # dlib says 0.0
      assert list(api[metric]) == ["error"] and "undefined" in api[metric]["error"]
      assert "In call to configurable" not in api[metric]["error"]
      continue
    assert api[metric] == pytest.approx(dlib[metric], rel=1e-9, abs=1e-12), metric


@pytest.mark.slow  # 15 s of disentanglement_lib called directly; the fast tier scores through both
@pytest.mark.parametrize("label", list(REPRESENTATIONS))
def test_metrics_agree_through_api_command_and_disentanglement_lib(cheap, label):
  api, cli, dlib = cheap[label]
  assert api == cli  # one computation, two entry points: identical
  _agree(api, dlib, CHEAP)


@pytest.mark.slow
@pytest.mark.parametrize("label", list(REPRESENTATIONS))
def test_probed_metrics_agree_through_api_and_disentanglement_lib(probed, label):
  api, _, dlib = probed[label]
  _agree(api, dlib, PROBED)


def test_oracles(cheap):
  factors, rotated, random = (cheap[k][0] for k in REPRESENTATIONS)
  assert factors["factor_vae"]["eval_accuracy"] == 1.0
  assert random["factor_vae"]["eval_accuracy"] < 0.4
  assert factors["irs"]["IRS"] > 0.95 and random["irs"]["IRS"] < 0.5
  assert factors["irs"]["IRS"] > rotated["irs"]["IRS"]


@pytest.mark.slow
def test_oracles_of_the_probed_metrics(probed):
  factors, rotated, random = (probed[k][0] for k in REPRESENTATIONS)
  for m in ("downstream_logistic", "downstream_boosted"):  # factors predict themselves
    assert factors[m]["mean_test_accuracy"] > random[m]["mean_test_accuracy"] + 0.2, m
  assert factors["dci"]["disentanglement"] > 0.5 > 0.1 > random["dci"]["disentanglement"]
  # Unfairness: predictions from the factors move less under interventions than from a rotation.
  assert (factors["fairness"]["mean_fairness:mean_pred:mean_sens"]
          < rotated["fairness"]["mean_fairness:mean_pred:mean_sens"])


def test_a_pca_of_the_pixels_scores_the_same_through_command_and_api(tmp_path, monkeypatch):
  (tmp_path / "pca.py").write_text(PCA_FILE)
  (tmp_path / "pca_settings.py").write_text("COMPONENTS = 6\n")
  settings = {"eval_factor_vae.num_train": 200, "eval_factor_vae.num_eval": 100,
              "eval_factor_vae.num_variance_estimate": 1000, "eval_mig.num_train": 1000}
  out = tmp_path / "out"
  assert score_cli.main(["--function", f"{tmp_path / 'pca.py'}:encode", *cli_args(settings),
                         "--output_dir", str(out), "--no_progress"]) == 0
  # the sibling was found, and its folder is not on the import path (nothing can shadow)
  assert importlib.machinery.PathFinder.find_spec("pca_settings") is None
  with open(out / "results.json") as f:
    results = json.load(f)
  spec = importlib.util.spec_from_file_location("pca_again", tmp_path / "pca.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  api = external.score(module.encode, settings=settings, progress=False)
  assert results["scores"]["metrics"] == api["metrics"]
  fingerprint = results["representation"].pop("codes_fingerprint")
  assert results["representation"] == {
      "kind": "function", "source": f"{tmp_path / 'pca.py'}:encode",
      "sha256": external.sha256_of(str(tmp_path / "pca.py"))}
  assert results["scores"]["weights"] == f"codes:{fingerprint}" and len(fingerprint) == 16
  assert results["data"]["name"] == "dsprites"
  assert (out / "scores.csv").read_text().count("\n") == 1 + 3 + 1  # header, FactorVAE 3, MIG 1
  assert (out / "figures" / "factor_response.png").stat().st_size > 10000


def _bad(tmp_path, name, **fields):
  path = tmp_path / name
  np.savez(path, **fields)
  return path


@pytest.mark.parametrize("case,message", [
    ("nan", "1 rows hold NaN or Inf (first: row 7)"),
    ("rows", "10 rows; expected 104,960"),
    ("3d", "shape (104960, 2, 2); expected a 2-D array"),
    ("indices outside", "index 5 is not an image of ds_corr"),
    ("indices length", "indices of shape (3,)"),
    ("no codes", "expected 'codes'"),
    ("one column", "codes have 1 dimension(s); the metrics need 2 at least"),
    ("beyond float32", "column 2 spans [0, 1e+300], outside float32's range"),
])
def test_bad_codes_are_one_line_errors_and_nothing_is_written(tmp_path, capsys, case, message):
  data = registry.make_dataset("ds_corr")
  n, kept = len(data.kept_indices), data.kept_indices
  codes = np.zeros((n, 3), np.float32)
  fields = {"nan": dict(codes=np.where(np.arange(n)[:, None] == 7, np.nan, codes)),
            "rows": dict(codes=codes[:10]),
            "3d": dict(codes=np.zeros((n, 2, 2), np.float32)),
            "indices outside": dict(codes=codes[:3], indices=np.array([kept[0], 5, kept[1]])),
            "indices length": dict(codes=codes[:4], indices=kept[:3]),
            "no codes": dict(z=codes),
            "one column": dict(codes=codes[:, :1]),
            "beyond float32": dict(codes=np.where(np.arange(3) == 2,
                                                  np.where(np.arange(n)[:, None] == 9, 1e300, 0.0),
                                                  0.0))}[case]
  assert case != "indices outside" or 5 not in set(kept.tolist())
  path = _bad(tmp_path, "codes.npz", **fields)
  out = tmp_path / "out"
  assert score_cli.main(["--codes", str(path), "--data", "ds_corr", "--output_dir", str(out),
                         "--no_progress"]) == 2
  err = capsys.readouterr().err.strip()
  assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1, err
  assert str(path) in err
  assert not out.exists()


@pytest.mark.parametrize("body,message", [
    ("return images.reshape(len(images), -1)[:, :3].tolist()", "returned list; expected a numpy"),
    ("return np.zeros((len(images), 2, 2), np.float32)", "returned shape (2, 2, 2) for 2 images"),
    ("return np.zeros((len(images) + 1, 3), np.float32)", "returned shape (3, 3) for 2 images"),
    ("return np.full((len(images), 3), np.inf, np.float32)", "returned NaN or Inf codes"),
    ("return np.zeros((len(images), 3), object)", "returned dtype object"),
    ("return np.full((len(images), 3), 1e300)", "(its output): column 0 spans [1e+300, 1e+300]"),
    ("return np.zeros((len(images), 1), np.float32)", "(its output): codes have 1 dimension(s)"),
    ("return {}['weights']", "failed on two images: {f}, line 4: KeyError: 'weights'"),
])
def test_bad_functions_are_one_line_errors_and_nothing_is_written(tmp_path, capsys, body,
                                                                  message):
  (tmp_path / "f.py").write_text(f"import numpy as np\n\ndef encode(images):\n  {body}\n")
  out = tmp_path / "out"
  assert score_cli.main(["--function", f"{tmp_path / 'f.py'}:encode", "--output_dir", str(out),
                         "--no_progress"]) == 2
  err = capsys.readouterr().err.strip()
  message = message.replace("{f}", str(tmp_path / "f.py"))
  assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1, err
  assert "f.py:encode" in err and not out.exists()


@pytest.mark.parametrize("source,message", [
    ("def encode(images):\n  return images[:, 0\n", "{f}, line 2: SyntaxError: "),
    ("import numpy as np\nraise RuntimeError('no weights here')\n",
     "{f}, line 2: RuntimeError: no weights here"),
    ("import no_such_module_here\n", "{f}, line 1: ModuleNotFoundError: No module named"),
])
def test_a_function_file_that_cannot_load_is_one_line_naming_file_and_line(tmp_path, capsys,
                                                                          source, message):
  (tmp_path / "f.py").write_text(source)
  out = tmp_path / "out"
  assert score_cli.main(["--function", f"{tmp_path / 'f.py'}:encode", "--output_dir", str(out),
                         "--no_progress"]) == 2
  err = capsys.readouterr().err.strip()
  assert err.startswith("error: ") and len(err.splitlines()) == 1, err
  assert "failed to load" in err and message.replace("{f}", str(tmp_path / "f.py")) in err, err
  assert not out.exists()


def test_score_refuses_an_output_folder_it_did_not_write(tmp_path, capsys):
  codes = tmp_path / "codes.npz"
  np.savez(codes, codes=np.zeros((3, 2), np.float32), indices=np.arange(3))
  mine = tmp_path / "mine"
  mine.mkdir()
  (mine / "results.json").write_text('{"my": "own results"}')
  (mine / "scores.csv").write_text("mine\n")
  assert score_cli.main(["--codes", str(codes), "--output_dir", str(mine), "--no_progress"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: ") and "holds no score.py output" in err and str(mine) in err
  assert (mine / "results.json").read_text() == '{"my": "own results"}'
  assert (mine / "scores.csv").read_text() == "mine\n" and not (mine / "figures").exists()


def test_udr_closed_cases():
  rng = np.random.default_rng(0)
  z = rng.normal(size=(4000, 8))
  perm, signs = rng.permutation(8), rng.choice([-1.0, 1.0], 8)
  assert udr.pair_score(z, z) == pytest.approx(1.0)
  assert udr.pair_score(z, 3 * z[:, perm] * signs + 1) == pytest.approx(1.0)
  assert udr.pair_score(z, rng.normal(size=(4000, 8))) < 0.05
  assert udr.pair_score(z, z[:, :4]) == pytest.approx((4 + 4) / (8 + 4))  # half the dimensions
  scores, pairs = udr.udr([z, z[:, perm] * signs, rng.normal(size=(4000, 8))])
  assert scores[2] < 0.05 and scores[0] == pytest.approx(0.5, abs=0.03)  # median of 1 and ~0
  # inactive dimensions (rate at its floor) are left out of both models
  mask = udr.active_dimensions(np.r_[np.full(6, 1.0), 0.2757, 0.28], 0.2757)
  assert mask.tolist() == [True] * 6 + [False, False]
  with pytest.raises(ValueError, match="at least 2 models"):
    udr.udr([z])


RUN_FILE = '''import os

from echo_suite import restore

encode = restore(os.environ["SCORED_RUN"])[0].representation_function
'''


@pytest.mark.slow
def test_a_trained_run_scores_the_same_through_api_command_and_disentanglement_lib(
    tmp_path, monkeypatch):
  from echo_suite.commands import train as disentanglement
  run = tmp_path / "run"
  assert disentanglement.main(["--output_dir", str(run), *conftest.TINY, "--steps", "10",
                               "--no_eval"]) == 0
  model, _ = disentanglement.restore(str(run))
  settings = {k: v for k, v in SMALL.items() if k.split(".")[0][5:] in CHEAP}
  api = external.score(model.representation_function, metrics=CHEAP, settings=settings,
                       progress=False)["metrics"]["mean"]
  (tmp_path / "encode_run.py").write_text(RUN_FILE)
  monkeypatch.setenv("SCORED_RUN", str(run))
  assert score_cli.main(["--function", f"{tmp_path / 'encode_run.py'}:encode", "--metrics",
                         *CHEAP, *cli_args(settings), "--output_dir", str(tmp_path / "out"),
                         "--no_progress"]) == 0
  with open(tmp_path / "out" / "results.json") as f:
    cli = json.load(f)["scores"]["metrics"]["mean"]
  data = registry.make_dataset("dsprites")
  table = code_table.CodeTableData(data, np.zeros((0, 0), np.float32), [],
                                   encode=model.representation_function, batch_size=256)
  dlib = {m: direct(m, table, table.representation_function) for m in CHEAP}
  assert api == cli
  _agree(api, dlib, CHEAP)
  assert 0 <= api["mig"]["discrete_mig"] <= 1


def test_a_full_disk_while_scoring_is_one_line_and_leaves_no_partial_output(tmp_path, capsys,
                                                                           monkeypatch):
  import errno
  codes = tmp_path / "codes.npz"
  np.savez(codes, codes=np.random.RandomState(0).randn(737280, 3).astype(np.float32))
  out = tmp_path / "out"
  args = ["--codes", str(codes), "--metrics", "mig", "--gin_param",
          "eval_mig.num_train = 1000", "--no_progress"]
  assert score_cli.main([*args, "--output_dir", str(out)]) == 0  # an earlier scoring
  earlier = (out / "results.json").read_text()
  (out / "figures" / ".tmp-left.png").write_bytes(b"")  # what a killed score.py leaves
  def full(path, obj):
    raise OSError(errno.ENOSPC, "No space left on device", path)
  monkeypatch.setattr(score_cli.atomic_io, "write_json", full)
  capsys.readouterr()
  assert score_cli.main([*args, "--output_dir", str(out)]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: No space left on device: ") and err.count("\n") == 1, err
  assert sorted(os.listdir(out)) == ["results.json"]  # no file that disagrees with it
  assert (out / "results.json").read_text() == earlier
  fresh = tmp_path / "fresh"
  assert score_cli.main([*args, "--output_dir", str(fresh)]) == 2
  assert not fresh.exists()  # the folder this call made is gone


def test_factor_vae_of_a_collapsed_code_is_undefined_not_zero(tmp_path):
  constant = np.zeros((737280, 3), np.float32)  # no dimension varies: no vote can be cast
  block = external.score(constant, metrics=["factor_vae"], progress=False,
                         settings={"eval_factor_vae.num_train": 50,
                                   "eval_factor_vae.num_eval": 50,
                                   "eval_factor_vae.num_variance_estimate": 500})
  values = block["metrics"]["mean"]["factor_vae"]
  assert list(values) == ["error"] and "FactorVAE is undefined" in values["error"]
  assert "In call to configurable" not in values["error"]  # one sentence, no gin trace
  assert "prune_dims_threshold = 0.05" in values["error"]


def test_histogram_metrics_of_a_collapsed_dimension_are_undefined_and_the_others_score():
  # An Echo run on its rate floor (the public f, 5,000 steps: distortion 571, rate 2.756) left
  # code dimensions whose values differ in the last bit: numpy cannot cut them into 20 bins.
  rng = np.random.RandomState(0)
  codes = rng.randn(737280, 3).astype(np.float32)
  x = np.float32(2.7)
  codes[:, 0] = np.where(rng.rand(737280) < 0.5, x, np.nextafter(x, np.float32(3)))
  block = external.score(codes, metrics=["mig", "sap"], progress=False,
                         settings={"eval_mig.num_train": 500, "eval_sap.num_train": 500,
                                   "eval_sap.num_test": 200})
  mig, sap = (block["metrics"]["mean"][m] for m in ("mig", "sap"))
  assert list(mig) == ["error"] and mig["error"].startswith("MIG is undefined: a code "
                                                           "dimension's values lie too close")
  assert "In call to configurable" not in mig["error"]
  assert 0.0 <= sap["SAP_score"] <= 1.0  # a metric without histograms still scores


def test_a_function_is_fingerprinted_by_the_codes_it_returns_not_its_file(tmp_path):
  (tmp_path / "f.py").write_text(
      "import os\nimport numpy as np\n\n"
      "def encode(images):\n"
      "  w = np.load(os.path.join(os.path.dirname(__file__), 'w.npy'))\n"
      "  return images[:, 16:48, 16:48, 0].reshape(len(images), -1)[:, ::16] @ w\n")
  blocks = []
  for seed in (0, 1):  # the same file reading other weights
    np.save(tmp_path / "w.npy", np.random.RandomState(seed).randn(64, 3).astype(np.float32))
    out = tmp_path / f"out{seed}"
    assert score_cli.main(["--function", f"{tmp_path / 'f.py'}:encode", "--metrics", "mig",
                           "--gin_param", "eval_mig.num_train = 200", "--output_dir", str(out),
                           "--no_progress"]) == 0
    with open(out / "results.json") as f:
      blocks.append(json.load(f))
  assert blocks[0]["representation"]["sha256"] == blocks[1]["representation"]["sha256"]
  assert blocks[0]["scores"]["weights"] != blocks[1]["scores"]["weights"]
  assert all(b["scores"]["weights"].startswith("codes:") for b in blocks)


def test_codes_of_one_data_set_are_not_scored_against_another(tmp_path, capsys):
  # A suite code table names its data set: colour codes against dSprites' factors would be
  # silently wrong, so another --data is refused before work; without --data the file's is used.
  path = _bad(tmp_path, "codes.npz", codes=np.zeros((3, 2), np.float32),
              indices=np.arange(3), dataset=np.array("color_dsprites"))
  out = tmp_path / "out"
  for data in ("dsprites", "noisy_dsprites"):
    assert score_cli.main(["--codes", str(path), "--data", data, "--output_dir", str(out),
                           "--no_progress"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: --data {data!r}: the codes in {str(path)!r} are of 'color_dsprites' "
                   "(its 'dataset' field); pass --data color_dsprites or leave --data out\n")
    assert not out.exists()
  assert score_cli.evaluation_set(None, str(path)) == "color_dsprites"
  assert score_cli.evaluation_set("color_dsprites", str(path)) == "color_dsprites"
  plain = _bad(tmp_path, "plain.npz", codes=np.zeros((3, 2), np.float32))
  assert score_cli.evaluation_set(None, str(plain)) == "dsprites"
  assert score_cli.evaluation_set("ds_corr", str(plain)) == "ds_corr"
  assert score_cli.evaluation_set(None, None) == "dsprites"
