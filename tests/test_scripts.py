"""Scoring at the end of a run, --eval_only, sweep.py and aggregate.py."""
import csv
import json
import os
import shlex
import subprocess
import sys

import gin
import numpy as np
import pytest
from PIL import Image

from echo_suite.commands import train as disentanglement
import conftest
from echo_suite import provenance
from echo_suite import rundir
from conftest import ROOT

from echo_suite.commands import aggregate
from echo_suite.commands import sweep

FAST_EVAL = ["--gin_param", "eval_factor_vae.num_train = 200",
             "--gin_param", "eval_factor_vae.num_eval = 100",
             "--gin_param", "eval_factor_vae.num_variance_estimate = 2000",
             "--gin_param", "eval_mig.num_train = 2000"]
TINY = conftest.TINY


def _png_ok(path):
  with Image.open(path) as im:
    return im.format in ("PNG", "GIF") and min(im.size) >= 100


@pytest.mark.slow  # 12 s; test_training runs, scores and resumes a run in the fast tier
def test_run_ends_with_scores_and_figures_and_rescoring_reuses_codes(tmp_path, capsys):
  out = tmp_path / "run"
  assert disentanglement.main(["--output_dir", str(out), "--dataset", "ds_corr", "--steps", "30",
                               *TINY, *FAST_EVAL]) == 0
  with open(out / "results.json") as f:
    results = json.load(f)
  block = results["scores"]
  s = block["metrics"]["mean"]
  assert (block["eval_on"], block["num_images"]) == ("dsprites", 737280)  # full dSprites
  assert (block["step"], block["weights"]) == (30, results["training"]["weights"])
  assert block["settings"]["eval_factor_vae"]["num_train"] == 200
  fvae = s["factor_vae"]  # a 30-step code may have no active dimension: then 'undefined'
  assert "FactorVAE is undefined" in fvae["error"] if "error" in fvae else \
      0.0 <= fvae["eval_accuracy"] <= 1.0
  assert 0.0 <= s["mig"]["discrete_mig"] <= 1.0
  with open(out / "scores.csv") as f:
    rows = list(csv.reader(f))
  assert rows[0] == ["representation", "metric", "score", "value", "step", "weights", "eval_on",
                     "seed"]
  assert ["mean", "mig", "discrete_mig", str(s["mig"]["discrete_mig"]), "30", block["weights"],
          "dsprites", "0"] in rows
  figures = sorted(os.listdir(out / "figures"))
  assert figures == ["factor_response.png", "rate_per_dim.png", "reconstructions.png",
                     "training_curves.png", "traversals.gif", "traversals.png"]
  assert all(_png_ok(out / "figures" / f) for f in figures)
  with Image.open(out / "figures" / "traversals.gif") as gif:
    assert gif.n_frames == 16  # 9 columns forth, 7 back
  # Re-score with another metric: reads codes.npz (its codes are kept, not encoded again), adds
  # the images the new metric draws, keeps the training results.
  before = np.load(out / "codes.npz")
  capsys.readouterr()
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--metrics", "mig", "sap",
                               "--no_progress", *FAST_EVAL[-2:],
                               "--gin_param", "eval_sap.num_train = 1000",
                               "--gin_param", "eval_sap.num_test = 500"]) == 0
  assert "SAP_score" in capsys.readouterr().out
  after = np.load(out / "codes.npz")
  held = np.isin(after["indices"], before["indices"])
  assert held.sum() == len(before["indices"]) <= len(after["indices"])
  np.testing.assert_array_equal(after["codes"][held], before["codes"])  # read, not re-encoded
  with open(out / "results.json") as f:
    again = json.load(f)
  assert set(again["scores"]["metrics"]["mean"]) == {"mig", "sap"}
  assert again["scores"]["metrics"]["mean"]["mig"] == s["mig"]
  assert again["training"] == results["training"]


def test_eval_only_on_a_directory_without_a_run(tmp_path, capsys):
  assert disentanglement.main(["--eval_only", "--output_dir", str(tmp_path)]) == 2
  assert "holds no finished run" in capsys.readouterr().err


def _args(runs_dir, *extra):
  return ["--models", "echo", "vae", "--datasets", "dsprites", "ds_corr", "--betas", "1", "2",
          "4", "--gammas", "0", "10", "20", "--seeds", "0-1", "--steps", "5",
          "--runs_dir", str(runs_dir), *extra]


def _results(steps, weights="w", scored_step=None, settings=None, metrics=("factor_vae", "mig")):
  """A results.json dict: trained `steps`, scored at `scored_step` (None: not scored)."""
  r = {"dataset": "dsprites", "model": "echo", "beta": 1.0, "gamma": 0.0,
       "training": {"step": steps, "weights": weights}}
  if scored_step is not None:
    r["scores"] = provenance.seal({"step": scored_step, "weights": weights, "settings": settings,
                                   "metrics": {m: {} for m in metrics}})
  return r


def test_sweep_plan_paper_grid_and_skip_done(tmp_path, capsys):
  assert sweep.parse_seeds(["0-2", "5", "7,8"]) == [0, 1, 2, 5, 7, 8]
  assert sweep.settings([1, 2, 4], [0, 10, 20], "paper") == [
      (1.0, 0.0), (2.0, 0.0), (4.0, 0.0), (1.0, 10.0), (1.0, 20.0)]
  assert len(sweep.settings([1, 2, 4], [0, 10, 20], "product")) == 9
  _, requested = sweep.requested(sweep.parse_args(_args(tmp_path))[0])
  chosen = requested.as_gin()
  cases = {"dsprites_echo_b1_g0_s0": _results(5, scored_step=5, settings=chosen),  # done
           "dsprites_echo_b2_g0_s0": _results(5),  # trained, never scored
           "dsprites_echo_b4_g0_s0": _results(3, scored_step=3, settings=chosen),  # short run
           "dsprites_vae_b1_g0_s0": _results(5, scored_step=3, settings=chosen),  # stale scores
           "dsprites_vae_b2_g0_s0": _results(5, scored_step=5, settings={})}  # other settings
  for name, r in cases.items():
    (tmp_path / name).mkdir()
    (tmp_path / name / "results.json").write_text(json.dumps(r))
  (tmp_path / "dsprites_vae_b4_g0_s0").mkdir()
  (tmp_path / "dsprites_vae_b4_g0_s0" / "results.json").write_text('{"training": {"st')  # cut
  (tmp_path / "dsprites_echo_b1_g10_s0").mkdir()
  (tmp_path / "dsprites_echo_b1_g10_s0" / rundir.HISTORY_FILE).write_text('{"step": 4}\n')
  assert sweep.main(_args(tmp_path, "--status")) == 0
  status = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines()[1:])
  assert len(status) == 40 and status["dsprites_echo_b1_g0_s0"] == "done"
  assert status["dsprites_echo_b2_g0_s0"] == "trained; not scored"
  assert status["dsprites_echo_b4_g0_s0"] == "at step 3 of 5"  # from results.json
  assert status["dsprites_echo_b1_g10_s0"] == "at step 4 of 5"  # from the history
  assert status["dsprites_vae_b1_g0_s0"].startswith("trained; scores are of step 3")
  assert status["dsprites_vae_b2_g0_s0"] == "trained; scored with other evaluation settings"
  assert status["dsprites_vae_b4_g0_s0"] == "not started"  # a cut results.json counts for nothing
  assert sweep.main(_args(tmp_path, "--dry_run")) == 0
  out = capsys.readouterr().out
  assert "40 runs, 1 done, 39 to run" in out
  assert "dsprites_echo_b1_g0_s0" not in out and "--output_dir" in out
  assert sweep.main(_args(tmp_path, "--slurm", "--no_submit")) == 0
  script = (tmp_path / "sweep.sbatch").read_text()
  assert "#SBATCH --array=0-38\n" in script  # every task runnable at once
  assert "#SBATCH --requeue" in script and "#SBATCH --signal=B:USR1@300" in script
  assert "--partition" not in script and "--gres" not in script
  commands = (tmp_path / "sweep_commands.txt").read_text().splitlines()
  assert len(commands) == 39 and all(f"--output_dir {tmp_path}/" in c for c in commands)


