"""Echo's exact rate against variational MI estimates on a toy channel.

A 2-D Gaussian source x, a 2-D Echo code z = f(x) + S(x) eps with f(x) = tanh(A x) and
s(x) = r sigmoid(B x + c). Theorem 2.2 gives I(x; z) = -E sum_j log s_j(x) exactly; MINE, NWJ and
InfoNCE estimate it from samples, over several seeds.

    python scripts/echo_rate_check.py [--seeds 0 1 2] [--out results]

Writes echo_rate_check.csv / .md (exact value, estimates, spread) and echo_rate_check.png.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import gin_compat

import numpy as np
from echo_suite.quiet_tensorflow import tf

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import echo_noise
from echo_suite.figures.style import plt, save
from echo_suite.metrics import mi_estimators as mie

A = np.array([[2.0, 0.5], [-0.5, 2.0]], np.float32)
B = np.array([[0.8, 0.0], [0.0, -0.8]], np.float32)
C = np.array([0.0, -0.5], np.float32)
D_MAX = 63


def channel_maps(x):
  """f(x) (bounded by 1) and the unclipped log s(x) of the toy channel."""
  return np.tanh(x @ A.T), np.log(1 / (1 + np.exp(-(x @ B.T + C))))


def sample(n, seed, batch=256):
  """n pairs (x, z) through Echo noise built from batches of `batch` examples, shuffled: z_i's
  noise holds f(x_j) of its own batch, so pairs (x_j, z_i) of one batch are not independent, and
  estimators whose negatives come from the same batch would be biased low."""
  rng = np.random.RandomState(seed)
  gen = tf.random.Generator.from_seed(seed)
  channel = echo_noise.EchoChannel(d_max=D_MAX)
  xs, zs = [], []
  for _ in range(n // batch):
    x = rng.randn(batch, 2).astype(np.float32)
    f_x, log_s_x = channel_maps(x)
    xs.append(x)
    zs.append(channel.sample(f_x, log_s_x.astype(np.float32), gen).numpy())
  order = rng.permutation(len(xs) * batch)
  return np.concatenate(xs)[order], np.concatenate(zs)[order]


def exact_rate(n=200000, seed=123):
  """-E log |det S(x)| (Theorem 2.2) by Monte Carlo over the source (the integrand is exact)."""
  x = np.random.RandomState(seed).randn(n, 2).astype(np.float32)
  channel = echo_noise.EchoChannel(d_max=D_MAX)
  return float(np.mean(channel.rate(channel_maps(x)[1].astype(np.float32)).numpy()))


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  p = checks.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--seeds", type=checks.int_at_least(0), nargs="+", default=[0, 1, 2])
  p.add_argument("--n", type=checks.int_at_least(2), default=16384,
                 help="pairs to train on (half as many are held out to estimate on)")
  p.add_argument("--epochs", type=checks.int_at_least(1), default=8)
  p.add_argument("--batch_size", type=checks.int_at_least(1), default=256)
  p.add_argument("--out", type=checks.output_folder, default="results")
  args = p.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  exact = exact_rate()
  print(f"exact rate (Theorem 2.2): {exact:.3f} nats")
  rows = []
  for seed in args.seeds:
    x, z = sample(args.n, seed)
    held_x, held_z = sample(args.n // 2, seed + 1000)
    for name in mie.ESTIMATORS:
      est = mie.MIEstimator(name, "joint", hidden=(64, 64), seed=seed)
      est.fit(x, z, epochs=args.epochs, batch_size=args.batch_size, progress=False)
      value = est.estimate(held_x, held_z, args.batch_size)
      rows.append({"estimator": name, "seed": seed, "estimate": value, "exact": exact})
      print(f"seed {seed}  {name:<8} {value:.3f} nats", flush=True)
  atomic_io.write_csv(os.path.join(args.out, "echo_rate_check.csv"), list(rows[0]), rows)
  lines = ["| estimator | mean estimate (nats) | std over seeds | exact - mean |", "|---|---|---|---|"]
  summary = {}
  for name in mie.ESTIMATORS:
    v = np.array([r["estimate"] for r in rows if r["estimator"] == name])
    summary[name] = (v.mean(), v.std())
    lines.append(f"| {name} | {v.mean():.3f} | {v.std():.3f} | {exact - v.mean():+.3f} |")
  lines.append(f"| exact rate (Thm. 2.2) | {exact:.3f} | 0 | 0 |")
  table = "\n".join(lines) + "\n"
  atomic_io.write_text(os.path.join(args.out, "echo_rate_check.md"), table)
  print(table)
  fig, ax = plt.subplots(figsize=(5.5, 4))
  names = list(summary)
  ax.bar(names, [summary[n][0] for n in names], yerr=[summary[n][1] for n in names],
         capsize=6, color=["tab:blue", "tab:orange", "tab:green"], label="estimate (± std)")
  for name in names:
    vals = [r["estimate"] for r in rows if r["estimator"] == name]
    ax.scatter([name] * len(vals), vals, color="black", s=12, zorder=3)
  ax.axhline(exact, color="tab:red", ls="--", label=f"exact rate {exact:.3f} nats")
  ax.set_ylabel("I(x; z) (nats)")
  ax.set_title(f"Echo toy channel: exact rate vs estimates ({len(args.seeds)} seeds)")
  ax.legend(fontsize=8, loc="lower right")
  print("wrote", save(fig, os.path.join(args.out, "echo_rate_check.png")))
  return 0
