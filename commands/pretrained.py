"""Models shipped in the repository (pretrained/): rescore one and draw it without training.

    python scripts/pretrained.py list                                   # what is shipped
    python scripts/pretrained.py rescore dsprites_echo_b1_g0_s0_30k     # paper settings, minutes
    python scripts/pretrained.py rescore NAME --quick                   # the demo's metric settings
    python scripts/pretrained.py rescore NAME --metrics dci sap --output_dir runs/mine
    python scripts/pretrained.py pack RUNS_DIR/steps30000/dsprites_echo_b1_g0_s0   # maintainers

A shipped model is a run directory without checkpoints: its encoder and decoder weights, its
run_config.gin, config.gin, eval_config.gin, scores.csv, results.json (training block with the
weights fingerprint, and the scores it was trained and scored with), history.jsonl (its training curves)
and quick_scores.json (its scores at
the demo's metric settings, gin_configs/demo.gin, measured when it was packed). `rescore` copies it
into OUTPUT_DIR (default runs/pretrained/NAME), checks that the weights are the ones results.json
names (refused otherwise), scores them as `disentanglement.py --eval_only` does (the run's own
evaluation settings unless overridden), draws every model figure (latent traversals among them)
into OUTPUT_DIR/figures/, and prints the recorded scores beside the new ones. `pack` ships a
finished, scored run and rewrites pretrained/README.md, the index.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import tempfile

import echo_suite
from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import device
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.metrics import names

PRETRAINED_DIR = os.path.join(echo_suite.ROOT, "pretrained")
INDEX_FILE = "README.md"
QUICK_SCORES_FILE = "quick_scores.json"
# What a shipped model holds (with QUICK_SCORES_FILE).
RUN_FILES = (rundir.RUN_CONFIG, rundir.CONFIG_FILE, rundir.EVAL_CONFIG_FILE, rundir.RESULTS_FILE,
             rundir.SCORES_FILE, *rundir.WEIGHTS_FILES.values())
SHIPPED_FILES = RUN_FILES + (QUICK_SCORES_FILE,)
OPTIONAL_FILES = (rundir.HISTORY_FILE,)  # the training curves' data, when the run kept it
DEMO_GIN = os.path.join(echo_suite.ROOT, "gin_configs", "demo.gin")
OUTPUT_ROOT = os.path.join("runs", "pretrained")  # rescore's default: OUTPUT_ROOT/NAME
PACK_PREFIX = ".pack-"  # a model being packed: renamed to its NAME when whole
TOLERANCE = 0.01  # recorded against new scores: the last bits of floats differ between CPU kinds


def quick_bindings():
  """The demo's metric settings (the eval_* lines of gin_configs/demo.gin): `--quick`."""
  with open(DEMO_GIN, encoding="utf-8") as f:
    return tuple(line.strip() for line in f if line.strip().startswith("eval_"))


def shipped_names(shipped_dir=PRETRAINED_DIR):
  """The names of the shipped models (folders holding every SHIPPED_FILES), sorted."""
  if not os.path.isdir(shipped_dir):
    return []
  return sorted(n for n in os.listdir(shipped_dir) if not n.startswith(".") and all(
      os.path.isfile(os.path.join(shipped_dir, n, f)) for f in SHIPPED_FILES))


def shipped_path(name, shipped_dir=PRETRAINED_DIR):
  """pretrained/NAME; ValueError naming the shipped models when NAME is not one (or the file an
  incomplete one lacks)."""
  known = shipped_names(shipped_dir)
  folder = os.path.join(shipped_dir, name)
  if name not in known and os.sep not in name and not name.startswith(".") and \
      os.path.isdir(folder):
    lacking = [f for f in SHIPPED_FILES if not os.path.isfile(os.path.join(folder, f))]
    raise ValueError(f"shipped model {name!r} is incomplete: {folder} lacks {lacking} (restore "
                     "it with git checkout -- pretrained)")
  if name not in known:
    raise ValueError(f"no shipped model {name!r}; shipped: {known or 'none'} "
                     f"(python scripts/pretrained.py list)")
  return os.path.join(shipped_dir, name)


def read_json(path):
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def ship_name(run, steps):
  """NAME of run directory `run` (its name) trained `steps` steps when shipped, e.g. ..._s0_30k."""
  budget = f"{steps // 1000}k" if steps % 1000 == 0 else f"{steps}steps"
  return f"{run}_{budget}"