def test_slurm_script_options_and_loud_failures(tmp_path, monkeypatch, capsys):
  runs = tmp_path / "runs dir"  # a space: every path must be quoted
  monkeypatch.chdir(tmp_path)
  assert sweep.main(_args("runs dir", "--slurm", "--no_submit", "--max_parallel", "4",
                          "--partition", "gpu", "--account", "lab", "--gpus", "1",
                          "--cpus", "8", "--mem", "32G", "--time", "12:00:00")) == 0
  script = (runs / "sweep.sbatch").read_text()
  for line in ("--array=0-39%4", "--partition=gpu", "--account=lab", "--gres=gpu:1",
               "--cpus-per-task=8", "--mem=32G", "--time=12:00:00",
               f"--output='{runs}/logs/slurm-%A_%a.out'"):
    assert f"#SBATCH {line}\n" in script, line
  assert f"commands='{runs}/sweep_commands.txt'" in script  # absolute, from a relative --runs_dir
  # A task whose command line is missing fails loudly instead of doing nothing.
  out = subprocess.run(["bash", str(runs / "sweep.sbatch")], capture_output=True, text=True,
                       env={**os.environ, "SLURM_ARRAY_TASK_ID": "99"}, cwd="/")
  assert out.returncode == 2 and "no command for array task 99" in out.stderr
  # Nothing to run: no script, no empty array.
  one = ["--slurm", "--no_submit", "--seeds", "0", "--models", "echo", "--datasets", "dsprites",
         "--betas", "1", "--gammas", "0", "--no_eval"]
  done = tmp_path / "done" / "dsprites_echo_b1_g0_s0"
  done.mkdir(parents=True)
  (done / "results.json").write_text(json.dumps(_results(5)))
  capsys.readouterr()
  assert sweep.main(_args(tmp_path / "done", *one)) == 0
  assert "1 run, 1 done, 0 to run" in capsys.readouterr().out
  assert not (tmp_path / "done" / "sweep.sbatch").exists()


def test_local_sweep_counts_steps_of_every_run(tmp_path, capsys, monkeypatch):
  import argparse
  # steps_done: the last complete history line; nothing yet is 0.
  run = tmp_path / "r"
  assert rundir.steps_done(str(run)) == 0
  run.mkdir()
  (run / rundir.HISTORY_FILE).write_text('{"step": 100}\n{"step": 200}\n{"step": 3')
  assert rundir.steps_done(str(run)) == 200
  # A sweep of two stand-in trainers (one resumed at 200 of 500 steps) writing their history.
  trainer = ("import json, os, sys, time; d = sys.argv[1]; os.makedirs(d, exist_ok=True)\n"
             "for step in (300, 400, 500):\n"
             "  with open(os.path.join(d, 'history.jsonl'), 'a') as f:\n"
             "    f.write(json.dumps({'step': step}) + '\\n')\n"
             "  time.sleep(0.2)\n")
  todo = [{"dir": str(d), "cmd": [sys.executable, "-c", trainer, str(d)]}
          for d in (run, tmp_path / "fresh")]
  monkeypatch.setattr(sweep, "PROGRESS_EVERY_S", 0.1)
  args = argparse.Namespace(jobs=1, threads=1, steps=500)
  capsys.readouterr()
  assert sweep.run_local(todo, args) == 0
  err = capsys.readouterr().err
  assert "200/1000" in err and "1000/1000" in err, err  # from where the runs are to the end
  assert "runs 2/2" in err and "step/s" in err  # runs finished in the postfix


def test_sweep_rejects_unknown_model():
  out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sweep.py"), "--models",
                        "gan", "--dry_run"], capture_output=True, text=True)
  assert out.returncode == 2 and "unknown model(s) ['gan']" in out.stderr


def _fake_settings(representation="mean"):
  """The EvaluationSettings _fake_run records."""
  return provenance.EvaluationSettings("full", ("factor_vae", "mig"), 0, (representation,), {})


def _fake_run(root, dataset, model, beta, gamma, seed, fvae, mig, steps=5, scored_step=None,
              sigma=None, config="", representation="mean", eval_on="dsprites", departures=None,
              extra=None, data=None):
  d = root / rundir.run_name(dataset, model, beta, gamma, seed, sigma)
  d.mkdir(parents=True)
  if sigma is not None:
    config += f"\nds_pairs.sigma = {sigma!r}\n"
  results = {
      "dataset": dataset, "model": model, "beta": beta, "gamma": gamma, "seed": seed,
      "config": config,
      "training": {"step": steps, "weights": "w", "final_losses_last_100_steps": {
          "rate": 10 / beta, "distortion": 50 + 10 * beta},
          "rate_per_dim_nats": [1.0] * 4 + [0.0], "min_rate_per_dim_nats": 0.0},
      "scores": {"step": scored_step or steps, "weights": "w", "metrics": {representation: {
          "factor_vae": {"eval_accuracy": fvae}, "mig": {"discrete_mig": mig}, **(extra or {})}},
          "eval_on": eval_on, "seed": 0, "departures_from_paper": departures or {},
          "settings": _fake_settings(representation).as_gin()}}
  results["scores"] = provenance.seal(results["scores"])
  if data is not None:
    results["data"] = data
  (d / "results.json").write_text(json.dumps(results))
  return d


def test_a_score_edited_by_hand_is_refused_by_every_reader_naming_the_run(tmp_path, capsys):
  runs = tmp_path / "runs"
  for seed in (0, 1):
    _fake_run(runs, "dsprites", "echo", 1.0, 0.0, seed, 0.6, 0.1)
  edited = runs / rundir.run_name("dsprites", "echo", 1.0, 0.0, 1)
  text = (edited / "results.json").read_text()
  (edited / "results.json").write_text(text.replace('"discrete_mig": 0.1',
                                                    '"discrete_mig": 0.987654'))
  loaded, skipped = aggregate.load_runs(str(runs))
  assert [r["seed"] for r in loaded] == [0]
  assert skipped == [(str(edited), "scores differ from the digest written with them (edited "
                                   "after scoring?)")]
  settings = _fake_settings()
  assert sweep.run_status(str(edited), 5, settings).startswith("trained; scores differ")
  assert sweep.run_status(str(runs / rundir.run_name("dsprites", "echo", 1.0, 0.0, 0)), 5,
                          settings) == "done"
  unsealed = json.loads(text)
  del unsealed["scores"]["digest"]
  assert "no digest" in provenance.stale_reason(unsealed)


