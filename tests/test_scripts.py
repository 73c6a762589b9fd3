"""Scoring at the end of a run, --eval_only, sweep.py and aggregate.py."""
import csv
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

import disentanglement
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import aggregate  # noqa: E402
import sweep  # noqa: E402

FAST_EVAL = ["--gin_param", "eval_factor_vae.num_train = 200",
             "--gin_param", "eval_factor_vae.num_eval = 100",
             "--gin_param", "eval_factor_vae.num_variance_estimate = 2000",
             "--gin_param", "eval_mig.num_train = 2000"]
TINY = ["--gin_file", os.path.join(ROOT, "gin_configs", "quick.gin"),
        "--gin_param", "model.d_max = 15", "--gin_param", "train.batch_size = 16",
        "--no_progress"]


def _png_ok(path):
  with Image.open(path) as im:
    return im.format in ("PNG", "GIF") and min(im.size) >= 100


def test_run_ends_with_scores_and_figures_and_rescoring_reuses_codes(tmp_path, capsys):
  out = tmp_path / "run"
  assert disentanglement.main(["--output_dir", str(out), "--dataset", "ds_corr", "--steps", "30",
                               *TINY, *FAST_EVAL]) == 0
  with open(out / "results.json") as f:
    results = json.load(f)
  s = results["scores"]
  assert s["eval_on"] == {"dataset": "dsprites", "num_images": 737280}  # full dSprites
  assert 0.0 <= s["factor_vae"]["eval_accuracy"] <= 1.0
  assert 0.0 <= s["mig"]["discrete_mig"] <= 1.0
  with open(out / "scores.csv") as f:
    rows = list(csv.reader(f))
  assert ["mig", "discrete_mig", str(s["mig"]["discrete_mig"])] in rows
  figures = sorted(os.listdir(out / "figures"))
  assert figures == ["factor_response.png", "rate_per_dim.png", "reconstructions.png",
                     "training_curves.png", "traversals.gif", "traversals.png"]
  assert all(_png_ok(out / "figures" / f) for f in figures)
  with Image.open(out / "figures" / "traversals.gif") as gif:
    assert gif.n_frames == 16  # 9 columns forth, 7 back
  # Re-score with another metric: reads codes.npz, keeps the training results.
  codes_mtime = os.path.getmtime(out / "codes.npz")
  capsys.readouterr()
  assert disentanglement.main(["--eval_only", "--output_dir", str(out), "--metrics", "mig", "sap",
                               "--no_progress", *FAST_EVAL[-2:],
                               "--gin_param", "eval_sap.num_train = 1000",
                               "--gin_param", "eval_sap.num_test = 500"]) == 0
  assert "SAP_score" in capsys.readouterr().out
  assert os.path.getmtime(out / "codes.npz") == codes_mtime
  with open(out / "results.json") as f:
    again = json.load(f)
  assert set(again["scores"]) == {"mig", "sap", "eval_on"}
  assert again["scores"]["mig"] == s["mig"]
  assert again["final_losses_last_100_steps"] == results["final_losses_last_100_steps"]


def test_eval_only_on_a_directory_without_a_run(tmp_path, capsys):
  assert disentanglement.main(["--eval_only", "--output_dir", str(tmp_path)]) == 2
  assert "holds no finished run" in capsys.readouterr().err


def _args(runs_dir, *extra):
  return ["--models", "echo", "vae", "--datasets", "dsprites", "ds_corr", "--betas", "1", "2",
          "4", "--gammas", "0", "10", "20", "--seeds", "0-1", "--steps", "5",
          "--runs_dir", str(runs_dir), *extra]


def test_sweep_plan_paper_grid_and_skip_done(tmp_path, capsys):
  assert sweep.parse_seeds(["0-2", "5", "7,8"]) == [0, 1, 2, 5, 7, 8]
  assert sweep.settings([1, 2, 4], [0, 10, 20], "paper") == [
      (1.0, 0.0), (2.0, 0.0), (4.0, 0.0), (1.0, 10.0), (1.0, 20.0)]
  assert len(sweep.settings([1, 2, 4], [0, 10, 20], "product")) == 9
  done = tmp_path / "dsprites_echo_b1_g0_s0"
  done.mkdir()
  (done / "results.json").write_text(json.dumps({"scores": {}}))
  half = tmp_path / "dsprites_echo_b2_g0_s0"  # results without scores: not done
  half.mkdir()
  (half / "results.json").write_text(json.dumps({"steps": 5}))
  assert sweep.main(_args(tmp_path, "--dry_run")) == 0
  out = capsys.readouterr().out
  assert "40 runs, 1 done, 39 to run" in out
  assert "dsprites_echo_b1_g0_s0" not in out and "--output_dir" in out
  assert sweep.main(_args(tmp_path, "--slurm", "--jobs", "4")) == 0
  script = (tmp_path / "sweep.sbatch").read_text()
  assert "#SBATCH --array=0-38%4" in script
  assert len((tmp_path / "sweep_commands.txt").read_text().splitlines()) == 39


def test_sweep_rejects_unknown_model():
  out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sweep.py"), "--models",
                        "gan", "--dry_run"], capture_output=True, text=True)
  assert out.returncode == 2 and "unknown model(s) ['gan']" in out.stderr


def _fake_run(root, dataset, model, beta, gamma, seed, fvae, mig):
  d = root / sweep.run_name(dataset, model, beta, gamma, seed)
  d.mkdir(parents=True)
  (d / "results.json").write_text(json.dumps({
      "dataset": dataset, "model": model, "beta": beta, "gamma": gamma,
      "final_losses_last_100_steps": {"rate": 10 / beta, "distortion": 50 + 10 * beta},
      "scores": {"factor_vae": {"eval_accuracy": fvae}, "mig": {"discrete_mig": mig}}}))


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
  assert md[0].startswith("| setting | dsprites FactorVAE echo | dsprites FactorVAE vae |")
  body = [line for line in md[2:] if line.startswith("|")]
  assert [line.split(" | ")[0] for line in body] == [
      "| beta=1, gamma=0", "| beta=2, gamma=0", "| beta=4, gamma=0", "| gamma=0, beta=1",
      "| gamma=10, beta=1", "| gamma=20, beta=1", "| gamma=40, beta=1"]
  assert "0.55 ± 0.05 (n=2) [0.83]" in body[0]  # paper's row 1, FactorVAE Echo on dSprites
  assert body[6].endswith("[0.08] |")  # paper's row 7, MIG VAE on ds_corr
  with open(tmp_path / "agg" / "table2.csv") as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 7 * 8
  row = next(r for r in rows if r["setting"] == "beta=4, gamma=0" and r["metric"] == "MIG"
             and r["model"] == "vae" and r["dataset"] == "ds_corr")
  assert float(row["mean"]) == pytest.approx(0.4) and row["paper"] == "0.06"
  for name in ("scores_per_seed.png", "rate_distortion.png"):
    assert _png_ok(tmp_path / "agg" / name)


def test_aggregate_without_runs_is_a_clear_error(tmp_path):
  out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "aggregate.py"),
                        str(tmp_path)], capture_output=True, text=True)
  assert out.returncode == 2 and "no scored runs" in out.stderr
