"""Encode once, score many: FactorVAE score + MIG on a trained model, with the paper's sample
sizes, through images (disentanglement_lib calling the encoder batch by batch) and through the
code table (every dSprites image encoded once in large batches, then table lookups).

    python bench/bench_eval.py --run RUN_DIR      (a trained run; default: a fresh quick model)
"""
import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import dataset  # noqa: E402
import disentanglement  # noqa: E402
from metrics import code_table, scores  # noqa: E402
from models import training  # noqa: E402
from models.autoencoder import Autoencoder  # noqa: E402


def score_both(data, representation_function):
  fvae = scores.factor_vae_score(data, representation_function, np.random.RandomState(0))
  mig = scores.mig_score(data, representation_function, np.random.RandomState(0))
  return fvae["eval_accuracy"], mig["discrete_mig"]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--run", help="trained run directory (default: an untrained model)")
  args = parser.parse_args()
  if args.run:
    disentanglement.configure(disentanglement.parse_args([]),
                              base_files=[os.path.join(args.run, "config.gin")])
    model, _ = training.restore_run(args.run, dataset.make_dataset(),
                                    **{k: disentanglement.train_settings()[k]
                                       for k in ("seed", "batch_size")})
  else:
    model = Autoencoder(name="echo")
  data = dataset.make_dataset("dsprites")

  start = time.perf_counter()
  on_images = score_both(data, model.representation_function)
  t_images = time.perf_counter() - start
  print(f"images: FactorVAE {on_images[0]:.3f}, MIG {on_images[1]:.3f} in {t_images:.1f} s")

  start = time.perf_counter()
  codes = code_table.encode(model.representation_function, data, batch_size=4096)
  t_encode = time.perf_counter() - start
  with tempfile.TemporaryDirectory() as tmp:
    code_table.save(os.path.join(tmp, "codes.npz"), codes, data.kept_indices, data.name,
                    model.weights_fingerprint())
  table = code_table.CodeTableData(data, codes, data.kept_indices)
  on_table = score_both(table, table.representation_function)
  t_table = time.perf_counter() - start
  print(f"table:  FactorVAE {on_table[0]:.3f}, MIG {on_table[1]:.3f} in {t_table:.1f} s "
        f"({t_encode:.1f} s encoding {len(codes):,} images, "
        f"{len(codes) / t_encode:,.0f} images/s)")
  print(f"speed-up of the table path: {t_images / t_table:.2f}x; scores equal: "
        f"{on_images == on_table}")
  print(f"re-scoring from a saved table (no encoding): {t_images / (t_table - t_encode):.1f}x")


if __name__ == "__main__":
  main()
