"""Weights fingerprint of every model after a fixed-seed 200-step tiny run: equal fingerprints
before and after a refactoring mean it changed no number (compare on one machine and thread count).

    python scripts/fingerprints.py --out before.json     # then, after the change:
    python scripts/fingerprints.py --compare before.json
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import gin_compat
from echo_suite.models import registry


def cases():
  """(label, model, gamma or None): every model at its default weights, and with FactorVAE's
  discriminator where it has one."""
  out = [(f"{spec.name}_default", spec.name, None) for spec in registry.MODELS.values()]
  return out + [(f"{spec.name}_gamma5", spec.name, 5.0) for spec in registry.MODELS.values()
                if spec.discriminator]


def fingerprint(model, gamma, steps=200, seed=3):
  with tempfile.TemporaryDirectory() as out:
    cmd = [sys.executable, os.path.join(ROOT, "disentanglement.py"), "--model", model,
           "--dataset", "ds_corr", "--steps", str(steps), "--seed", str(seed), "--no_eval",
           "--no_progress", "--threads", "2", "--output_dir", out,
           "--gin_file", os.path.join(ROOT, "gin_configs", "quick.gin"),
           "--gin_file", os.path.join(ROOT, "tests", "tiny.gin")]
    if gamma is not None:
      cmd += ["--gamma", str(gamma)]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    with open(os.path.join(out, "results.json")) as f:
      return json.load(f)["training"]["weights"]


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  p = checks.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--out", type=checks.output_file, help="write the fingerprints here (JSON)")
  p.add_argument("--compare", help="compare with fingerprints written earlier (JSON)")
  args = p.parse_args(argv)
  earlier = None
  if args.compare:
    try:
      with open(args.compare) as f:
        earlier = json.load(f)
    except (OSError, ValueError) as e:  # json's decoding errors are ValueErrors
      p.error(f"--compare {args.compare!r}: {e}")
    if not isinstance(earlier, dict):
      p.error(f"--compare {args.compare!r} holds no fingerprints (a JSON object)")
  now, differ = {}, []
  for label, model, gamma in cases():
    now[label] = fingerprint(model, gamma)
    was = (earlier or {}).get(label)
    status = "" if earlier is None else ("  new" if was is None else
                                         "  same" if was == now[label] else f"  DIFFERS ({was})")
    differ += [label] if was not in (None, now[label]) else []
    print(f"{label:<24} {now[label]}{status}", flush=True)
  if args.out:
    atomic_io.write_json(args.out, now)
  return 1 if differ else 0
