"""MI estimators against known truth: correlated Gaussians over a range of true MI values.

    python scripts/mi_benchmark.py [--dim 5] [--mis 0.5 1 2 4 6 8] [--out docs]

Writes mi_benchmark.png (estimate against truth, the InfoNCE log-batch ceiling drawn) and
mi_benchmark.csv (estimate and error per estimator and true MI).
"""
import argparse
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import atomic_io  # noqa: E402
import checks  # noqa: E402
import gin_compat  # noqa: E402

from figures.style import plt, save  # noqa: E402
from metrics import mi_estimators as mie  # noqa: E402


def run(dim, mis, n, epochs, batch_size, critic, seed):
  rows = []
  for true_mi in mis:
    rho = mie.rho_for_mi(dim, true_mi)
    x, z = mie.correlated_gaussians(n, dim, rho, seed=seed)
    held_x, held_z = mie.correlated_gaussians(n // 2, dim, rho, seed=seed + 1)
    for name in mie.ESTIMATORS:
      est = mie.MIEstimator(name, critic, hidden=(128, 128), seed=seed)
      est.fit(x, z, epochs=epochs, batch_size=batch_size, progress=False)
      value = est.estimate(held_x, held_z, batch_size)
      rows.append({"estimator": name, "true_mi": true_mi, "estimate": value,
                   "error": value - true_mi})
      print(f"true {true_mi:5.2f}  {name:<8} {value:6.3f}  (error {value - true_mi:+.3f})",
            flush=True)
  return rows


def figure(rows, batch_size, path, dim):
  fig, ax = plt.subplots(figsize=(6, 4.5))
  top = max(r["true_mi"] for r in rows)
  ax.plot([0, top], [0, top], color="black", lw=1, label="true MI")
  ax.axhline(math.log(batch_size), color="tab:red", ls=":",
             label=f"InfoNCE ceiling log {batch_size} = {math.log(batch_size):.2f}")
  for name, marker in zip(mie.ESTIMATORS, "osD"):
    sel = [r for r in rows if r["estimator"] == name]
    ax.plot([r["true_mi"] for r in sel], [r["estimate"] for r in sel], marker=marker, label=name)
  ax.set_xlabel("true I(x; z) (nats)"), ax.set_ylabel("estimate (nats)")
  ax.set_title(f"correlated Gaussians, d = {dim}, batch {batch_size}")
  ax.legend(fontsize=8)
  return save(fig, path)


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--dim", type=int, default=5)
  p.add_argument("--mis", type=float, nargs="+", default=[0.5, 1, 2, 4, 6, 8])
  p.add_argument("--n", type=int, default=16384, help="training pairs")
  p.add_argument("--epochs", type=int, default=10)
  p.add_argument("--batch_size", type=int, default=128)
  p.add_argument("--critic", choices=mie.CRITICS, default="separable")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--out", default="docs")
  args = p.parse_args(argv)
  # --n >= 2: half as many pairs are held out to estimate on
  for name, minimum in {"dim": 1, "n": 2, "epochs": 1, "batch_size": 1}.items():
    if getattr(args, name) < minimum:
      p.error(f"--{name} {getattr(args, name)} must be >= {minimum}")
  if args.seed < 0:
    p.error(f"--seed {args.seed} must be >= 0")
  bad = [m for m in args.mis if not (math.isfinite(m) and m > 0)]
  if bad:
    p.error(f"--mis {bad}: each must be a finite number > 0 (nats)")
  try:
    checks.check_output_folder("--out", args.out)
  except ValueError as e:
    p.error(str(e))
  os.makedirs(args.out, exist_ok=True)
  rows = run(args.dim, args.mis, args.n, args.epochs, args.batch_size, args.critic, args.seed)
  atomic_io.write_csv(os.path.join(args.out, "mi_benchmark.csv"), list(rows[0]), rows)
  print("wrote", figure(rows, args.batch_size, os.path.join(args.out, "mi_benchmark.png"),
                        args.dim))
  return 0


if __name__ == "__main__":
  sys.exit(main())
