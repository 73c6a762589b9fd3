"""Every number tied to the weights, step and settings that made it (the stale-score reproductions;
the aggregate ones are in test_scripts.py): stale scores, --eval_only, early validation, recovery."""
import csv
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from echo_suite.commands import train as disentanglement
from echo_suite import provenance
import conftest


# ds_corr scored on its own kept set with MIG: 104,960 images to encode, seconds per scoring.
TINY = [*conftest.TINY, "--gin_param", "eval_mig.num_train = 2000", "--dataset", "ds_corr"]
SCORE = ["--metrics", "mig", "--eval_on", "kept"]


def run(out, *args):
  return disentanglement.main(["--output_dir", str(out), *TINY, *args])


def results(out):
  with open(os.path.join(out, "results.json")) as f:
    return json.load(f)


def mig(out):
  return results(out)["scores"]["metrics"]["mean"]["mig"]["discrete_mig"]


@pytest.mark.slow  # trains several runs; its classes keep fast tests in test_hostile.py
def test_extending_a_run_rescores_the_new_weights(tmp_path, capsys):
  out = tmp_path / "run"
  assert run(out, "--steps", "20", *SCORE) == 0
  old = results(out)
  assert old["scores"]["step"] == 20 and old["scores"]["weights"] == old["training"]["weights"]
  assert run(out, "--steps", "40", *SCORE) == 0
  new = results(out)
  assert new["training"]["step"] == new["scores"]["step"] == 40
  assert new["scores"]["weights"] == new["training"]["weights"] != old["training"]["weights"]
  assert mig(out) != old["scores"]["metrics"]["mean"]["mig"]["discrete_mig"]
  with open(out / "scores.csv") as f:
    rows = list(csv.DictReader(f))
  assert {r["step"] for r in rows} == {"40"} and {r["weights"] for r in rows} == {
      new["training"]["weights"]}
  # The same scores as a re-score from scratch (codes encoded again by the restored model).
  os.unlink(out / "codes.npz")
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--no_progress"]) == 0
  assert results(out)["scores"] == new["scores"]
  # A third call with nothing to train and current scores recomputes nothing.
  capsys.readouterr()
  assert run(out, "--steps", "40", *SCORE) == 0
  assert "scores are current" in capsys.readouterr().out
  # Asking for fewer steps than trained is refused, not silently answered with the longer run.
  assert run(out, "--steps", "30", *SCORE) == 2
  assert "trained for 40 steps, more than steps=30" in capsys.readouterr().err


@pytest.mark.slow  # trains several runs; its classes keep fast tests in test_hostile.py
def test_no_eval_extension_removes_the_old_scores(tmp_path):
  out = tmp_path / "run"
  assert run(out, "--steps", "20", *SCORE) == 0
  assert os.path.exists(out / "scores.csv") and os.path.isdir(out / "figures")
  assert run(out, "--steps", "30", "--no_eval") == 0
  assert "scores" not in results(out)
  assert not os.path.exists(out / "scores.csv") and not os.path.exists(out / "figures")


