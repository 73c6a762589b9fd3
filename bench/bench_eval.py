"""Scoring speed with the paper's sample sizes (FactorVAE score + MIG on the full dSprites): the
mean code through the self-filling code table (each image encoded once, when first drawn), the
sampled code from the same table (no images: stored f(x) and log s(x)), and, for MIG only, the
sampled code through images (the path the table replaces).

    python bench/bench_eval.py [--run RUN_DIR] [--out bench/eval.json]
    (a trained run; default: an untrained Echo model)
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from echo_suite import gin_compat

import numpy as np

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite.data import registry as data_registry
from echo_suite import device
from echo_suite.commands import train as disentanglement
from echo_suite import rundir
from echo_suite.metrics import code_table, evaluate, scores
from echo_suite.models.autoencoder import Autoencoder


def score_both(data, representation_function):
  fvae = scores.factor_vae_score(data, representation_function, np.random.RandomState(0))
  mig = scores.mig_score(data, representation_function, np.random.RandomState(0))
  return fvae["eval_accuracy"], mig["discrete_mig"]


def main():
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  parser = checks.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--run", help="trained run directory (default: an untrained model)")
  parser.add_argument("--out", type=checks.output_file, help="also write the timings as JSON here")
  args = parser.parse_args()
  if args.run:
    try:
      rundir.check_trained("--run", args.run)
    except ValueError as e:
      parser.error(str(e))
  if args.run:
    model, _ = disentanglement.restore(args.run)
  else:
    model = Autoencoder(name="echo")
  data = data_registry.make_dataset("dsprites")
  out = {"device": device.describe(), "model": model.model_name}
  print(f"device: {device.label(out['device'])}")

  start = time.perf_counter()
  table = evaluate.load_table(model.channel_params_function, data, None)
  mean = score_both(table, table.representation_function)
  out["mean_table_s"] = time.perf_counter() - start
  out["images_encoded"] = int(len(table.indices))
  print(f"mean code, table: FactorVAE {mean[0]:.3f}, MIG {mean[1]:.3f} in "
        f"{out['mean_table_s']:.1f} s ({out['images_encoded']:,} images encoded)")

  start = time.perf_counter()
  sampled = score_both(table, table.sampled_representation_function(model.sample_from_params, 0))
  out["sample_table_s"] = time.perf_counter() - start
  out["images_encoded_after_sample"] = int(len(table.indices))
  print(f"sampled code, table: FactorVAE {sampled[0]:.3f}, MIG {sampled[1]:.3f} in "
        f"{out['sample_table_s']:.1f} s")

  from echo_suite.quiet_tensorflow import tf
  generator, rng = tf.random.Generator.from_seed(0), np.random.RandomState(1)
  start = time.perf_counter()
  mig_images = scores.mig_score(data, lambda images: model.sample_codes(
      images, data.sample_observations(code_table.NOISE_POOL, rng), generator),
      np.random.RandomState(0))["discrete_mig"]
  out["sample_images_mig_s"] = time.perf_counter() - start
  fresh = evaluate.load_table(model.channel_params_function, data, None)
  start = time.perf_counter()
  mig_table = scores.mig_score(fresh, fresh.sampled_representation_function(
      model.sample_from_params, 0), np.random.RandomState(0))["discrete_mig"]
  out["sample_table_mig_s"] = time.perf_counter() - start
  print(f"sampled code, MIG alone: images {out['sample_images_mig_s']:.1f} s ({mig_images:.3f}), "
        f"table {out['sample_table_mig_s']:.1f} s ({mig_table:.3f}, encoding included)")
  if args.out:
    atomic_io.write_json(args.out, out)


if __name__ == "__main__":
  main()
