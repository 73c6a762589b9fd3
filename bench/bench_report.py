"""How fast the sweep report opens: a synthetic runs folder of N scored runs (each with figures of
a real run's sizes, two codes, two metrics), aggregated, then loaded in headless Chromium.

    python bench/bench_report.py [--runs 100] [--repeats 5] [--figures RUN_DIR/figures]

Prints the page's size, aggregate.py's time, and per load the time the page's own script
records at its last line (navigation start -> table sortable, every card closed: HTML parsed,
styled and scripted) and Chromium's wall time (which includes starting the browser).
"""
import json
import os
import shutil
import statistics
import tempfile
import time

import numpy as np
from PIL import Image

from echo_suite import checks
from echo_suite import device
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.commands import aggregate
from echo_suite.figures import model_figures
from echo_suite.report import browser


def fake_figures(folder, source=None):
  """A run's figures: copies of `source`'s, else noise PNGs of a typical size (600 x 450)."""
  os.makedirs(folder, exist_ok=True)
  for name in model_figures.RUN_FIGURES:
    if source and os.path.isfile(os.path.join(source, name)):
      shutil.copy(os.path.join(source, name), os.path.join(folder, name))
    else:
      noise = np.random.RandomState(len(name)).randint(0, 255, (450, 600), np.uint8)
      Image.fromarray(noise).save(os.path.join(folder, name))


def fake_sweep(root, n, figures=None):
  """n scored runs: 2 models x 2 data sets x 5 betas x seeds."""
  rng = np.random.RandomState(0)
  for i in range(n):
    model, dataset = ("echo", "vae")[i % 2], ("dsprites", "ds_corr")[(i // 2) % 2]
    beta, seed = float((1, 2, 4, 8, 16)[(i // 4) % 5]), i // 20
    d = os.path.join(root, rundir.run_name(dataset, model, beta, 0.0, seed))
    os.makedirs(d)
    with open(os.path.join(d, rundir.RUN_CONFIG), "w") as f:
      f.write(f"dataset.name = '{dataset}'\nmodel.name = '{model}'\nmodel.beta = {beta}\n"
              f"model.gamma = 0.0\ntrain.seed = {seed}\n")
    scores = {code: {"factor_vae": {"eval_accuracy": float(rng.uniform(0.5, 0.9))},
                     "mig": {"discrete_mig": float(rng.uniform(0.0, 0.3))}}
              for code in ("mean", "sample")}
    results = {"dataset": dataset, "model": model, "beta": beta, "gamma": 0.0, "seed": seed,
               "config": "", "training": {
                   "step": 30000, "weights": f"{i:016x}", "final_losses_last_100_steps": {
                       "rate": 10 / beta, "distortion": 50 + beta}},
               "scores": provenance.seal({
                   "step": 30000, "weights": f"{i:016x}", "metrics": scores,
                   "eval_on": "dsprites", "seed": 0, "departures_from_paper": {},
                   "settings": {}})}
    with open(os.path.join(d, rundir.RESULTS_FILE), "w") as f:
      json.dump(results, f)
    fake_figures(os.path.join(d, rundir.FIGURES_DIR), figures)


def main():
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  p = checks.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--runs", type=checks.int_at_least(1), default=100)
  p.add_argument("--repeats", type=checks.int_at_least(1), default=5)
  p.add_argument("--figures", help="a run's figures/ folder to copy into every run")
  args = p.parse_args()
  try:
    browser.find_chromium()
  except FileNotFoundError as e:
    p.error(str(e))
  print(f"machine: {device.label(device.describe())}")
  with tempfile.TemporaryDirectory() as tmp:
    runs = os.path.join(tmp, "runs")
    fake_sweep(runs, args.runs, args.figures)
    start = time.perf_counter()
    aggregate.main([runs])
    seconds = time.perf_counter() - start
    page = os.path.join(runs, aggregate.REPORT_FILE)
    size = os.path.getsize(page)
    script, wall = [], []
    for _ in range(args.repeats):
      start = time.perf_counter()
      script.append(browser.ready_ms(browser.dump_dom(page)))
      wall.append(time.perf_counter() - start)
  print(f"\n{args.runs} runs: report.html {size / 1e3:.0f} kB, aggregate.py {seconds:.1f} s")
  print(f"page ready (its script's last line): median {statistics.median(script):.0f} ms, "
        f"max {max(script):.0f} ms over {args.repeats} loads")
  print(f"chromium --dump-dom wall time (with browser start): median "
        f"{statistics.median(wall):.2f} s")


if __name__ == "__main__":
  main()