def shipped_as(run, steps, weights, shipped_dir=PRETRAINED_DIR):
  """The shipped NAME of the run with these weights, or None when it is not shipped."""
  name = ship_name(run, steps)
  if name not in shipped_names(shipped_dir):
    return None
  trained = _trained(os.path.join(shipped_dir, name))
  return name if trained is not None and trained[1] == weights else None


def _new_folder(parent, prefix):
  """A fresh folder in `parent`, readable by all as a folder made by mkdir is (mkdtemp's is not)."""
  path = tempfile.mkdtemp(dir=parent, prefix=prefix)
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(path, 0o777 & ~umask)
  return path


def _copy_files(source, dest):
  """Copy RUN_FILES (and OPTIONAL_FILES the source has) that `dest` lacks from `source`, each
  atomically (a copy cut by a kill resumes)."""
  for name in RUN_FILES + tuple(f for f in OPTIONAL_FILES
                                if os.path.isfile(os.path.join(source, f))):
    target = os.path.join(dest, name)
    if os.path.exists(target):
      continue
    with atomic_io.atomic_path(target, suffix=os.path.splitext(name)[1]) as tmp:
      shutil.copyfile(os.path.join(source, name), tmp)


def _trained(folder):
  """(step, weights) of a folder's results.json training block, or None without one."""
  try:
    results = rundir.RunDirectory(folder).read_results()
  except rundir.UnreadableFileError:
    return None
  return None if results is None else (results["training"].get("step"),
                                       results["training"].get("weights"))


def check_output(source, output_dir):
  """Refuse an `output_dir` in which the model in folder `source` cannot be scored, before any
  work: a file, a folder of other things, another run, or the same run with other weights (a run
  of the same settings trained elsewhere, or an older copy of a model shipped again).

  Raises:
    ValueError naming the folder.
  """
  rundir.check_usable(output_dir)
  if not rundir.is_run_dir(output_dir):
    return
  if rundir.read_identity(output_dir) != rundir.read_identity(source):
    raise ValueError(f"--output_dir {output_dir!r} holds another run than "
                     f"{os.path.basename(source)!r}; choose a new or empty directory")
  held, shipped = _trained(output_dir), _trained(source)
  if held is not None and held != shipped:
    raise ValueError(f"--output_dir {output_dir!r} holds weights {held[1]} (step {held[0]}), not "
                     f"the shipped {os.path.basename(source)!r} (weights {shipped[1]}, step "
                     f"{shipped[0]}); choose a new or empty directory")
  if os.path.isdir(os.path.join(output_dir, rundir.CHECKPOINTS_DIR)):
    raise ValueError(f"--output_dir {output_dir!r} holds a trained run with checkpoints, not a "
                     "copy of a shipped model; choose a new or empty directory")


def prepare(source, output_dir):
  """Make `output_dir` the run directory of the model in folder `source`: claimed for this
  process, its files copied in (those it lacks: a copy cut by a kill resumes; an earlier rescore's
  scores and figures stay until rescored). Returns its path.

  Raises:
    ValueError: `output_dir` holds something else (check_output).
  """
  check_output(source, output_dir)
  with rundir.claim(output_dir, rundir.read_identity(source)):
    check_output(source, output_dir)  # again, now that no other process writes in it
    _copy_files(source, output_dir)
  return output_dir


def headline_scores(block):
  """{(representation, metric): headline value} of a scores block (errors left out)."""
  out = {}
  for kind, by_metric in (block or {}).get("metrics", {}).items():
    for metric, values in by_metric.items():
      head = names.HEADLINE.get(metric)
      if head in values and not values.get("error"):
        out[(kind, metric)] = values[head]
  return out


def compare(recorded, now):
  """Lines setting recorded scores beside new ones, and the (representation, metric) pairs whose
  difference exceeds TOLERANCE. Compared only when both were scored with the same settings."""
  if recorded is None:
    return ["no recorded scores to compare with"], []
  if recorded.get("settings") != now.get("settings"):
    return ["recorded scores are of other evaluation settings: nothing to compare"], []
  before, after = headline_scores(recorded), headline_scores(now)
  lines = [f"weights {now.get('weights')} at step {now.get('step'):,}, scored on "
           f"{now.get('eval_on')}: recorded on {device.label(recorded.get('device'))}; now on "
           f"{device.label(now.get('device'))}:"]
  off = []
  for key in sorted(set(before) & set(after)):
    diff = after[key] - before[key]
    flag = "" if abs(diff) <= TOLERANCE else f"  differs by more than {TOLERANCE}"
    off += [key] if flag else []
    lines.append(f"  {key[0]:<7}{key[1]:<12} recorded {before[key]:.4f}  now {after[key]:.4f}  "
                 f"({diff:+.4f}){flag}")
  return lines, off