def test_aggregate_says_what_is_wrong_in_one_line(tmp_path, capsys):
  runs = tmp_path / "runs"
  _fake_run(runs, "dsprites", "echo", 1.0, 0.0, 0, 0.6, 0.1)
  for args, message in ((["--udr"], "--udr: no setting has two seeds or more"),
                        ([], None)):
    if message is None:  # a missing folder is named as missing
      args, message = [], f"runs_dir {str(tmp_path / 'nope')!r} does not exist"
      target = str(tmp_path / "nope")
    else:
      target = str(runs)
    with pytest.raises(SystemExit) as stop:
      aggregate.main([target, *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err == f"error: {message}" + err[len(f"error: {message}"):]
    assert err.count("\n") == 1 and "usage" not in err, err
  assert sorted(os.listdir(runs)) == [rundir.run_name("dsprites", "echo", 1.0, 0.0, 0)]


def test_a_huge_sweep_needs_yes_and_says_its_cost(tmp_path, capsys):
  base = ["--models", "vae", "--datasets", "dsprites", "--steps", "5", "--runs_dir",
          str(tmp_path / "sweep")]
  with pytest.raises(SystemExit) as stop:
    sweep.parse_args([*base, "--seeds", "0-100000"])
  err = capsys.readouterr().err
  assert stop.value.code == 2 and err.startswith("error: 100,001 runs planned (500,005 "), err
  assert "needs --yes" in err and err.count("\n") == 1
  args, _ = sweep.parse_args([*base, "--seeds", "0-100000", "--yes"])
  assert args.run_count == 100001
  args, _ = sweep.parse_args([*base, "--seeds", "0-999"])  # 1,000 runs: no --yes needed
  assert args.run_count == 1000 and not (tmp_path / "sweep").exists()


def test_aggregate_scores_against_factor_dependence(tmp_path):
  runs = tmp_path / "runs"
  for seed in (0, 1):
    for model, gamma in (("echo", 0.0), ("beta_tcvae", 5.0)):
      _fake_run(runs, "dsprites", model, 1.0, gamma, seed, fvae=0.8, mig=0.3 + 0.1 * seed)
      _fake_run(runs, "ds_corr", model, 1.0, gamma, seed, fvae=0.6, mig=0.2)
      for sigma in (0.2, 0.05):
        _fake_run(runs, "ds_pairs", model, 1.0, gamma, seed, fvae=0.7, mig=sigma, sigma=sigma)
    # Echo with the stretched f, and Echo scored on sampled codes: rows of their own.
    _fake_run(runs / "stretched", "dsprites", "echo", 1.0, 0.0, seed, fvae=0.1, mig=0.0,
              config="model.f_param = 'stretched'\n")
    _fake_run(runs / "sample", "dsprites", "echo", 1.0, 0.0, seed, fvae=0.2, mig=0.0,
              representation="sample")
  assert aggregate.main([str(runs), "--out", str(tmp_path / "agg")]) == 0
  md = (tmp_path / "agg" / "models.md").read_text()
  header = next(line for line in md.splitlines() if line.startswith("| model |"))
  # Columns ordered by the exact TC of the training factors, recomputed from the settings.
  assert ("FactorVAE on dsprites (TC 0.00) | FactorVAE on ds_pairs σ=0.2 (TC 0.45) | "
          "FactorVAE on ds_corr (TC 1.49) | FactorVAE on ds_pairs σ=0.05 (TC 1.66)") in header
  rows = {line.split(" | ")[0][2:]: line for line in md.splitlines()[4:8]}
  assert sorted(rows) == ["beta_tcvae (beta 1, gamma 5)", "echo (beta 1, gamma 0)",
                          "echo (stretched f) (beta 1, gamma 0)",
                          "echo [sample] (beta 1, gamma 0)"]
  echo = rows["echo (beta 1, gamma 0)"].split(" | ")
  assert echo[1] == "0.80 ± 0.00 (n=2) [0.83]"  # the paper's row 1 beside the public f only
  assert "0.35 ± 0.07 (n=2) [0.16]" in echo  # MIG on dsprites
  assert "[" not in rows["echo (stretched f) (beta 1, gamma 0)"]
  assert "0.20 ± 0.00 (n=2) [0.83]" in rows["echo [sample] (beta 1, gamma 0)"]
  assert "0.10 ± 0.00 (n=2)" in rows["echo (stretched f) (beta 1, gamma 0)"]
  # Table 2 keeps to the paper's models: public-f Echo on mean codes.
  table2 = (tmp_path / "agg" / "table2.md").read_text()
  assert "0.80 ± 0.00 (n=2) [0.83]" in table2 and "0.10" not in table2.split("The paper")[0]
  with open(tmp_path / "agg" / "models.csv") as f:
    rows = list(csv.DictReader(f))
  row = next(r for r in rows if r["model"] == "beta_tcvae (beta 1, gamma 5)"
             and r["data"] == "ds_pairs σ=0.05" and r["metric"] == "MIG")
  assert float(row["factor_tc_nats"]) == pytest.approx(1.656, abs=1e-3)
  assert float(row["mean"]) == pytest.approx(0.05) and row["n"] == "2"
  assert _png_ok(tmp_path / "agg" / "score_vs_tc.png")


def test_aggregate_table2_layout_with_paper_numbers(tmp_path):
  runs = tmp_path / "runs"
  for dataset in ("dsprites", "ds_corr"):
    for model in ("echo", "vae"):
      for beta, gamma in sweep.settings([1, 2, 4], [0, 10, 20, 40], "paper"):
        for seed in (0, 1):
          _fake_run(runs, dataset, model, beta, gamma, seed, fvae=0.5 + 0.1 * seed,
                    mig=0.1 * beta + 0.001 * gamma)
  assert aggregate.main([str(runs), "--out", str(tmp_path / "agg")]) == 0
  md = (tmp_path / "agg" / "table2.md").read_text().splitlines()
  assert md[0] == "Step budget: 5 steps per run; 48 runs."
  assert md[2].startswith("| setting | dsprites FactorVAE echo | dsprites FactorVAE vae |")
  body = [line for line in md[4:11]]
  assert [line.split(" | ")[0] for line in body] == [
      "| beta=1, gamma=0", "| beta=2, gamma=0", "| beta=4, gamma=0", "| gamma=0, beta=1",
      "| gamma=10, beta=1", "| gamma=20, beta=1", "| gamma=40, beta=1"]
  assert "0.55 ± 0.07 (n=2) [0.83]" in body[0]  # paper's row 1, FactorVAE Echo on dSprites
  assert "[0.83]" in body[3]  # gamma=0, beta=1 is the same setting
  for row in (body[1], body[2], *body[4:7]):  # settings the paper does not state: no number
    assert "[" not in row, row
  assert "| 7: beta=1, gamma>0 (largest) | 0.77 |" in "\n".join(md)  # the paper's own rows
  with open(tmp_path / "agg" / "table2.csv") as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 7 * 8
  row = next(r for r in rows if r["setting"] == "beta=4, gamma=0" and r["metric"] == "MIG"
             and r["model"] == "vae" and r["dataset"] == "ds_corr")
  assert float(row["mean"]) == pytest.approx(0.4) and row["paper"] == "" and row["steps"] == "5"
  for name in ("scores_per_seed.png", "rate_distortion.png"):
    assert _png_ok(tmp_path / "agg" / name)


def test_aggregate_without_runs_is_a_clear_error(tmp_path):
  out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "aggregate.py"),
                        str(tmp_path)], capture_output=True, text=True)
  assert out.returncode == 2 and "no runs with current scores" in out.stderr


