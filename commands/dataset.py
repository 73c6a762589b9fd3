"""The command line of the data sets (`python dataset.py --help`): summaries, previews, export.

The data sets themselves (factor grid, renderer, npz, dependence structures with their exact total
correlation, the classes and their registry) live in `data/`; data.registry names them. Only this
command line wires in `figures/` for the previews, so figures may import `data` without a circle.
"""
from __future__ import annotations

import json
import math
import os

import gin

from echo_suite import checks
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite.data.npz import export_npz
from echo_suite.data import registry
from echo_suite.data.registry import DATASET_NAMES, NPZ_ENV_VAR, make_dataset


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def _format_info(info):
  on = f" on {info['base']}" if "base" in info else ""
  lines = [f"{info['name']}{on}  ({info['source']})",
           f"  images kept        {info['num_examples']:,} of "
           f"{round(info['num_examples'] / info['fraction_of_full']):,} "
           f"({100 * info['fraction_of_full']:.2f}%)",
           f"  total correlation  {round(info['total_correlation_nats'], 3) + 0.0:.3f} nats",
           f"  removed bin pairs  {info['removed_bin_pairs']}"]
  if "sigma" in info:
    lines.append(f"  correlated pairs   {', '.join(' x '.join(p) for p in info['pairs'])}  "
                 f"(sigma {info['sigma']:g}, slope {info['slope']:g})")
  for name, size, h in zip(info["factor_names"], info["factor_sizes"],
                           info["factor_entropies_nats"]):
    lines.append(f"  {name:<12} {size:>3} values  H = {h:.3f} nats (max {math.log(size):.3f})")
  return "\n".join(lines)


def _check_destinations(export, overwrite, dataset="dsprites"):
  """Refuse, before rendering anything, an export of anything but dSprites (the one data set with
  an official npz schema) and an export onto an existing file unless `overwrite` (the places
  themselves are checked as the arguments are parsed)."""
  if export and dataset != "dsprites":
    raise ValueError(f"--export writes dSprites in its official npz schema; --dataset {dataset} "
                     "has none (leave --dataset out, or look at it with --preview DIR)")
  if export and os.path.exists(export) and not overwrite:
    raise ValueError(f"--export {export!r} exists; pass --overwrite to replace it")


def parse_args(argv=None):
  """The command line's arguments, and the parser (for its error messages)."""
  parser = checks.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--dataset", default="dsprites", help=f"one of {list(DATASET_NAMES)}")
  parser.add_argument("--dsprites_npz", default=None,
                      help=f"official npz to load instead of rendering (or set ${NPZ_ENV_VAR})")
  parser.add_argument("--data_path", default=None,
                      help="a file-based data set's file or folder (default: found under "
                           "$DISENTANGLEMENT_LIB_DATA)")
  parser.add_argument("--info", action="store_true", help="print a summary")
  parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
  parser.add_argument("--preview", metavar="DIR", type=checks.output_folder,
                      help="write preview PNGs into DIR")
  parser.add_argument("--export", metavar="PATH.npz", type=checks.output_file,
                      help="write dSprites in the official schema")
  parser.add_argument("--overwrite", action="store_true", help="let --export replace a file")
  parser.add_argument("--seed", type=checks.int_at_least(0), default=0,
                      help="seed of the preview samples")
  parser.add_argument("--gin_param", action="append", default=[],
                      help="gin binding of the dataset, e.g. \"ds_pairs.sigma = 0.4\" (repeatable)")
  return parser.parse_args(argv), parser


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args, parser = parse_args(argv)
  try:
    gin.clear_config()  # this command's bindings only (a caller in-process may have left its own)
    gin.parse_config(args.gin_param)
  except Exception as e:  # noqa: BLE001  (gin raises many kinds: name, syntax, import, value)
    parser.error(f"bad gin binding: {provenance.gin_error_line(e)}")
  try:
    registry.check_settings_apply([args.dataset])
    data = make_dataset(args.dataset, args.dsprites_npz, args.data_path)
    _check_destinations(args.export, args.overwrite, args.dataset)  # before any work
  except (ValueError, FileNotFoundError, TypeError) as e:
    parser.error(str(e).split("\n")[0])
  if args.export:
    print(f"wrote {export_npz(args.export)}")
  if args.preview:
    from echo_suite.figures import dataset_figures  # the CLI wires figures in; the library stays below them
    for path in dataset_figures.write_previews(data, args.preview, seed=args.seed):
      print(f"wrote {path}")
  if args.json:
    print(json.dumps(data.info()))
  elif args.info or not (args.export or args.preview):
    print(_format_info(data.info()))