def rescore(name, output_dir=None, quick=False, metrics=None, representation=None, bindings=(),
            progress=True, shipped_dir=PRETRAINED_DIR):
  """Score shipped model NAME in a run directory of its own and draw its figures.

  Args:
    name: a shipped model (shipped_names).
    output_dir: its run directory (default OUTPUT_ROOT/NAME).
    quick: score at the demo's metric settings (quick_bindings), as quick_scores.json records.
    metrics, representation: as disentanglement.py's flags (None: the run's own).
    bindings: evaluation.* / eval_*.* gin bindings.

  Returns:
    (exit code, output_dir, recorded scores block or None, new results dict or None).
  """
  source = shipped_path(name, shipped_dir)
  output_dir = output_dir or os.path.join(OUTPUT_ROOT, name)
  code, results = score_copy(source, output_dir, quick, metrics, representation, bindings,
                             progress)
  if code:
    return code, output_dir, None, None
  recorded = (read_json(os.path.join(source, QUICK_SCORES_FILE)) if quick else
              read_json(os.path.join(source, rundir.RESULTS_FILE)).get("scores"))
  return 0, output_dir, recorded, results


def score_copy(source, output_dir, quick=False, metrics=None, representation=None, bindings=(),
               progress=True):
  """Copy the model in folder `source` to `output_dir` (prepare) and score it there as
  `disentanglement.py --eval_only` does. Returns (exit code, results dict or None)."""
  from echo_suite.commands import train
  check_output(source, output_dir)  # before TensorFlow starts
  argv = ["--eval_only", "--output_dir", output_dir]
  argv += ["--metrics", *metrics] if metrics else []
  argv += ["--representation", *representation] if representation else []
  for binding in (quick_bindings() if quick else ()) + tuple(bindings):
    argv += ["--gin_param", binding]
  argv += [] if progress else ["--no_progress"]
  args = train.parse_args(argv)
  # Every flag and binding is checked against the model's own config before anything is copied.
  train.check_eval_only_flags(args)
  train.load_tensorflow_modules()
  train.configure(args, base_files=[os.path.join(source, rundir.CONFIG_FILE),
                                    os.path.join(source, rundir.EVAL_CONFIG_FILE)])
  train.evaluate.settings()
  prepare(source, output_dir)
  train.check_command_line(args)
  code = train.run(args)
  return code, (None if code else rundir.RunDirectory(output_dir).read_results())


def pack(run_dir, shipped_dir=PRETRAINED_DIR, progress=True):
  """Ship the finished, scored run in `run_dir` as pretrained/NAME (ship_name), with its scores at
  the demo's metric settings, and rewrite the index. Returns NAME.

  Raises:
    ValueError: the run is not finished and scored, or another model is shipped as NAME.
  """
  run = rundir.RunDirectory(run_dir)
  try:
    results = run.read_results()
  except rundir.UnreadableFileError as e:
    raise ValueError(str(e)) from None
  missing = [f for f in RUN_FILES if not os.path.isfile(os.path.join(run_dir, f))]
  if results is None or missing:
    raise ValueError(f"{run_dir!r} is not a finished run (missing "
                     f"{missing or [rundir.RESULTS_FILE]})")
  reason = provenance.stale_reason(results)
  if reason:
    raise ValueError(f"{run_dir!r} cannot be shipped: {reason}")
  name = ship_name(os.path.basename(os.path.abspath(run_dir)), results["training"]["step"])
  if name.startswith("."):
    raise ValueError(f"{run_dir!r}: a run directory named {name!r} would ship hidden; rename it")
  dest = os.path.join(shipped_dir, name)
  if os.path.exists(dest):
    held = _trained(dest)
    shipped = held[1] if held else None
    if shipped != results["training"]["weights"]:
      raise ValueError(f"{dest} ships weights {shipped}, not this run's "
                       f"{results['training']['weights']}; remove it first")
    print(f"{name}: already shipped (weights {shipped})")
    return name
  os.makedirs(shipped_dir, exist_ok=True)
  for stale in glob.glob(os.path.join(glob.escape(shipped_dir), PACK_PREFIX + "*")):
    print(f"note: removing {stale}, left by a pack that was stopped (one pack at a time)")
    shutil.rmtree(stale)
  tmp = _new_folder(shipped_dir, PACK_PREFIX)
  try:
    _copy_files(run_dir, tmp)
    with tempfile.TemporaryDirectory() as scratch:  # its quick scores, from the files as shipped
      code, now = score_copy(tmp, os.path.join(scratch, "run"), quick=True, progress=progress)
      if code:
        raise ValueError(f"{run_dir!r}: scoring it at the demo's settings failed (exit {code})")
    atomic_io.write_json(os.path.join(tmp, QUICK_SCORES_FILE), now["scores"])
    os.rename(tmp, dest)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  atomic_io.write_text(os.path.join(shipped_dir, INDEX_FILE), index_text(shipped_dir))
  return name