def test_aggregate_refuses_mixed_step_budgets_and_stale_scores(tmp_path, capsys):
  runs = tmp_path / "runs"
  _fake_run(runs, "dsprites", "echo", 1.0, 0.0, 0, fvae=0.5, mig=0.1, steps=1500)
  _fake_run(runs, "dsprites", "echo", 1.0, 0.0, 1, fvae=0.7, mig=0.3, steps=300000)
  _fake_run(runs, "dsprites", "echo", 1.0, 0.0, 2, fvae=0.9, mig=0.9, steps=300000,
            scored_step=1500)  # extended after scoring: its scores are not of its weights
  with pytest.raises(SystemExit):
    aggregate.main([str(runs), "--out", str(tmp_path / "a")])
  err = capsys.readouterr()
  assert "several step budgets [1500, 300000]" in err.err
  assert "dsprites_echo_b1_g0_s2: scores are of step 1500" in err.out
  assert aggregate.main([str(runs), "--out", str(tmp_path / "a"), "--steps", "300000"]) == 0
  md = (tmp_path / "a" / "table2.md").read_text()
  assert md.startswith("Step budget: 300,000 steps per run; 1 runs.")
  assert "0.70 (n=1) [0.83]" in md  # seed 1 only: not seed 0 (1,500 steps), not seed 2
  assert aggregate.main([str(runs), "--out", str(tmp_path / "b"), "--pool_steps"]) == 0
  md = (tmp_path / "b" / "table2.md").read_text()
  assert md.startswith("Step budget: 1,500 and 300,000 steps per run (pooled); 2 runs.")
  assert "0.60 ± 0.14 (n=2)" in md  # sample sd of 0.5 and 0.7


