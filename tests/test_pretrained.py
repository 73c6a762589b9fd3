"""Shipped models (pretrained/, commands/pretrained.py): packed from a run, rescored without
training, their weights checked against the fingerprint they were scored with."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import TINY
from echo_suite import ROOT, provenance, rundir
from echo_suite.commands import pretrained

SCRIPT = os.path.join(ROOT, "scripts", "pretrained.py")
CHEAP_BINDINGS = ("eval_factor_vae.num_train = 100", "eval_factor_vae.num_eval = 50",
                  "eval_mig.num_train = 1000")
CHEAP = [w for b in CHEAP_BINDINGS for w in ("--gin_param", b)]


def run_cli(*argv, cwd=None):
  return subprocess.run([sys.executable, SCRIPT, *argv], capture_output=True, text=True,
                        cwd=cwd or ROOT)


def scores_within(recorded, now, count=4, tolerance=pretrained.TOLERANCE):
  """Every headline score of `now` within `tolerance` of `recorded`'s; `count` of them at least
  (two metrics, two codes; a tiny run's code may be too collapsed for FactorVAE's votes)."""
  before, after = pretrained.headline_scores(recorded), pretrained.headline_scores(now)
  assert set(before) == set(after) and len(before) >= count
  for key in before:
    assert after[key] == pytest.approx(before[key], abs=tolerance), key


def snapshot(folder):
  """{relative path: (mtime_ns, bytes)} of every file below `folder`."""
  out = {}
  for base, _, files in os.walk(folder):
    for f in files:
      path = os.path.join(base, f)
      with open(path, "rb") as handle:
        out[os.path.relpath(path, folder)] = (os.stat(path).st_mtime_ns, handle.read())
  return out


@pytest.fixture(scope="module", autouse=True)
def cheap_quick_settings():
  """In this file's own runs (not the CLI's), --quick means settings cheaper than the demo's:
  the tiny runs test the plumbing, not the scores."""
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(pretrained, "quick_bindings", lambda: CHEAP_BINDINGS)
    yield


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
  """A tiny scored run, shipped into a folder of its own: (shipped_dir, name, run_dir)."""
  base = tmp_path_factory.mktemp("pretrained")
  run_dir = base / "tiny"
  subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"), *TINY, "--steps",
                  "40", "--output_dir", str(run_dir), "--representation", "mean", "sample",
                  *CHEAP], check=True, capture_output=True, cwd=ROOT)
  shipped = base / "shipped"
  name = pretrained.pack(str(run_dir), shipped_dir=str(shipped), progress=False)
  return shipped, name, run_dir


def test_pack_ships_the_run_with_its_quick_scores_and_indexes_it(packed):
  shipped, name, run_dir = packed
  assert name == "tiny_40steps"
  assert sorted(os.listdir(shipped / name)) == sorted(
      pretrained.SHIPPED_FILES + pretrained.OPTIONAL_FILES)
  results = json.loads((run_dir / rundir.RESULTS_FILE).read_text())
  weights = results["training"]["weights"]
  quick = json.loads((shipped / name / pretrained.QUICK_SCORES_FILE).read_text())
  assert quick["weights"] == weights and quick["step"] == 40
  assert quick["settings"]["eval_factor_vae"]["num_eval"] == 50  # --quick's, not the run's
  index = (shipped / pretrained.INDEX_FILE).read_text()
  assert index == pretrained.index_text(str(shipped))
  row = [line for line in index.splitlines() if line.startswith(f"| {name} |")]
  assert len(row) == 1 and f"| 40 | {weights} |" in row[0]
  # runs.md names the shipped run by its folder, budget and weights.
  assert pretrained.shipped_as("tiny", 40, weights, str(shipped)) == name
  assert pretrained.shipped_as("tiny", 40, "0" * 16, str(shipped)) is None
  assert pretrained.shipped_as("tiny", 30000, weights, str(shipped)) is None
  # Packing it again changes nothing; another run under the same name is refused.
  assert pretrained.pack(str(run_dir), shipped_dir=str(shipped), progress=False) == name
  other = json.loads((run_dir / rundir.RESULTS_FILE).read_text())
  other["training"]["weights"] = other["scores"]["weights"] = "0" * 16
  other["scores"] = provenance.seal(other["scores"])  # as scored: sealed with its digest
  elsewhere = run_dir.parent / "elsewhere" / "tiny"
  shutil.copytree(run_dir, elsewhere)
  (elsewhere / rundir.RESULTS_FILE).write_text(json.dumps(other))
  with pytest.raises(ValueError, match=f"ships weights {weights}, not this run's 0{{16}}; remove "
                                       "it first"):
    pretrained.pack(str(elsewhere), shipped_dir=str(shipped), progress=False)
  other["scores"] = provenance.seal({**other["scores"], "weights": weights})  # of other weights
  (elsewhere / rundir.RESULTS_FILE).write_text(json.dumps(other))
  with pytest.raises(ValueError, match="cannot be shipped: scores are of step 40"):
    pretrained.pack(str(elsewhere), shipped_dir=str(shipped), progress=False)
  assert [n for n in os.listdir(shipped) if n.startswith(".")] == []  # no pack left behind


def test_rescore_scores_the_shipped_weights_and_draws_them(packed, tmp_path):
  shipped, name, _ = packed
  out = tmp_path / "rescored"
  code, output_dir, recorded, now = pretrained.rescore(
      name, str(out), quick=True, progress=False, shipped_dir=str(shipped))
  assert code == 0 and output_dir == str(out)
  assert not (out / rundir.CHECKPOINTS_DIR).exists()  # scored from the weight files alone
  assert now["scores"]["weights"] == recorded["weights"] == now["training"]["weights"]
  scores_within(recorded, now["scores"], count=2)
  lines, off = pretrained.compare(recorded, now["scores"])
  assert off == [] and len(lines) == 1 + len(pretrained.headline_scores(recorded))
  assert lines[0].startswith(f"weights {recorded['weights']} at step 40, scored on dsprites")
  for figure in ("traversals.png", "factor_response.png", "training_curves.png"):
    assert (out / rundir.FIGURES_DIR / figure).stat().st_size > 1000, figure
  # A second rescore into the same folder uses it as it is; a copy cut by a kill is completed.
  (out / rundir.WEIGHTS_FILES["decoder"]).unlink()
  again = pretrained.rescore(name, str(out), quick=True, progress=False, shipped_dir=str(shipped))
  assert again[0] == 0 and again[3]["scores"]["weights"] == recorded["weights"]
  # The same settings with other weights (a run trained here, an older copy of a model shipped
  # again) are refused before any work, and the folder is left as it was.
  results = json.loads((out / rundir.RESULTS_FILE).read_text())
  results["training"]["weights"] = "f" * 16
  (out / rundir.RESULTS_FILE).write_text(json.dumps(results))
  with pytest.raises(ValueError, match="holds weights f{16} \\(step 40\\), not the shipped"):
    pretrained.rescore(name, str(out), quick=True, progress=False, shipped_dir=str(shipped))
  assert json.loads((out / rundir.RESULTS_FILE).read_text()) == results
  # Scores of other settings are not compared with the quick ones.
  lines, off = pretrained.compare(recorded, {**now["scores"], "settings": {}})
  assert off == [] and lines == ["recorded scores are of other evaluation settings: nothing to "
                                 "compare"]
  # A difference beyond the tolerance is named.
  moved = json.loads(json.dumps(now["scores"]))
  moved["metrics"]["mean"]["mig"]["discrete_mig"] += 0.05
  assert pretrained.compare(recorded, moved)[1] == [("mean", "mig")]


def test_weights_other_than_the_recorded_fingerprint_are_refused(packed, tmp_path):
  shipped, name, _ = packed
  forged = tmp_path / "shipped"
  shutil.copytree(shipped, forged)
  results = json.loads((forged / name / rundir.RESULTS_FILE).read_text())
  results["training"]["weights"] = results["scores"]["weights"] = "0123456789abcdef"
  (forged / name / rundir.RESULTS_FILE).write_text(json.dumps(results))
  code, *_ = pretrained.rescore(name, str(tmp_path / "out"), quick=True, progress=False,
                                shipped_dir=str(forged))
  assert code == 2
  assert not (tmp_path / "out" / rundir.CODES_FILE).exists()
  assert not (tmp_path / "out" / rundir.FIGURES_DIR).exists()


def test_bad_names_and_folders_are_one_error_line_before_any_write(tmp_path):
  out = tmp_path / "out"
  bad = run_cli("rescore", "no_such_model", "--output_dir", str(out))
  assert bad.returncode == 2 and bad.stdout == "" and not out.exists()
  assert bad.stderr.startswith("error: no shipped model 'no_such_model'; shipped: [")
  assert len(bad.stderr.splitlines()) == 1
  busy = tmp_path / "busy"
  busy.mkdir()
  (busy / "notes.txt").write_text("mine\n")
  name = pretrained.shipped_names()[0]
  taken = run_cli("rescore", name, "--output_dir", str(busy))
  assert taken.returncode == 2 and "is not empty and holds no run of this suite" in taken.stderr
  assert os.listdir(busy) == ["notes.txt"]
  typo = run_cli("rescore", name, "--metrics", "mgi", "--output_dir", str(out))
  assert typo.returncode == 2 and "mgi" in typo.stderr and not out.exists()
  for binding in ("model.beta = 4", "eval_mig.no_such_setting = 1"):  # checked before the copy
    wrong = run_cli("rescore", name, "--gin_param", binding, "--output_dir", str(out))
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: ") and not out.exists()
    assert binding.split(" =")[0].split(".")[-1] in wrong.stderr
  for where in (str(busy / "notes.txt"), "."):  # a file; the repository itself
    refused = run_cli("rescore", name, "--output_dir", where)
    assert refused.returncode == 2 and refused.stderr.startswith("error: --output_dir ")
    assert len(refused.stderr.splitlines()) == 1
  unfinished = run_cli("pack", str(tmp_path))
  assert unfinished.returncode == 2 and "is not a finished run" in unfinished.stderr


def test_the_index_is_generated_from_the_shipped_models():
  with open(os.path.join(pretrained.PRETRAINED_DIR, pretrained.INDEX_FILE)) as f:
    assert f.read() == pretrained.index_text()


def test_a_shipped_model_rescores_on_a_fresh_clone_with_one_command(tmp_path):
  """The first shipped model, scored at the demo's settings: its weights are the fingerprint it
  ships with, and every score is within 0.01 of the one recorded when it was packed (another
  kind of CPU differs in the last bits)."""
  names = pretrained.shipped_names()
  assert names, "nothing is shipped in pretrained/"
  name = names[0]
  source = os.path.join(pretrained.PRETRAINED_DIR, name)
  out = tmp_path / "rescored"
  before = snapshot(pretrained.PRETRAINED_DIR)
  done = run_cli("rescore", name, "--quick", "--output_dir", str(out), "--no_progress")
  assert done.returncode == 0, done.stderr[-2000:]
  shipped = json.loads(open(os.path.join(source, rundir.RESULTS_FILE)).read())
  now = json.loads((out / rundir.RESULTS_FILE).read_text())
  assert now["training"]["weights"] == shipped["training"]["weights"] == now["scores"]["weights"]
  assert now["training"]["step"] == 30000
  recorded = json.loads(open(os.path.join(source, pretrained.QUICK_SCORES_FILE)).read())
  assert recorded["settings"] == now["scores"]["settings"]  # the demo's, both
  assert recorded["settings"]["eval_factor_vae"]["num_eval"] == 500
  scores_within(recorded, now["scores"])
  assert "recorded" in done.stdout and (out / rundir.FIGURES_DIR / "traversals.png").exists()
  assert snapshot(pretrained.PRETRAINED_DIR) == before  # the clone is not written


def test_a_run_without_checkpoints_needs_whole_weight_files_and_results(packed, tmp_path):
  from echo_suite import restore
  shipped, name, _ = packed
  bare = tmp_path / "bare"
  shutil.copytree(shipped / name, bare)
  model, results = restore(str(bare))  # from the weight files alone
  assert model.weights_fingerprint() == results["training"]["weights"]
  encoder = bare / rundir.WEIGHTS_FILES["encoder"]
  encoder.write_bytes(encoder.read_bytes()[:5000])  # cut, as by a full disk
  with pytest.raises(RuntimeError, match="its weight files do not load into the run's model"):
    restore(str(bare))
  encoder.unlink()
  with pytest.raises(RuntimeError, match="holds no trained checkpoint"):
    restore(str(bare))


def test_an_incomplete_shipped_model_is_named_with_what_it_lacks(packed, tmp_path):
  shipped, name, _ = packed
  broken = tmp_path / "shipped"
  shutil.copytree(shipped, broken)
  (broken / name / pretrained.QUICK_SCORES_FILE).unlink()
  assert pretrained.shipped_names(str(broken)) == []
  with pytest.raises(ValueError, match=f"shipped model '{name}' is incomplete: .* lacks "
                                       "\\['quick_scores.json'\\]"):
    pretrained.rescore(name, str(tmp_path / "out"), shipped_dir=str(broken))
  with pytest.raises(ValueError, match="no shipped model '../x'"):
    pretrained.shipped_path("../x", str(broken))