def _score(block, kind, metric):
  value = headline_scores(block).get((kind, metric))
  return "–" if value is None else f"{value:.4f}"


def index_text(shipped_dir=PRETRAINED_DIR):
  """pretrained/README.md: every shipped model with its settings, fingerprint and scores."""
  lines = ["# Shipped models", "",
           "Written by `python scripts/pretrained.py pack RUN` (do not edit by hand). Rescore one "
           "and draw its traversals, without training:", "", "```bash",
           "python scripts/pretrained.py rescore NAME            # its own settings (the paper's)",
           "python scripts/pretrained.py rescore NAME --quick    # the demo's metric settings",
           "```", "",
           "Every run of the Table 2 study, shipped or not, with its weights fingerprint and the "
           "command that retrains it: [results/table2_study/runs.md]"
           "(../results/table2_study/runs.md).", "",
           "| name | model | data | beta | gamma | seed | steps | weights | FactorVAE sampled / "
           "mean | MIG sampled / mean | trained on |", "|---" * 11 + "|"]
  for name in shipped_names(shipped_dir):
    results = read_json(os.path.join(shipped_dir, name, rundir.RESULTS_FILE))
    tr, block = results["training"], results.get("scores")
    lines.append(
        f"| {name} | {results['model']} | {results['dataset']} | {results['beta']:g} | "
        f"{results['gamma']:g} | {results['seed']} | {tr['step']:,} | {tr['weights']} | "
        f"{_score(block, 'sample', 'factor_vae')} / {_score(block, 'mean', 'factor_vae')} | "
        f"{_score(block, 'sample', 'mig')} / {_score(block, 'mean', 'mig')} | "
        f"{device.label(tr.get('device'))} |")
  if not shipped_names(shipped_dir):
    lines.append("| none yet | | | | | | | | | | |")
  return "\n".join(lines) + "\n"


def parse_args(argv=None):
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  sub = p.add_subparsers(dest="command", required=True)
  sub.add_parser("list", help="the shipped models")
  r = sub.add_parser("rescore", help="score a shipped model and draw it, without training")
  r.add_argument("name", help="a shipped model (list)")
  r.add_argument("--output_dir", help=f"its run directory (default {OUTPUT_ROOT}/NAME)")
  r.add_argument("--quick", action="store_true",
                 help="the demo's metric settings (gin_configs/demo.gin), as quick_scores.json "
                      "recorded them")
  r.add_argument("--metrics", nargs="+", help=f"metrics (default: the run's own): "
                                              f"{list(names.METRIC_NAMES)}")
  r.add_argument("--representation", nargs="+", choices=names.REPRESENTATIONS)
  r.add_argument("--gin_param", action="append", default=[],
                 help='an evaluation setting, "eval_mig.num_train = 2000" (repeatable)')
  r.add_argument("--no_progress", action="store_true")
  k = sub.add_parser("pack", help="ship a finished, scored run (maintainers)")
  k.add_argument("run_dir")
  k.add_argument("--no_progress", action="store_true")
  return p.parse_args(argv)


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args = parse_args(argv)
  try:
    if args.command == "list":
      print(index_text(), end="")
      return 0
    if args.command == "pack":
      print(f"shipped as {PRETRAINED_DIR}/{pack(args.run_dir, progress=not args.no_progress)}")
      return 0
    if args.metrics:
      names.check_metric_names(args.metrics)
    code, output_dir, recorded, now = rescore(
        args.name, args.output_dir, args.quick, args.metrics, args.representation,
        args.gin_param, progress=not args.no_progress)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  except OSError as e:  # a folder that cannot be made or written
    print(f"error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
    return 2
  if code:
    return code
  lines, off = compare(recorded, now["scores"])
  print("\n".join(lines))
  print(f"scores, figures (latent traversals, factor response, ...): {output_dir}")
  if off:
    print(f"error: {len(off)} score(s) differ from the recorded ones by more than {TOLERANCE}, "
          "more than the last bits of floats explain", file=sys.stderr)
    return 1
  return 0