@pytest.mark.slow  # trains several runs; its classes keep fast tests in test_hostile.py
def test_eval_only_refuses_model_flags_and_replays_saved_settings(tmp_path, capsys):
  out = tmp_path / "run"
  assert run(out, "--steps", "20", *SCORE, "--gin_param", "eval_mig.num_bins = 10") == 0
  first = results(out)["scores"]
  assert first["settings"]["eval_mig"]["num_bins"] == 10
  capsys.readouterr()
  for bad in (["--model", "vae"], ["--beta", "2"], ["--gin_param", "model.beta = 3.0"],
              ["--steps", "5"]):
    assert disentanglement.main(["--eval_only", "--output_dir", str(out), *bad]) == 2
    err = capsys.readouterr().err
    named = bad[1] if bad[0] == "--gin_param" else bad[0]
    assert "scores the run as it was trained" in err and named in err, err
  assert results(out)["scores"] == first  # nothing was changed by the refused calls
  # No flags: the run's own metric, evaluation set and bin count, so the same numbers.
  os.unlink(out / "codes.npz")
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--no_progress"]) == 0
  assert results(out)["scores"] == first
  # An explicit override is recorded as such.
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--no_progress",
                               "--gin_param", "eval_mig.num_bins = 20"]) == 0
  again = results(out)["scores"]
  assert again["settings"]["eval_mig"]["num_bins"] == 20 and again["metrics"] != first["metrics"]
  # The noisy code z (as the public script scored it): recorded, reproducible, not the mean's.
  sampled = []
  for _ in range(2):
    assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--no_progress",
                                 "--representation", "sample"]) == 0
    sampled.append(results(out)["scores"])
  assert sampled[0]["settings"]["evaluation"]["representation"] == ["sample"]
  assert sampled[0]["metrics"]["sample"] == sampled[1]["metrics"]["sample"]
  assert sampled[0]["metrics"]["sample"] != again["metrics"]["mean"]
  # Both from one code table in one pass: the same numbers as scored one at a time.
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--no_progress",
                               "--representation", "mean", "sample"]) == 0
  both = results(out)["scores"]
  assert both["metrics"] == {"mean": again["metrics"]["mean"],
                             "sample": sampled[0]["metrics"]["sample"]}


@pytest.mark.parametrize("args,message", [
    (["--metrics", "fvae"], "unknown metric(s) ['fvae']"),
    (["--gin_param", "evaluation.eval_on = 'test'"], "unknown evaluation set 'test'"),
    (["--gin_param", "eval_mig.num_bins = nan"], "bad gin configuration"),
    (["--model", "gan"], "unknown model 'gan'"),
    (["--dsprites_npz", "/nonexistent/dsprites.npz"], "/nonexistent/dsprites.npz"),
    (["--gin_param", "train.steps = 0"], "steps=0 must be an integer >= 1"),
])
def test_bad_command_fails_before_any_write(tmp_path, capsys, args, message):
  out = tmp_path / "run"
  assert run(out, "--steps", "5", *args) == 2
  assert message in capsys.readouterr().err
  assert not os.path.exists(out)  # nothing written, so the corrected command is not refused
  assert run(out, "--steps", "5", "--no_eval") == 0


@pytest.mark.parametrize("flag,value,message", [
    ("--steps", "0", "0 must be >= 1"), ("--steps", "-5", "-5 must be >= 1"),
    ("--beta", "nan", "'nan' is not a finite number"),
    ("--gamma", "inf", "'inf' is not a finite number"),
])
def test_steps_and_weights_are_checked_by_name(tmp_path, capsys, flag, value, message):
  with pytest.raises(SystemExit) as e:
    run(tmp_path / "run", flag, value)
  assert e.value.code == 2
  err = capsys.readouterr().err
  assert f"argument {flag}" in err and message in err


def test_output_path_problems_are_one_line_errors(tmp_path, capsys):
  afile = tmp_path / "file"
  afile.write_text("x")
  for out, message in ((afile, "is a file; give a folder"),
                       (afile / "run", f"{str(afile)!r} is not a writable folder"),
                       ("/proc/echo_run", "No such file or directory")):
    assert run(out, "--steps", "5", "--no_eval") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err, err


def test_foreign_directory_is_not_adopted(tmp_path, capsys):
  (tmp_path / "notes.txt").write_text("mine")
  assert run(tmp_path, "--steps", "5", "--no_eval", "--overwrite") == 2
  assert "holds no run of this suite" in capsys.readouterr().err
  assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.slow  # trains several runs; its classes keep fast tests in test_hostile.py
