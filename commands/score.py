"""Score a representation trained anywhere with disentanglement_lib's metrics, as a suite run is.

    python score.py --codes CODES.npz [--data dsprites] [--metrics factor_vae mig irs]
    python score.py --function path/to/file.py:encode --output_dir runs/scored_pca

CODES.npz holds `codes` (N, d): one row per image of the evaluation set in its canonical order
(the order of `python dataset.py --export`; for ds_corr its kept images, increasing index), or
any rows with an `indices` array of their flat dataset indices. FILE.py:NAME is a Python callable
images (N, 64, 64, C) float32 in [0, 1] (C = 1 for dSprites, 3 for colour and noise) -> codes
(N, d) numpy, imported and run in batches (no
TensorFlow needed in it). Writes OUTPUT_DIR/results.json (the scores block, with the SHA-256 of
the codes file, or for a function the fingerprint of the codes it returned, in place of a
weights fingerprint; the function file's SHA-256 is recorded beside it), scores.csv
and figures/factor_response.png. Bad input is a one-line error before anything is written.
The same as a function: `metrics.external.score` (re-exported here as `score`).
"""
import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import time
import traceback

import numpy as np

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import device
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.data import registry as data_registry
from echo_suite.metrics import names

# The modules that need TensorFlow are imported in `main` after the command line is checked.
evaluate = external = None


def __getattr__(name):
  """`score.score`, the Python API by its short name (metrics.external.score), imported on use."""
  if name == "score":
    from echo_suite.metrics.external import score
    return score
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FIGURE = "factor_response.png"


def parse_args(argv=None):
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  source = p.add_mutually_exclusive_group(required=True)
  source.add_argument("--codes", help="npz with 'codes' (N, d) [and 'indices' (N,)]")
  source.add_argument("--function", help="FILE.py:NAME, a callable images -> codes")
  p.add_argument("--data",
                 help=f"evaluation set, one of {list(data_registry.DATASET_NAMES)} (default: "
                      "the one a suite code table names in its 'dataset' field, else dsprites)")
  p.add_argument("--metrics", nargs="+", default=list(names.DEFAULT_METRICS),
                 help=f"metrics (default factor_vae mig): {list(names.METRIC_NAMES)}")
  p.add_argument("--seed", type=checks.int_at_least(0), default=0,
                 help="evaluation seed (default 0)")
  p.add_argument("--gin_param", action="append", default=[],
                 help='a metric setting, "eval_mig.num_train = 2000" (repeatable)')
  p.add_argument("--dsprites_npz", help="official npz instead of the procedural images")
  p.add_argument("--data_path", help="a file-based data set's file or folder (default: found "
                                     "under $DISENTANGLEMENT_LIB_DATA)")
  p.add_argument("--batch_size", type=checks.int_at_least(1), default=256,
                 help="images per call of --function")
  p.add_argument("--output_dir", help="where results go (default runs/scored_NAME)")
  p.add_argument("--no_progress", action="store_true")
  return p.parse_args(argv)


def parse_settings(bindings):
  """'eval_<metric>.<arg> = value' lines -> {key: value}; ValueError naming a bad one."""
  import ast
  out = {}
  for line in bindings:
    key, sep, value = line.partition("=")
    key = key.strip()
    if not sep or not key.startswith("eval_") or "." not in key:
      raise ValueError(f"--gin_param {line!r}: expected a metric setting "
                       "'eval_<metric>.<argument> = value'")
    try:
      out[key] = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
      raise ValueError(f"--gin_param {line!r}: {value.strip()!r} is not a Python literal") \
          from None
  return out


def check_codes_path(path):
  """ValueError unless the --codes file exists."""
  if not os.path.isfile(path):
    raise ValueError(f"--codes {path!r}: no such file")


def recorded_dataset(path):
  """The data set a codes file names in its 'dataset' field (a suite code table does), or None
  (no such field, or a file load_codes will refuse)."""
  try:
    with np.load(path, allow_pickle=False) as f:
      return str(f["dataset"]) if "dataset" in f.files else None
  except Exception:  # noqa: BLE001  (load_codes names what is wrong with the file)
    return None


def evaluation_set(data, codes=None):
  """--data, checked against the data set the codes file names (codes of color_dsprites scored
  against dsprites' factors would be silently wrong); without --data, the file's, else dsprites."""
  recorded = recorded_dataset(codes) if codes else None
  if data and recorded and data != recorded:
    raise ValueError(f"--data {data!r}: the codes in {codes!r} are of {recorded!r} (its "
                     f"'dataset' field); pass --data {recorded} or leave --data out")
  return data or recorded or "dsprites"


def load_codes(path, data):
  """(codes, indices, sha256) of a codes file, checked."""
  check_codes_path(path)
  try:
    with np.load(path, allow_pickle=False) as f:
      fields = {k: f[k] for k in f.files}
  except Exception as e:  # noqa: BLE001  (not a zip, a pickled field, a cut member)
    raise ValueError(f"--codes {path!r} is not a readable npz of numeric arrays "
                     f"({type(e).__name__})") from None
  if "codes" not in fields:
    raise ValueError(f"--codes {path!r} has fields {sorted(fields)}; expected 'codes' "
                     "(and optionally 'indices')")
  codes, indices = external.check_codes(fields["codes"], data, fields.get("indices"),
                                        source=f"--codes {path}")
  return codes, indices, external.sha256_of(path)


def check_function_spec(spec):
  """(path, name) of FILE.py:NAME; ValueError unless the file exists."""
  path, sep, name = spec.rpartition(":")
  if not sep or not path.endswith(".py") or not name.isidentifier():
    raise ValueError(f"--function {spec!r}: expected FILE.py:NAME")
  if not os.path.isfile(path):
    raise ValueError(f"--function {spec!r}: no such file {path!r}")
  return path, name


def _where(error, path):
  """'FILE, line N: Type: message' of an exception raised by the user's file (its deepest frame
  in that file; the file alone when none is)."""
  if isinstance(error, SyntaxError) and error.filename == path:
    return f"{path}, line {error.lineno}: SyntaxError: {error.msg}"
  frames = [f for f in traceback.extract_tb(error.__traceback__)
            if os.path.abspath(f.filename) == os.path.abspath(path)]
  line = f", line {frames[-1].lineno}" if frames else ""
  message = str(error).strip().splitlines()[0] if str(error).strip() else ""
  return f"{path}{line}: {type(error).__name__}" + (f": {message}" if message else "")


class _SiblingFinder(importlib.abc.MetaPathFinder):
  """Finds top-level modules in one folder, after every other finder: a --function file can
  import the files beside it, and can shadow nothing (no entry is added to the import path)."""

  def __init__(self, folder):
    self.folder = folder

  def find_spec(self, name, path=None, target=None):
    if path is not None:  # a submodule: its package's own path finds it
      return None
    return importlib.machinery.PathFinder.find_spec(name, [self.folder])


def _find_siblings_of(path):
  folder = os.path.dirname(os.path.abspath(path))
  if not any(isinstance(f, _SiblingFinder) and f.folder == folder for f in sys.meta_path):
    sys.meta_path.append(_SiblingFinder(folder))


def load_function(spec, data, batch_size):
  """(checked callable, sha256 of its file) of FILE.py:NAME, probed on two images. Any failure to
  load or call it is a ValueError naming the file, the line and the exception."""
  path, name = check_function_spec(spec)
  module_spec = importlib.util.spec_from_file_location(f"_scored_{name}", path)
  module = importlib.util.module_from_spec(module_spec)
  _find_siblings_of(path)
  try:
    module_spec.loader.exec_module(module)
  except Exception as e:  # noqa: BLE001  (the user's file may raise anything while loading)
    raise ValueError(f"--function {spec!r} failed to load: {_where(e, path)}") from None
  function = getattr(module, name, None)
  if not callable(function):
    raise ValueError(f"--function {spec!r}: {path} has no callable {name!r}")
  checked = external.checked_function(function, source=f"--function {spec}")
  try:
    checked(data.observations(data.kept_indices[:2]))  # a wrong output is refused before work
  except external.RepresentationError:
    raise
  except Exception as e:  # noqa: BLE001  (the user's function may raise anything)
    raise ValueError(f"--function {spec!r} failed on two images: {_where(e, path)}") from None
  return checked, external.sha256_of(path)


def default_output_dir(args):
  stem = (os.path.splitext(os.path.basename(args.codes))[0] if args.codes
          else args.function.rpartition(":")[2])
  return os.path.join("runs", f"scored_{stem}")


def check_output_dir(path):
  checks.check_output_folder("--output_dir", path)
  if rundir.is_run_dir(path):
    raise ValueError(f"--output_dir {path!r} holds a training run; choose another directory")
  rundir.check_no_links(path, (rundir.RESULTS_FILE, rundir.SCORES_FILE, rundir.FIGURES_DIR))
  if os.path.isdir(path) and os.listdir(path) and not is_score_output(path):
    raise ValueError(f"--output_dir {path!r} is not empty and holds no score.py output (no "
                     f"{rundir.RESULTS_FILE} with a 'representation'); choose an empty or new "
                     "directory")


def is_score_output(path):
  """Whether `path` holds what score.py wrote: a results.json that records a representation."""
  try:
    with open(os.path.join(path, rundir.RESULTS_FILE), encoding="utf-8") as f:
      return isinstance(json.load(f).get("representation"), dict)
  except (OSError, ValueError, AttributeError):
    return False


def _remove_partial_outputs(output_dir, existed, started):
  """After a failed write (results.json, written last, is then the earlier scoring's or
  absent): remove the output folder this call made, or, in one that was there before, the
  files this call wrote since `started` and an emptied figures/, so none disagrees with
  results.json."""
  if not existed:
    shutil.rmtree(output_dir, ignore_errors=True)
    return
  figures = os.path.join(output_dir, rundir.FIGURES_DIR)
  for path in (os.path.join(output_dir, rundir.SCORES_FILE), os.path.join(figures, FIGURE)):
    if os.path.isfile(path) and os.path.getmtime(path) >= started - 1:
      os.unlink(path)
  if os.path.isdir(figures) and not os.listdir(figures):
    os.rmdir(figures)


def write_outputs(output_dir, block, representation, table, data):
  """results.json, scores.csv and the factor-response figure of the scored codes."""
  from echo_suite.figures import model_figures  # the command line wires figures in
  os.makedirs(output_dir, exist_ok=True)
  for folder in (output_dir, os.path.join(output_dir, rundir.FIGURES_DIR)):
    if os.path.isdir(folder):
      atomic_io.remove_leftovers(folder)  # of a score.py killed while writing
  order = list(np.argsort(-table.codes.var(axis=0)))
  model_figures.factor_response(
      table.codes, table.data.factors_of(table.indices), table.data.factors_num_values,
      os.path.join(output_dir, rundir.FIGURES_DIR, FIGURE), order, [f"z{d}" for d in order],
      title=f"factor response: {representation['source']} on {data.name}",
      names=table.data.factor_names)
  run = rundir.RunDirectory(output_dir)
  run.write_files({rundir.SCORES_FILE: evaluate.scores_csv_text(block)})
  run.write_results(
      {"representation": representation, "data": data.info(), "scores": block})


def main(argv=None):
  global evaluate, external
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args = parse_args(argv)
  try:
    settings = parse_settings(args.gin_param)
    if args.data:
      data_registry.check_name(args.data)
    names.check_metric_names(args.metrics)
    output_dir = args.output_dir or default_output_dir(args)
    check_output_dir(output_dir)
    if args.codes:
      check_codes_path(args.codes)
    else:
      check_function_spec(args.function)
    args.data = evaluation_set(args.data, args.codes)  # the codes file's, checked against --data
    data = data_registry.make_dataset(args.data, args.dsprites_npz, args.data_path)
    from echo_suite.metrics import evaluate, external  # TensorFlow, once the command line is checked
    if args.codes:
      representation, indices, sha = load_codes(args.codes, data)
      record = {"kind": "codes", "source": args.codes, "sha256": sha}
    else:
      representation, sha = load_function(args.function, data, args.batch_size)
      indices = None
      record = {"kind": "function", "source": args.function, "sha256": sha}
    block, table = external.score_and_table(
        representation, data, args.metrics, args.seed, settings, indices,
        batch_size=args.batch_size, progress=not args.no_progress)
    weights = f"sha256:{sha[:16]}"
    if args.function:  # the file alone does not fix its codes (it may read weights elsewhere)
      record["codes_fingerprint"] = provenance.fingerprint([table.indices, table.codes])
      weights = f"codes:{record['codes_fingerprint']}"
    block = provenance.scores_block(block, None, weights, device.describe())
    existed, started = os.path.isdir(output_dir), time.time()
    try:
      write_outputs(output_dir, block, record, table, data)
    except OSError:
      _remove_partial_outputs(output_dir, existed, started)
      raise
  except (ValueError, FileNotFoundError) as e:
    print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
    return 2
  except OSError as e:  # a full disk, a folder that became unwritable
    print(f"error: {e.strerror or e}: {e.filename or output_dir}; nothing was written",
          file=sys.stderr)
    return 2
  print(f"scores of {record['source']} (sha256 {sha[:16]}) on {block['eval_on']}:")
  for metric, values in block["metrics"]["mean"].items():
    head = names.HEADLINE[metric]
    text = values.get("error") or f"{head} = {values.get(head, float('nan')):.3f}"
    print(f"  {metric:<20} {text}")
  print(f"wrote {output_dir}/{rundir.RESULTS_FILE}, {rundir.SCORES_FILE}, "
        f"{rundir.FIGURES_DIR}/{FIGURE}")
  return 0