def test_traversal_gif_keeps_every_frame_of_a_flat_traversal(tmp_path):
  # An untrained or collapsed dimension decodes to the same image at every step; the GIF must
  # still hold one frame per column forth and back (9 + 7), each marked by its position bar.
  from echo_suite.figures import model_figures
  grid = np.full((3, 9, 64, 64), 0.5)
  model_figures.latent_traversals(grid, ["z0", "z1", "z2"], str(tmp_path / "t.png"),
                                  str(tmp_path / "t.gif"))
  with Image.open(tmp_path / "t.gif") as gif:
    assert gif.n_frames == 16
    gif.seek(4)
    frame = np.array(gif.convert("L"))
  bar = frame[-2] > 127  # the bar under the images: 4 of 8 steps along
  assert bar[:len(bar) // 2 - 2].all() and not bar[len(bar) // 2 + 2:].any()


def test_aggregate_never_averages_different_score_settings(tmp_path):
  runs = tmp_path / "runs"
  _fake_run(runs / "full", "ds_corr", "echo", 1.0, 0.0, 0, fvae=0.7, mig=0.10)
  _fake_run(runs / "kept", "ds_corr", "echo", 1.0, 0.0, 1, fvae=0.5, mig=0.02, eval_on="ds_corr")
  _fake_run(runs / "bins", "ds_corr", "echo", 1.0, 0.0, 2, fvae=0.7, mig=0.30,
            departures={"eval_mig.num_bins": {"value": 10, "paper": 20}})
  assert aggregate.main([str(runs), "--out", str(tmp_path / "agg")]) == 0
  md = (tmp_path / "agg" / "models.md").read_text()
  assert "| echo (beta 1, gamma 0) | 0.70 (n=1) [0.70]" in md
  assert "| echo {scored on ds_corr} (beta 1, gamma 0) | 0.50 (n=1) |" in md
  assert "| echo {eval_mig.num_bins=10} (beta 1, gamma 0) | 0.70 (n=1) |" in md
  table2 = (tmp_path / "agg" / "table2.md").read_text()
  assert "0.70 (n=1) [0.70]" in table2 and "n=2" not in table2 and "n=3" not in table2


def test_aggregate_reads_the_recorded_data_lists_every_metric_and_ranks_by_udr(tmp_path):
  from echo_suite.metrics import code_table
  runs = tmp_path / "runs"
  rng = np.random.default_rng(0)
  base = rng.normal(size=(3000, 5))
  indices = np.sort(rng.choice(737280, size=3000, replace=False))
  info = {"name": "ds_corr", "total_correlation_nats": 0.123, "num_examples": 5}
  for seed in (0, 1, 2):
    d = _fake_run(runs, "ds_corr", "echo", 1.0, 0.0, seed, fvae=0.5, mig=0.1,
                  extra={"irs": {"IRS": 0.6 + 0.1 * seed}}, data=info)
    # seeds 0 and 1 learn the same code up to order and sign; seed 2 another one
    codes = base[:, [1, 0, 2, 3, 4]] * [1, -1, 1, 1, 1] if seed == 1 else base
    codes = rng.normal(size=base.shape) if seed == 2 else codes
    rundir.RunDirectory(d).write_code_table(
        code_table.arrays(codes.astype(np.float32), indices, "dsprites", "w"))
  assert aggregate.main([str(runs), "--out", str(tmp_path / "agg"), "--udr"]) == 0
  md = (tmp_path / "agg" / "models.md").read_text()
  assert "IRS on ds_corr (TC 0.12)" in md  # the recorded TC, not a recomputed one
  assert "0.70 ± 0.10 (n=3)" in md
  with open(tmp_path / "agg" / "udr.csv") as f:
    udr_rows = {r["seed"]: r for r in csv.DictReader(f)}
  # active dimensions only (the fifth is at its floor); median over the two other seeds
  assert float(udr_rows["0"]["udr"]) == pytest.approx(0.5, abs=0.05)
  assert float(udr_rows["2"]["udr"]) < 0.05
  assert udr_rows["0"]["models"] == "3" and udr_rows["0"]["images"] == "3000"


def _study(tmp_path):
  """A fake study: row 1 at 30,000 steps (two seeds), runs that are not the study's, claim (b)
  and (c) cells at 5,000 steps, and claim (c) with the public code's discriminator Adam."""
  from echo_suite.commands import table2_claims
  runs = tmp_path / "study"
  with open(table2_claims.PAPER_GIN) as f:
    paper = f.read()

  def fake(*args, identity="", **kwargs):  # a study run: paper.gin's settings in its identity
    d = _fake_run(*args, **kwargs)
    (d / rundir.RUN_CONFIG).write_text(paper.replace("train.steps = 300000", "") + identity)
    return d

  big = runs / "steps30000"
  for seed, (e_fvae, v_fvae, e_mig, v_mig) in enumerate([(0.80, 0.60, 0.10, 0.12),
                                                         (0.84, 0.64, 0.20, 0.14)]):
    fake(big, "dsprites", "echo", 1.0, 0.0, seed, fvae=e_fvae, mig=e_mig, steps=30000)
    fake(big, "dsprites", "vae", 1.0, 0.0, seed, fvae=v_fvae, mig=v_mig, steps=30000)
    fake(big, "ds_corr", "echo", 1.0, 0.0, seed, fvae=0.50 + 0.02 * seed, mig=0.1, steps=30000)
    fake(big, "ds_corr", "vae", 1.0, 0.0, seed, fvae=0.70 + 0.02 * seed, mig=0.1, steps=30000)
    # Not the claim's: the stretched f, and a 5,000-step row-1 run.
    fake(big / "stretched", "dsprites", "echo", 1.0, 0.0, seed, fvae=0.1, mig=0.9, steps=30000,
         config="model.f_param = 'stretched'\n", identity="model.f_param = 'stretched'\n")
    fake(runs / "steps5000", "dsprites", "echo", 1.0, 0.0, seed, fvae=0.1, mig=0.9, steps=5000)
    # Claim (c) at 5,000 steps with the public code's discriminator optimiser, in its folder.
    for gamma, mig in ((0.0, 0.30 + 0.01 * seed), (20.0, 0.10 + 0.02 * seed)):
      fake(runs / "steps5000_adam0999", "dsprites", "echo", 1.0, gamma, seed, fvae=0.7,
           mig=mig, steps=5000, identity="model.disc_beta_2 = 0.999\n")
  # A run whose code collapsed: its MIG is undefined (an error, not a number).
  fake(runs / "steps5000_adam0999", "dsprites", "echo", 1.0, 20.0, 2, fvae=0.7, mig=0.0,
       steps=5000, identity="model.disc_beta_2 = 0.999\n",
       extra={"mig": {"error": "MIG is undefined: a collapsed code"}})
  # Trained with another batch size than paper.gin's: listed, left out.
  fake(big / "other", "dsprites", "vae", 1.0, 0.0, 2, fvae=0.0, mig=0.0, steps=30000,
       identity="train.batch_size = 32\n")
  fake(runs / "steps5000", "ds_corr", "vae", 4.0, 0.0, 0, fvae=0.5, mig=0.05, steps=5000)
  for seed, (fvae, mig) in enumerate([(0.02, 0.95), (0.04, 0.97)]):  # claim (c): gamma 20
    fake(runs / "steps5000", "dsprites", "echo", 1.0, 20.0, seed, fvae=fvae, mig=mig, steps=5000)
  fake(runs / "steps5000", "ds_corr", "vae", 1.0, 0.0, 0, fvae=0.6, mig=0.05, steps=5000)
  # Code tables: one of the scored weights (its position dimensions are read), one of others.
  from echo_suite.data import ground_truth
  from echo_suite.metrics import code_table
  indices = np.arange(0, 737280, 97)
  factors = ground_truth.DSprites().factors_of(indices).astype(np.float32)
  t = np.radians(40)
  factors[:, 3:5] = factors[:, 3:5] @ np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
  for name, weights in (("dsprites_echo_b1_g0_s1", "w"), ("dsprites_vae_b1_g0_s1", "old")):
    rundir.RunDirectory(big / name).write_code_table(
        code_table.arrays(factors, indices, "dsprites", weights))
  return runs


def _claims_csv(path):
  with open(path) as f:
    return {(r["claim"], r["dataset"], r["model"], r["representation"], r["metric"]): r
            for r in csv.DictReader(f)}


def test_table2_claims_test_each_cell_and_word_it_by_the_fixed_rules(tmp_path, capsys):
  from echo_suite.commands import table2_claims
  from scipy import stats
  runs = _study(tmp_path)
  out = tmp_path / "claims"
  assert table2_claims.main([str(runs), "--out", str(out)]) == 0
  printed = capsys.readouterr().out
  assert "dsprites_vae_b1_g0_s2: not paper.gin's settings: train.batch_size = 32" in printed
  assert "stretched/dsprites_echo_b1_g0_s0: not paper.gin's settings: model.f_param" in printed
  rows = _claims_csv(out / "claims.csv")
  fvae = rows[("a", "dsprites", "", "mean", "FactorVAE")]  # 0.60, 0.64 against 0.80, 0.84
  assert float(fvae["baseline_mean"]) == pytest.approx(0.62)
  assert float(fvae["treatment_sd"]) == pytest.approx(0.04 / np.sqrt(2))  # sample sd (n - 1)
  assert float(fvae["diff"]) == pytest.approx(0.2)
  ref = stats.ttest_ind([0.80, 0.84], [0.60, 0.64], equal_var=False)
  assert float(fvae["welch_t"]) == pytest.approx(ref.statistic)  # 7.07 on 2 df: p = 0.019
  assert float(fvae["welch_df"]) == pytest.approx(2.0)
  assert float(fvae["welch_p"]) == pytest.approx(ref.pvalue)
  assert float(fvae["permutation_p"]) == pytest.approx(1 / 3)  # the least two seeds a side give
  assert fvae["verdict"] == "suggestive"  # never 'holds' below four seeds a side
  assert fvae["paper_treatment"] == ""  # the paper scored sampled codes: its numbers sit there
  assert fvae["baseline_runs"] == "dsprites_vae_b1_g0_s0@w dsprites_vae_b1_g0_s1@w"
  assert rows[("a", "dsprites", "", "mean", "MIG")]["verdict"] == "inconclusive"
  assert rows[("a", "ds_corr", "", "mean", "FactorVAE")]["verdict"] == "suggestive, against"
  assert rows[("a", "dsprites", "", "sample", "FactorVAE")]["verdict"] == "not run yet"
  one = rows[("b_5k", "ds_corr", "vae", "mean", "FactorVAE")]
  assert (one["verdict"], float(one["diff"]), one["treatment_n"]) == ("untested",
                                                                      pytest.approx(-0.1), "1")
  assert rows[("b", "ds_corr", "vae", "mean", "FactorVAE")]["verdict"] == "not run yet"
  # (c) speaks of MIG only: FactorVAE beside it is worded '(not claimed)'.
  c5 = rows[("c_5k", "dsprites", "echo", "mean", "MIG")]  # 0.9, 0.9 against 0.95, 0.97
  assert (c5["baseline_n"], c5["treatment_seeds"]) == ("2", "0 1")
  assert float(c5["welch_df"]) == pytest.approx(1.0)  # all the spread on one side
  assert c5["verdict"] == "inconclusive"  # t = 6 on 1 df: p = 0.105
  assert rows[("c_5k", "dsprites", "echo", "mean", "FactorVAE")]["verdict"] == \
      "no clear change (not claimed)"
  # The Adam 0.999 runs make their own cell group, and no other.
  adam = rows[("c_5k_adam", "dsprites", "echo", "sample", "MIG")]
  assert (adam["baseline_n"], adam["treatment_n"]) == ("0", "0")  # scored the mean code only
  adam = rows[("c_5k_adam", "dsprites", "echo", "mean", "MIG")]
  assert float(adam["baseline_mean"]) == pytest.approx(0.305)
  assert float(adam["treatment_mean"]) == pytest.approx(0.11)
  assert adam["verdict"] == "suggestive, against"  # t = -15.6 on 1.6 df: p = 0.01
  # The collapsed run is named, and left out of n and the test.
  assert (adam["treatment_n"], adam["treatment_undefined"]) == ("2", "dsprites_echo_b1_g20_s2")
  assert rows[("c", "dsprites", "echo", "mean", "MIG")]["treatment_n"] == "0"
  md = (out / "claims.md").read_text()
  assert ("| dsprites | both | mean | FactorVAE | 0.620 ± 0.028 (n=2) | 0.820 ± 0.028 (n=2) | "
          "+0.200 | +7.07 (2.0) | 0.019 | 0.333 | suggestive |  |") in md
  assert "seeds 0, 1" in md and "30,000 steps per run" in md and evidence_rules() in md
  assert _png_ok(out / "claims.png")
  # runs.md: every study run once (not the departing ones), 4 decimals, its command.
  text = (out / "runs.md").read_text()
  lines = [ln for ln in text.splitlines() if ln.startswith("| steps") and "`" not in ln]
  assert len(lines) == 19 and sum("_s2 " in ln for ln in lines) == 1
  assert " | 0.7000 / – | undefined / – | " in next(ln for ln in lines if "_g20_s2 " in ln)
  assert lines[0] == ("| steps30000 | dsprites_echo_b1_g0_s0 | 30,000 | w | 60.0 | 10.00 | – | "
                      "0.8000 / – | 0.1000 / – | – (no code table) | unrecorded | run directory |")
  assert " | z3 40° (R² 1.00), z4 40° (R² 1.00) | " in lines[1]  # 40° from posX, 50° from posY
  assert " | – (code table of weights old, not the scored ones) | " in lines[3]
  assert [ln.split(" | ")[1] for ln in lines[:4]] == [  # the longest budget first, then
      "dsprites_echo_b1_g0_s0", "dsprites_echo_b1_g0_s1", "dsprites_vae_b1_g0_s0",  # as claims
      "dsprites_vae_b1_g0_s1"]
  assert lines[-1].startswith("| steps5000_adam0999 | dsprites_echo_b1_g20_s2 | 5,000 |")
  assert ("| steps5000_adam0999/dsprites_echo_b1_g20_s1 | `python disentanglement.py --gin_file "
          "gin_configs/paper.gin --dataset dsprites --model echo --beta 1 --gamma 20 --seed 1 "
          "--steps 5000 --gin_param \"model.disc_beta_2 = 0.999\" --gin_param "
          "\"train.checkpoint_every = 1000\" --representation mean sample --output_dir "
          "RUNS_DIR/steps5000_adam0999/dsprites_echo_b1_g20_s1` |") in text


def evidence_rules():
  from echo_suite import evidence
  return evidence.RULES


def test_table2_claims_regenerate_byte_for_byte_from_their_records(tmp_path, capsys):
  # What README's block and the study's tables are made from: records.csv alone, or the run
  # directories plus the records of runs whose directories are gone.
  import shutil
  from echo_suite.commands import table2_claims
  runs = _study(tmp_path)
  first, again, kept = tmp_path / "first", tmp_path / "again", tmp_path / "kept"
  assert table2_claims.main([str(runs), "--out", str(first)]) == 0
  assert table2_claims.main(["--records", str(first / "records.csv"), "--out", str(again)]) == 0
  shutil.rmtree(runs / "steps30000" / "dsprites_vae_b1_g0_s1")  # a run directory lost
  readme = tmp_path / "README.md"
  readme.write_text(f"# x\n\nbefore\n{table2_claims.README_BEGIN}\nold\n"
                    f"{table2_claims.README_END}\nafter\n")
  assert table2_claims.main([str(runs), "--keep", str(first / "records.csv"), "--out", str(kept),
                             "--readme", str(readme)]) == 0
  capsys.readouterr()
  for name in ("records.csv", "claims.md", "claims.csv", "runs.md", "readme_block.txt"):
    assert (again / name).read_text() == (first / name).read_text(), name
    assert (kept / name).read_text() == (first / name).read_text(), name
  block = (first / "readme_block.txt").read_text()
  assert readme.read_text() == f"# x\n\nbefore\n{block}after\n"
  assert table2_claims.readme_block(str(readme)) == block
  assert len(block.splitlines()) <= 40
  # The headline holds the sampled code's cells (the paper's): give the records sampled scores.
  records = table2_claims.read_records(str(first / "records.csv"))
  for r in records:
    r["factor_vae_sample"], r["mig_sample"] = r["factor_vae_mean"], r["mig_mean"]
  table2_claims.write_records(str(tmp_path / "sampled.csv"), records)
  assert table2_claims.main(["--records", str(tmp_path / "sampled.csv"), "--out",
                             str(tmp_path / "sampled")]) == 0
  block = (tmp_path / "sampled" / "readme_block.txt").read_text()
  assert len(block.splitlines()) <= 40
  assert ("| (a) beta-VAE -> Echo | dsprites, FactorVAE | 30k | 2 / 2 | 0.620 ± 0.028 | 0.820 ± "
          "0.028 | +7.1 (2.0), 0.019 | 0.333 | suggestive | 0.65 -> 0.83 |") in block
  assert ("| (c) gamma 0 -> gamma 20 | dsprites, Echo, MIG | 5k, round 1, Adam 0.9 | 2 / 2 | "
          "0.900 ± 0.000 | 0.960 ± 0.014 | +6.0 (1.0), 0.105 | 0.333 | inconclusive | "
          "0.16 -> 0.30 |") in block
  assert ("- (a) beta-VAE -> Echo, 30,000 steps: suggestive in 1 of 4 cells (dsprites, FactorVAE, "
          "0.620 -> 0.820, Welch p = 0.019); inconclusive in 2 of 4 cells (Welch p 0.758-1.000); "
          "suggestive, against in 1 of 4 cells (ds_corr, FactorVAE, 0.710 -> 0.510, Welch p = "
          "0.005).\n") in block
  capsys.readouterr()


def test_table2_claims_refuse_bad_input_before_writing(tmp_path, capsys):
  from echo_suite.commands import table2_claims
  runs = _study(tmp_path)
  readme = tmp_path / "README.md"
  readme.write_text("# no markers\n")
  bad_records = tmp_path / "records.csv"
  bad_records.write_text("folder,run\nx,y\n")
  for argv, message in (
      ([], "give a STUDY_DIR or --records RECORDS.csv (one of them)"),
      ([str(runs), "--records", str(bad_records)], "give a STUDY_DIR or --records"),
      ([str(runs), "--readme", str(readme)], f"--readme {str(readme)!r} has 0 line(s) <!--"),
      (["--records", str(bad_records)], "is not a records.csv: no column steps, dataset"),
      (["--records", str(tmp_path / "none.csv")], "No such file or directory"),
  ):
    with pytest.raises(SystemExit) as stop:
      table2_claims.main(argv + ["--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and err.count("\n") == 1, (argv, err)
  assert not (tmp_path / "out").exists() and readme.read_text() == "# no markers\n"


def test_device_label_names_the_kind_of_machine():
  from echo_suite import device
  record = {"cpu": "AMD EPYC", "cores": 2, "avx512": False, "avx2": True, "gpus": [],
            "threads": 1}
  assert device.label(record) == "AMD EPYC, 2 cores, AVX2, 1 thread"
  assert device.label({**record, "avx512": True, "threads": 0, "gpus": ["/GPU:0"]}) == \
      "AMD EPYC, 2 cores, AVX-512, default threads, GPU: /GPU:0"
  assert device.label(None) == "unrecorded"


def test_table2_study_script_runs_its_phases_in_order_and_status_trains_nothing(tmp_path):
  # A stand-in interpreter records each sweep the study would run.
  log = tmp_path / "calls.txt"
  fake = tmp_path / "python"
  # Its status answer: every claim (c) phase complete, the others half done.
  # It imports echo_suite from PACKAGE (asked with -c).
  # A run of the first phase fails as it is scored: the study goes on, and says so at its end.
  fake.write_text(f'#!/bin/sh\ncase "$1" in -c) echo "$PACKAGE"; exit 0;; esac\n'
                  f'echo "$@" >> {log}\ncase "$*" in *--status*) case "$*" in '
                  '*"--gammas 20 "*) echo "1 run, 1 done";; *--gammas*) echo "4 runs, 4 done";; '
                  '*) echo "6 runs, 3 done";; esac; exit 0;; '
                  'esac\ncase "$*" in *adam0999*representation*) exit 1;; esac\n')
  fake.chmod(0o755)
  script = os.path.join(ROOT, "scripts", "table2_study.sh")
  # A Python that imports the suite from another checkout (the clone a worktree came from) is
  # refused before any phase: the study would run that checkout's code.
  env = {**os.environ, "PYTHON": str(fake), "PACKAGE": str(tmp_path / "other_clone")}
  other = subprocess.run(["bash", script, str(tmp_path / "study"), "status"], env=env,
                         capture_output=True, text=True)
  assert other.returncode == 2 and not log.exists()
  assert other.stderr.startswith(f"error: {fake} imports echo_suite from "
                                 f"'{tmp_path / 'other_clone'}', not from this checkout")
  env["PACKAGE"] = os.path.realpath(ROOT)
  bad = subprocess.run(["bash", script, str(tmp_path / "study"), "trian"], env=env,
                       capture_output=True, text=True)
  assert bad.returncode == 2 and "error: stage 'trian'" in bad.stderr and not log.exists()
  for stage, per_phase in (("status", ["--status"]), ("all", ["--no_eval", "representation"])):
    log.unlink(missing_ok=True)
    done = subprocess.run(["bash", script, str(tmp_path / "study"), stage], env=env,
                          capture_output=True, text=True)
    if stage == "all":
      assert done.returncode == 1
      assert done.stderr.endswith("failed run (each run's log is in RUNS_DIR/.../logs/):\n"
                                  "claim_c_5k_adam (score)\n")
    else:
      assert done.returncode == 0
    calls = log.read_text().splitlines()
    assert len(calls) == 11 * len(per_phase)  # eleven phases
    cells = done.stdout.split("== cells (done = trained and scored, both codes)\n")
    if stage == "status":  # last, one line per phase: complete, or how far
      assert cells[1].splitlines()[:4] == [
          "claim_c_5k_adam: complete", "claim_c_30k_echo: complete", "claim_c_30k_vae: complete",
          "row1_dsprites: 3 of 6 runs done"]
      assert len(cells[1].splitlines()) == 11
    else:
      assert len(cells) == 1
    assert all(c.split()[0].endswith("scripts/sweep.py") for c in calls)
    for call, marker in zip(calls, per_phase * 11):
      assert marker in call, call
    # Round 2 first: claim (c) with the public code's discriminator Adam (beta2 0.999), at 5,000
    # steps in its own runs directory, then at 30,000 steps (Echo gamma 5 and 20, VAE gamma 20).
    first, second, third = (calls[i * len(per_phase)] for i in range(3))
    assert "--steps 5000" in first and "steps5000_adam0999" in first and "--gammas 0 20" in first
    assert "--steps 30000" in second and "--models echo" in second and "--gammas 5 20" in second
    assert "--models vae" in third and "--gammas 20 " in third
    assert all("model.disc_beta_2=0.999" in c for c in (first, second, third))
    assert "--grid product" in second  # no gamma-0 run with the binding in the 30,000-step folder
    if stage == "status":
      assert all("--no_eval" not in c and "evaluation.representation" in c for c in calls)
  # Named phases run alone, in the study's order whatever order they are named in; an unknown
  # name is refused before any sweep.
  log.unlink(missing_ok=True)
  some = subprocess.run(["bash", script, str(tmp_path / "study"), "train", "row1_dsprites",
                         "claim_c_30k_vae"], env=env, capture_output=True, text=True)
  assert some.returncode == 0, some.stderr
  calls = log.read_text().splitlines()
  assert len(calls) == 2 and "--models vae" in calls[0] and "--gin_param model.disc" in calls[0]
  assert "--datasets dsprites --models echo vae --betas 1 --seeds 0-1" in calls[1]
  log.unlink()
  typo = subprocess.run(["bash", script, str(tmp_path / "study"), "all", "row1_dsprite"],
                        env=env, capture_output=True, text=True)
  assert typo.returncode == 2 and not log.exists()
  assert typo.stderr.startswith("error: phase 'row1_dsprite' is not one of claim_c_5k_adam ")


def test_aggregate_compares_echo_with_vae_seed_against_seed_on_any_data_set(tmp_path, capsys):
  from scipy import stats
  runs = tmp_path / "runs"

  def run(model, seed, fvae, mig, lr=1e-4, d_max=63, folder="colour"):
    d = _fake_run(runs / folder, "color_dsprites", model, 1.0, 0.0, seed, fvae=fvae, mig=mig,
                  eval_on="color_dsprites")
    echo_only = f"model.d_max = {d_max}\n" if model == "echo" else ""
    (d / rundir.RUN_CONFIG).write_text(f"{echo_only}model.learning_rate = {lr!r}\n"
                                       f"train.seed = {seed}\n")

  echo, vae = [0.70, 0.74, 0.69, 0.75], [0.60, 0.66, 0.62, 0.61]
  for seed, (e, v) in enumerate(zip(echo, vae)):
    run("echo", seed, e, 0.1)
    run("vae", seed, v, 0.1 + 0.01 * seed)
  for seed in (0, 1):  # Echo with another d_max: its own row; VAE at another rate: no Echo twin
    run("echo", seed, 0.9, 0.3, d_max=32, folder="dmax")
    run("vae", seed, 0.1, 0.0, lr=1e-2, folder="lr")
  _fake_run(runs / "plain", "dsprites", "echo", 1.0, 0.0, 0, fvae=0.8, mig=0.2)  # no VAE beside
  page = tmp_path / "study.md"
  page.write_text(f"# Study\n\nThe block starts at `{aggregate.ECHO_VS_VAE_BEGIN}`.\n\n"
                  f"{aggregate.ECHO_VS_VAE_BEGIN}\nold\n{aggregate.ECHO_VS_VAE_END}\nafter\n")
  page.chmod(0o664)
  link = tmp_path / "link.md"
  link.symlink_to(page)
  out = tmp_path / "agg"
  assert aggregate.main([str(runs), "--out", str(out), "--doc", str(link)]) == 0
  text = (out / "echo_vs_vae.md").read_text()
  rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| color")]
  # FactorVAE and MIG of two pairs: d_max 63 and d_max 32 against the same VAE runs (lr 1e-4);
  # the VAE runs at lr 1e-2 have no Echo twin, and dsprites has no VAE.
  assert [r[4] for r in rows] == ["echo: model.d_max = 32"] * 2 + ["echo: model.d_max = 63"] * 2
  assert rows[0][0] == "| color_dsprites (0.00)" and rows[0][7] == "0.900 ± 0.000 (n=2)"
  fvae = rows[2]
  t, p = stats.ttest_ind(echo, vae, equal_var=False)
  assert fvae[5:8] == ["FactorVAE", *(f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f} (n=4)"
                                      for v in (vae, echo))]
  assert fvae[9].startswith(f"{t:+.2f} (") and fvae[9].endswith(f"{p:.3f}")
  assert fvae[10] == "0.029" and fvae[11] == "holds |"  # 2 of the 70 splits are as extreme
  assert rows[3][11] == "inconclusive |"  # MIG: VAE higher, Welch p 0.10 (df 3.0) at n = 4
  # The table regenerates from seeds.csv alone; the page's one block (not the marker quoted in
  # its prose) is that table, written through the link, the page keeping its mode.
  records = aggregate.read_seed_records(out / "seeds.csv")
  assert len(records) == 13 and {r["weights"] for r in records} == {"w"}
  assert aggregate.echo_vs_vae_markdown(aggregate.echo_vs_vae(records)) == text
  assert page.read_text() == (f"# Study\n\nThe block starts at `{aggregate.ECHO_VS_VAE_BEGIN}`."
                              f"\n\n{text}after\n")
  assert link.is_symlink() and page.stat().st_mode & 0o777 == 0o664
  assert "Echo against beta-VAE" in (out / "report.html").read_text()
  assert "| beta=1, gamma=0 | 0.80 (n=1) [0.83] | – [0.65] |" in (out / "table2.md").read_text()
  # Colour runs alone have no Table 2 (its data sets are dsprites and ds_corr): it says so.
  assert aggregate.main([str(runs / "colour"), "--out", str(tmp_path / "colour")]) == 0
  assert aggregate.NO_TABLE2 in (tmp_path / "colour" / "table2.md").read_text()
  # A page without the markers, with two blocks, or not UTF-8, or nothing to compare: one error
  # line, nothing written.
  capsys.readouterr()
  bare, twice, latin = tmp_path / "bare.md", tmp_path / "twice.md", tmp_path / "latin.md"
  bare.write_text("# no block\n")
  twice.write_text(2 * f"{aggregate.ECHO_VS_VAE_BEGIN}\n{aggregate.ECHO_VS_VAE_END}\n")
  latin.write_bytes(f"caf\xe9\n{aggregate.ECHO_VS_VAE_BEGIN}\n".encode("latin-1"))
  before = {f: f.read_bytes() for f in (bare, twice, latin, page)}
  for target, doc, message in (
      (runs, bare, "bare.md' has 0 line(s) <!-- aggregate.py echo_vs_vae: begin"),
      (runs, twice, "twice.md' has 2 line(s) <!-- aggregate.py echo_vs_vae: begin"),
      (runs, latin, "latin.md' is not UTF-8 text"),
      (runs / "plain", page, "no setting has current scores of both echo and vae")):
    with pytest.raises(SystemExit) as e:
      aggregate.main([str(target), "--out", str(tmp_path / "never"), "--doc", str(doc)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "never").exists()
  assert {f: f.read_bytes() for f in before} == before


def test_aggregate_that_cannot_write_says_so_in_one_line(tmp_path, capsys, monkeypatch):
  runs = tmp_path / "runs"
  for model in ("echo", "vae"):
    _fake_run(runs, "dsprites", model, 1.0, 0.0, 0, fvae=0.5, mig=0.1)
  page = tmp_path / "page.md"
  page.write_text(f"{aggregate.ECHO_VS_VAE_BEGIN}\n{aggregate.ECHO_VS_VAE_END}\n")

  def refuse(path, *args):
    raise PermissionError(13, "Permission denied", str(path))

  monkeypatch.setattr(aggregate.atomic_io, "replace_block", refuse)  # e.g. an immutable folder
  capsys.readouterr()
  assert aggregate.main([str(runs), "--out", str(tmp_path / "agg"), "--doc", str(page)]) == 1
  err = capsys.readouterr().err
  assert err == f"error: Permission denied: {page}\n"


def test_aggregate_keeps_a_dependence_drawn_on_another_base_apart(tmp_path, monkeypatch):
  # ds_corr drawn on color_dsprites is not the paper's ds_corr: its own column, no Table 2 cell,
  # its own curves; colour and noise runs (both at TC 0) get curves and markers of their own.
  runs = tmp_path / "runs"
  for seed, (plain, colour) in enumerate(((0.60, 0.90), (0.62, 0.94))):
    for model in ("echo", "vae"):
      _fake_run(runs / "plain", "ds_corr", model, 1.0, 0.0, seed, fvae=plain, mig=0.1)
      _fake_run(runs / "colour", "ds_corr", model, 1.0, 0.0, seed, fvae=colour, mig=0.2,
                config="ds_corr.base = 'color_dsprites'\n", eval_on="color_dsprites")
      _fake_run(runs / "c", "color_dsprites", model, 1.0, 0.0, seed, fvae=0.7, mig=0.3,
                eval_on="color_dsprites")
      _fake_run(runs / "n", "noisy_dsprites", model, 1.0, 0.0, seed, fvae=0.5, mig=0.3,
                eval_on="noisy_dsprites")
  drawn = {}
  monkeypatch.setattr(aggregate.sweep_figures, "curves",
                      lambda lines, *a: drawn.setdefault("curves", lines) and a[-1])
  monkeypatch.setattr(aggregate.sweep_figures, "error_bar_panels",
                      lambda panels, *a: drawn.setdefault("panels", panels) and a[-1])
  out = tmp_path / "agg"
  assert aggregate.main([str(runs), "--out", str(out), "--no_report"]) == 0
  models = (out / "models.md").read_text()
  assert "FactorVAE on ds_corr (TC 1.49)" in models
  assert "FactorVAE on ds_corr on color_dsprites (TC 1.49)" in models
  row = next(line for line in models.splitlines() if line.startswith("| echo (beta 1"))
  assert "0.61 ± 0.01 (n=2)" in row and "0.92 ± 0.03 (n=2)" in row  # never pooled: n=4
  assert "{scored on" not in models  # each was scored on its own base: the paper's setting
  with open(out / "table2.csv", newline="") as f:
    cell = next(r for r in csv.DictReader(f) if (r["dataset"], r["metric"], r["model"]) == (
        "ds_corr", "FactorVAE", "echo"))
  assert float(cell["mean"]) == pytest.approx(0.61) and cell["n"] == "2"  # the paper's ds_corr
  labels = {r["data"] for r in aggregate.read_seed_records(out / "seeds.csv")}
  assert labels == {"ds_corr", "ds_corr on color_dsprites", "color_dsprites", "noisy_dsprites"}
  curves = [c.label for c in drawn["curves"]]
  assert len(curves) == 8 and "echo (exact rate), noisy_dsprites" in curves
  series = {s.label: s for s in drawn["panels"][0][2]}
  tc0 = [s for s in series.values() if min(s.x) < 0.1 and s.label.startswith("echo")]
  assert sorted(s.label for s in tc0) == ["echo (beta 1, gamma 0)",  # no dSprites run: no points
                                          "echo (beta 1, gamma 0) on color_dsprites",
                                          "echo (beta 1, gamma 0) on noisy_dsprites"][1:]
  assert len({s.marker for s in tc0}) == 2 and all(len(s.x) == 1 for s in tc0)
  assert series["echo (beta 1, gamma 0) on ds_corr (color_dsprites)"].marker == "s"


def test_a_dependence_setting_for_a_data_set_not_built_is_refused_before_work(tmp_path, capsys):
  # ds_corr.* with --dataset color_dsprites would be silently ignored: every command refuses it.
  from echo_suite.commands import dataset as dataset_cli
  expected = ("error: 'ds_corr.remove_prob = 0.5' is a setting of ds_corr, which is not built "
              "here (data set: {}); bind ds_corr.* only where ds_corr is the data set\n")
  binding = ["--gin_param", "ds_corr.remove_prob = 0.5"]
  out = tmp_path / "run"
  assert disentanglement.main(["--dataset", "color_dsprites", "--steps", "5", "--no_eval",
                               "--output_dir", str(out), *binding]) == 2
  assert capsys.readouterr().err == expected.format("color_dsprites") and not out.exists()
  with pytest.raises(SystemExit) as stop:
    dataset_cli.main(["--dataset", "dsprites", "--info", *binding])
  err = capsys.readouterr().err
  assert stop.value.code == 2 and err == expected.format("dsprites")
  with pytest.raises(SystemExit) as stop:
    sweep.main(["--runs_dir", str(tmp_path / "sweep"), "--models", "echo", "--datasets",
                "color_dsprites", "noisy_dsprites", "--steps", "5", "--dry_run", *binding])
  err = capsys.readouterr().err
  assert stop.value.code == 2 and err == expected.format("color_dsprites, noisy_dsprites")
  assert not (tmp_path / "sweep").exists()
  # Where ds_corr is built, its settings apply.
  assert sweep.main(["--runs_dir", str(tmp_path / "sweep"), "--models", "echo", "--datasets",
                     "ds_corr", "--steps", "5", "--dry_run", *binding]) == 0
  gin.clear_config()  # the binding stays in-process otherwise: later tests build ds_corr too


def test_sweep_status_into_a_pipe_closed_early_is_quiet(tmp_path):
  # `sweep.py --status | head`: 4,000 lines (beyond a pipe's buffer) into a reader that leaves
  # after two; no BrokenPipeError traceback, exit 0.
  script = os.path.join(ROOT, "scripts", "sweep.py")
  command = (f"{shlex.quote(sys.executable)} {shlex.quote(script)}"
             f" --runs_dir {shlex.quote(str(tmp_path / 'sweep'))} --datasets dsprites ds_corr "
             "--models echo vae --seeds 0-999 --steps 5 --yes --status | head -2")
  out = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
  assert out.returncode == 0 and len(out.stdout.splitlines()) == 2, out.stderr
  assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr
