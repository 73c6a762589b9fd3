"""Training throughput at batch 64 of every model on this CPU, in one process: every model of
models/registry.py at its default weights, and each that has one with FactorVAE's discriminator
(gamma 10: vae+TC, echo+TC).

Reports steps/s, achieved GFLOP/s from the analytic FLOP count of the networks
(models.networks.analytic_flops), and the same-process fp32 matmul peak for comparison.

    python bench/bench_training.py [--steps 200] [--json out.json]
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import device
from echo_suite import gin_compat

from echo_suite.quiet_tensorflow import tf

from echo_suite.data import registry as data_registry
from echo_suite.models import networks, registry
from echo_suite.models.autoencoder import Autoencoder


def matmul_peak_gflops(n=1024, repeats=30, trials=5):
  """fp32 GFLOP/s of n x n matmuls in the same TF thread pool as training; best of `trials`."""
  a = tf.random.normal([n, n])
  b = tf.random.normal([n, n])
  mm = tf.function(lambda a, b: tf.matmul(a, b))
  mm(a, b).numpy()
  best = 0.0
  for _ in range(trials):
    start = time.perf_counter()
    for _ in range(repeats):
      c = mm(a, b)
    c.numpy()
    best = max(best, 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9)
  return best


def steps_per_second(name, gamma, steps, batch_size=64):
  model = Autoencoder(name=name, gamma=gamma, d_max=batch_size - 1)
  data = data_registry.make_dataset("dsprites")
  batches = [tf.constant(b) for b, _ in zip(data.batches(batch_size, seed=0), range(50))]
  for b in batches[:5]:  # trace and warm up
    model.train_step(b)["loss"].numpy()
  best = 0.0
  for _ in range(3):  # best of three windows: the machine is shared
    start = time.perf_counter()
    for i in range(steps):
      logs = model.train_step(batches[i % len(batches)])
    logs["loss"].numpy()
    best = max(best, steps / (time.perf_counter() - start))
  return best


def main():
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  parser = checks.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=checks.int_at_least(1), default=100,
                      help="steps per timing window")
  parser.add_argument("--json", type=checks.output_file, help="also write the figures as JSON here")
  args = parser.parse_args()
  where = device.describe()  # every figure below is this machine's: say which kind it is
  print(f"device: {device.label(where)}")
  peak = matmul_peak_gflops()
  print(f"fp32 matmul peak (1024^3, TF, {os.cpu_count()} cores): {peak:.1f} GFLOP/s")
  rows = {}
  cases = [(spec.name, spec.name, None) for spec in registry.MODELS.values()]
  cases += [(f"{spec.name}+TC", spec.name, 10.0) for spec in registry.MODELS.values()
            if spec.discriminator]
  for label, name, gamma in cases:
    sps = steps_per_second(name, gamma, args.steps)
    discriminator = label.endswith("+TC")
    gflops = networks.analytic_flops(64, with_discriminator=discriminator) * sps / 1e9
    rows[label] = {"steps_per_s": sps, "gflops": gflops, "fraction_of_peak": gflops / peak}
  vae_sps = rows["vae"]["steps_per_s"]
  print(f"{'model':<13} {'steps/s':>7} {'GFLOP/s':>8} {'% peak':>7} {'time/vae':>9}")
  for label, row in rows.items():
    row["time_over_vae"] = vae_sps / row["steps_per_s"]
    print(f"{label:<13} {row['steps_per_s']:7.1f} {row['gflops']:8.1f} "
          f"{100 * row['fraction_of_peak']:6.1f}% {row['time_over_vae']:8.2f}x")
  slow = [k for k, r in rows.items() if r["time_over_vae"] > 1.2 and not k.endswith("+TC")]
  print("slower than 1.2x vae's step (discriminator models aside): " + (", ".join(slow) or "none"))
  if args.json:
    atomic_io.write_json(args.json, {"device": where, "matmul_peak_gflops": peak,
                                   "steps_per_window": args.steps, "runs": rows})


if __name__ == "__main__":
  main()
