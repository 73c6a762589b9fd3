"""MI estimators against known truth: correlated Gaussians over a range of true MI values.

    python scripts/mi_benchmark.py [--dim 5] [--mis 0.5 1 2 4 6 8] [--out results]

Writes mi_benchmark.png (estimate against truth, the InfoNCE log-batch ceiling drawn) and
mi_benchmark.csv (estimate and error per estimator and true MI).
"""
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import gin_compat

from echo_suite.figures.style import plt, save
from echo_suite.metrics import mi_estimators as mie


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
  p = checks.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--dim", type=checks.int_at_least(1), default=5)
  p.add_argument("--mis", type=checks.positive_float, nargs="+", default=[0.5, 1, 2, 4, 6, 8],
                 help="true mutual informations to estimate (nats)")
  p.add_argument("--n", type=checks.int_at_least(2), default=16384,
                 help="training pairs (half as many are held out to estimate on)")
  p.add_argument("--epochs", type=checks.int_at_least(1), default=10)
  p.add_argument("--batch_size", type=checks.int_at_least(1), default=128)
  p.add_argument("--critic", choices=mie.CRITICS, default="separable")
  p.add_argument("--seed", type=checks.int_at_least(0), default=0)
  p.add_argument("--out", type=checks.output_folder, default="results")
  args = p.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  rows = run(args.dim, args.mis, args.n, args.epochs, args.batch_size, args.critic, args.seed)
  atomic_io.write_csv(os.path.join(args.out, "mi_benchmark.csv"), list(rows[0]), rows)
  print("wrote", figure(rows, args.batch_size, os.path.join(args.out, "mi_benchmark.png"),
                        args.dim))
  return 0
