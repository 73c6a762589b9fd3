"""Does the FactorVAE discriminator do its job? For each run: its discriminator's accuracy over
the last logged steps (chance is 0.5) and the total correlation of its codes, estimated with a
Gaussian fit (TC = 1/2 (sum_j log C_jj - log det C), exact for Gaussian codes), of the sampled
code z (what the discriminator sees) and of the mean code, on random dSprites images.

    python scripts/tc_check.py RUN [RUN ...] [--images 10000] [--json out.json]
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import gin_compat

import numpy as np

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite.data import registry as data_registry
from echo_suite.commands import train as disentanglement
from echo_suite import rundir
from echo_suite.metrics import evaluate


def gaussian_total_correlation(codes):
  """TC of a Gaussian with the codes' covariance, in nats: 1/2 (sum_j log C_jj - log det C)."""
  cov = np.cov(np.asarray(codes, np.float64), rowvar=False)
  _, logdet = np.linalg.slogdet(cov)
  return 0.5 * (np.sum(np.log(np.diag(cov))) - logdet)


def last_logged(run, key, n=5):
  """Mean of `key` over the last n lines of the run's history (None if never logged)."""
  values = [row[key] for row in rundir.RunDirectory(run).history() if key in row]
  return float(np.mean(values[-n:])) if values else None


def check(run, images):
  model, results = disentanglement.restore(run)
  data = data_registry.make_dataset("dsprites")
  table = evaluate.load_table(model.channel_params_function, data, None)
  idx = data.sample_indices(images, np.random.RandomState(0))
  sampled = table.sampled_representation_function(model.sample_from_params, 0)(idx)
  return {"run": run, "model": results["model"], "gamma": results["gamma"],
          "step": results["training"]["step"],
          "disc_accuracy": last_logged(run, "disc_accuracy"),
          "tc_sampled_nats": gaussian_total_correlation(sampled),
          "tc_mean_nats": gaussian_total_correlation(table.representation_function(idx))}


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("runs", nargs="+")
  # a covariance of the codes wants many more images than code dimensions
  p.add_argument("--images", type=checks.int_at_least(100), default=10000)
  p.add_argument("--json", type=checks.output_file, help="also write the rows here")
  args = p.parse_args(argv)
  try:
    for run in args.runs:
      rundir.check_trained("run", run)
  except ValueError as e:
    p.error(str(e))
  rows = [check(run, args.images) for run in args.runs]
  for r in rows:
    acc = "-" if r["disc_accuracy"] is None else f"{r['disc_accuracy']:.3f}"
    print(f"{r['model']:>5} gamma {r['gamma']:>4g} step {r['step']:>6,}: discriminator accuracy "
          f"{acc}, TC sampled {r['tc_sampled_nats']:.3f} nats, mean {r['tc_mean_nats']:.3f} nats")
  if args.json:
    atomic_io.write_json(args.json, rows)
  return 0