def test_missing_or_truncated_results_are_rebuilt_from_the_checkpoint(tmp_path, capsys):
  out = tmp_path / "run"
  assert run(out, "--steps", "20", "--no_eval") == 0
  good = results(out)
  os.unlink(out / "results.json")  # as if killed after the final checkpoint
  assert run(out, "--steps", "20", *SCORE) == 0
  rebuilt = results(out)
  for key in ("step", "weights", "final_losses_last_100_steps", "rate_per_dim_nats",
              "train_seconds"):
    assert rebuilt["training"][key] == good["training"][key], key
  assert rebuilt["scores"]["step"] == 20 and os.path.exists(out / "figures" / "traversals.png")
  scored = results(out)
  text = (out / "results.json").read_text()
  (out / "results.json").write_text(text[:len(text) // 3])  # truncated
  capsys.readouterr()
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--no_progress"]) == 0
  assert "results.json is unreadable" in capsys.readouterr().out
  assert results(out)["scores"] == scored["scores"]
  assert results(out)["training"]["final_losses_last_100_steps"] == \
      good["training"]["final_losses_last_100_steps"]


def test_stale_reason_and_fingerprint():
  chosen = provenance.EvaluationSettings("full", ("mig",), 0, ("mean",), {"e": {"k": (1,)}})
  recorded = {"evaluation": {"eval_on": "full", "metrics": ["mig"], "seed": 0,
                             "representation": ["mean"]}, "e": {"k": [1]}}
  base = {"training": {"step": 5, "weights": "a"},
          "scores": provenance.seal({"step": 5, "weights": "a", "settings": recorded,
                                     "metrics": {"mean": {"mig": {}}}})}
  assert provenance.stale_reason(base, steps=5, metrics=["mig"], settings=chosen) is None
  other = dataclasses.replace(chosen, seed=1)
  assert provenance.stale_reason(base, settings=other) == "scored with other evaluation settings"
  assert "trained 5 of 6 steps" == provenance.stale_reason(base, steps=6)
  assert "metrics ['sap'] not scored" == provenance.stale_reason(base, metrics=["mig", "sap"])
  assert provenance.stale_reason({**base, "scores": {**base["scores"], "weights": "b"}})
  both = {**base, "scores": {**base["scores"], "metrics": {"mean": {"mig": {}, "sap": {}},
                                                           "sample": {"mig": {}}}}}
  assert "metrics ['sap'] not scored" == provenance.stale_reason(both, metrics=["sap"])
  older = {**base, "scores": {**base["scores"], "metrics": {"mig": {"discrete_mig": 0.1}}}}
  assert "older format" in provenance.stale_reason(older)
  a = [np.arange(6, dtype=np.float32)]
  assert provenance.fingerprint(a) == provenance.fingerprint([a[0].copy()])
  assert provenance.fingerprint(a) != provenance.fingerprint([a[0].reshape(2, 3)])
  assert provenance.fingerprint(a) != provenance.fingerprint([a[0] + 1e-7 * (a[0] == 5)])


@pytest.mark.parametrize("value,kwargs,message", [
    (float("nan"), {}, "x=nan must be a finite number"),
    (float("-inf"), {}, "x=-inf must be a finite number"),
    (True, {}, "x=True must be a finite number"),
    ("1", {}, "x='1' must be a finite number"),
    (-0.5, {"minimum": 0}, "x=-0.5 must be >= 0"),
    (0.0, {"minimum": 0, "strict": True}, "x=0.0 must be > 0"),
])
def test_check_number_refuses_with_one_wording(value, kwargs, message):
  from echo_suite import checks
  with pytest.raises(ValueError) as e:
    checks.check_number("x", value, **kwargs)
  assert str(e.value) == message


def test_check_number_returns_accepted_values_and_the_registry_needs_no_tensorflow():
  from echo_suite import checks
  assert checks.check_number("x", 0, minimum=0) == 0
  assert checks.check_number("x", 2.5, minimum=0, strict=True) == 2.5
  code = ("import sys; from echo_suite.models import registry; registry.get('vae').check_weights(1.0, 0.0); "
          "sys.exit('tensorflow' in sys.modules or 'gin' in sys.modules)")
  assert subprocess.run([sys.executable, "-c", code], cwd=conftest.ROOT).returncode == 0
