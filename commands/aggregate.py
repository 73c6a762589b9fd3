"""Aggregate a sweep into the paper's Table 2 (Markdown + CSV), a per-seed score figure, the
rate-distortion figure of Sec. 5.2, and a table and figure of every model's scores against the
total correlation of the training data's factors, and Echo against beta-VAE seed against seed
(echo_vs_vae.md: Welch's t and the exact permutation test of evidence.py, in every setting both
models ran, on any data set; seeds.csv holds the per-seed scores it is computed from).

    python scripts/aggregate.py RUNS_DIR [--out DIR] [--steps N | --pool_steps] [--doc PAGE]

Models are told apart by what makes them differ: Echo with the stretched f is 'echo (stretched f)'
(Table 2 takes only the paper's public f), scores of the sampled code carry '[sample]' (Table 2
takes the mean code), and scores made otherwise than the paper's (another evaluation set, seed or
metric setting) carry it in braces, e.g. '{scored on ds_corr}': no cell mixes score settings.
The factor TC of each run is recomputed from its saved data settings (data.dependence): 0 for
dsprites, 1.49 nats for ds_corr, ds_pairs by its sigma.

Rows: beta increasing at gamma = 0, then gamma increasing at beta = 1 (the first of them repeats
the beta = 1 row, as in the paper). Columns: FactorVAE score and MIG of Echo and VAE on dsprites
and ds_corr; mean +- sample standard deviation over seeds (n - 1). Only runs whose scores
belong to their final weights are used (others are listed and skipped). Runs of different step
budgets are never averaged together unless --pool_steps asks for it: with several budgets
present, choose one with --steps. The paper's number stands beside ours only in the beta = 1,
gamma = 0 row, the one row whose setting the paper states; its other rows are printed below the
table as the paper's.
"""
import argparse
import csv
import functools
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import evidence
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.figures import sweep_figures
from echo_suite.metrics import names
from echo_suite.report import runs as report_runs

DATASETS = ("dsprites", "ds_corr")
MODELS = ("echo", "vae")
# The paper's two metrics: (name, headline score, label), from metrics.names.
METRICS = tuple((m, names.HEADLINE[m], names.DISPLAY[m]) for m in ("factor_vae", "mig"))
# Table 2 of the paper (mean of 10 runs), ../shared/reference/paper_facts.md. Columns in COLUMNS
# order. Its row labels did not survive: rows 1-3 raise beta at gamma = 0, rows 4-7 raise gamma;
# only rows 1 and 4 have a known setting (beta 1, gamma 0).
PAPER_TABLE2 = [
    [0.83, 0.65, 0.16, 0.07, 0.70, 0.60, 0.11, 0.08],
    [0.78, 0.65, 0.18, 0.10, 0.67, 0.60, 0.11, 0.07],
    [0.75, 0.69, 0.18, 0.13, 0.56, 0.56, 0.06, 0.06],
    [0.83, 0.65, 0.16, 0.07, 0.70, 0.60, 0.10, 0.08],
    [0.78, 0.72, 0.30, 0.17, 0.65, 0.60, 0.16, 0.07],
    [0.79, 0.73, 0.30, 0.18, 0.58, 0.53, 0.16, 0.07],
    [0.77, 0.70, 0.29, 0.18, 0.49, 0.53, 0.09, 0.08],
]
PAPER_ROW_LABELS = ["beta=1, gamma=0", "beta>1 (value not stated), gamma=0",
                    "beta>1 (larger, not stated), gamma=0", "beta=1, gamma=0 (repeats row 1)",
                    "beta=1, gamma>0 (not stated)", "beta=1, gamma>0 (larger)",
                    "beta=1, gamma>0 (largest)"]
COLUMNS = [(d, metric, model) for d in DATASETS for metric in METRICS for model in MODELS]


RUN_KEYS = ("dataset", "model", "beta", "gamma")  # besides the training and scores blocks


def load_runs(runs_dir):
  """Every run below runs_dir whose scores belong to its final weights, and the skipped ones.

  Returns:
    (runs, skipped): runs are results.json dicts with 'dir' and 'steps' added, one per scored
    representation (its name in 'representation', its scores in 'scored'); skipped is a list of
    (run directory, reason).
  """
  runs, skipped = [], []
  for run_dir in results_dirs(runs_dir):
    try:
      r = rundir.RunDirectory(run_dir).read_results()
    except rundir.UnreadableFileError as e:
      skipped.append((run_dir, str(e)))
      continue
    missing = [k for k in RUN_KEYS if k not in r]
    reason = (provenance.results_problem(r, names.HEADLINE) or provenance.stale_reason(r) or
              (f"not a run's results (no {missing})" if missing else None))
    if not reason:
      try:
        provenance.read_identity(run_dir)
      except ValueError as e:
        reason = str(e)
    if not reason and _dataset_class(r["dataset"]) is None:
      reason = f"data set {r['dataset']!r} is not one this suite knows"
    holder = rundir.lock_holder(run_dir)
    if not reason and holder is not None:
      reason = f"in use by a process (pid {holder}): its scores may be about to change"
    if reason:
      skipped.append((run_dir, reason))
      continue
    r["dir"], r["steps"] = run_dir, r["training"]["step"]
    for kind, by_metric in r["scores"]["metrics"].items():
      runs.append({**r, "representation": kind, "scored": by_metric})
  return runs, skipped


def results_dirs(runs_dir):
  """Every folder below runs_dir holding a results.json (a run, or score.py's output), sorted;
  symbolic links are not followed, so a run is counted once and a link loop ends."""
  found = []
  for folder, subfolders, files in os.walk(runs_dir):
    subfolders.sort()
    if rundir.RESULTS_FILE in files:
      found.append(folder)
  return sorted(found)


def select_steps(runs, steps=None, pool=False):
  """The runs of one step budget: `steps`, or the only one present; all of them with `pool`.
  Raises ValueError listing the budgets when several are present and none is chosen."""
  if steps is not None:
    return [r for r in runs if r["steps"] == steps]
  budgets = sorted({r["steps"] for r in runs})
  if len(budgets) > 1 and not pool:
    raise ValueError(f"runs of several step budgets {budgets}: pick one with --steps N, or "
                     "average across them with --pool_steps")
  return runs


def config_value(run, name, default=None):
  """The value of binding `name` (e.g. 'model.f_param') in the run's saved config."""
  return _saved_bindings(run.get("config", "")).get(name, default)


@functools.lru_cache(maxsize=None)
def _saved_bindings(config):
  return provenance.saved_bindings(config)


def model_name(run):
  """The run's model, with Echo's f where it is not the paper's public one."""
  label = run["model"]
  if label == "echo" and config_value(run, "model.f_param", "public") != "public":
    label += f" ({config_value(run, 'model.f_param')} f)"
  return label


def model_label(run):
  """The run's model, told apart where runs of one name differ: Echo's f, scored code."""
  label = model_name(run)
  label += "" if run["representation"] == "mean" else f" [{run['representation']}]"
  setting = score_setting(run)
  return label + (f" {{{setting}}}" if setting else "")


def score_setting(run):
  """How the run's scores were made, where that departs from the paper's (the full data set with
  independent factors: dSprites for ds_corr and ds_pairs; evaluation seed 0; the paper's metric
  settings): '' for the paper's, else e.g. 'scored on
  ds_corr; eval_mig.num_bins=10'. Runs of different score settings never share a cell."""
  block = run["scores"]
  parts = [] if block.get("eval_on") == independent_name(run) else [
      f"scored on {block.get('eval_on')}"]
  seed = block.get("seed", 0)
  parts += [] if seed == 0 else [f"evaluation seed {seed}"]
  parts += [f"{k}={v['value']!r}" for k, v in sorted(block.get("departures_from_paper",
                                                                {}).items())]
  return "; ".join(parts)


def data_label(run):
  """The training data: its name, with sigma for ds_pairs and the base a dependence is drawn on
  where it is not dSprites ('ds_corr on color_dsprites'): runs of different labels never share a
  cell."""
  info = data_info(run)
  label = f"ds_pairs σ={info['sigma']:g}" if run["dataset"] == "ds_pairs" else run["dataset"]
  return label + (f" on {info['base']}" if info.get("base") else "")


def independent_name(run):
  """The data set with independent factors the run's data is drawn from (its own name, or the
  base of ds_corr and ds_pairs): the paper's evaluation set."""
  return (data_info(run).get("base") or getattr(_dataset_class(run["dataset"]), "full_name", None)
          or "dsprites")


def data_info(run):
  """The training data's `info()` (size, exact factor TC, its settings) as results.json recorded
  it at training time; for results written before it did, the data set is rebuilt from the run's
  saved config through data.registry (cheap: no image is rendered)."""
  return run.get("data") or _rebuilt_info(run["dataset"], run.get("config", ""))


def _dataset_class(name):
  """data.registry's class of the data set `name`, or None for a name it does not know."""
  from echo_suite.data import registry
  return registry.DATASETS.get(name)


@functools.lru_cache(maxsize=None)
def _rebuilt_info(name, config):
  from echo_suite.data import registry
  prefix = f"{name}."
  kwargs = {k[len(prefix):]: v for k, v in _saved_bindings(config).items()
            if k.startswith(prefix)}
  return registry.DATASETS[name](**kwargs).info()


def factor_tc(run):
  """Exact total correlation (nats) of the run's training factors."""
  return data_info(run)["total_correlation_nats"]


def mean_sd(values):
  """(mean, sd, n) of the values that are not NaN: sd is the sample standard deviation over seeds
  (n - 1 in the denominator), None below two values; mean is None without any."""
  values = [float(v) for v in values if not np.isnan(v)]
  n = len(values)
  return (float(np.mean(values)) if n else None,
          float(np.std(values, ddof=1)) if n > 1 else None, n)


def format_cell(mean, sd, n, digits=2):
  """'0.62 ± 0.03 (n=2)'; '0.62 (n=1)' without an sd; '–' without a value."""
  if mean is None:
    return "–"
  spread = "" if sd is None else f" ± {sd:.{digits}f}"
  return f"{mean:.{digits}f}{spread} (n={n})"


def score(run, metric, key):
  value = run["scored"].get(metric, {}).get(key)
  return np.nan if value is None else float(value)


def table_rows(runs):
  """(label, beta, gamma) rows in Table 2 order, from the settings present."""
  betas = sorted({r["beta"] for r in runs if r["gamma"] == 0})
  gammas = sorted({r["gamma"] for r in runs if r["beta"] == 1.0})
  rows = [(f"beta={b:g}, gamma=0", b, 0.0) for b in betas]
  rows += [(f"gamma={g:g}, beta=1", 1.0, g) for g in gammas if len(gammas) > 1]
  return rows


def cell_values(runs, dataset, model, beta, gamma, metric, key):
  return [score(r, metric, key) for r in runs if data_label(r) == dataset
          and model_label(r) == model and r["beta"] == beta and r["gamma"] == gamma]


def paper_value(beta, gamma, column_index):
  """The paper's number for a setting it states (beta 1, gamma 0: its row 1), else None."""
  return PAPER_TABLE2[0][column_index] if (beta, gamma) == (1.0, 0.0) else None


def build_table(runs):
  """Table 2's cells: the paper's models (Echo with its public f, VAE; mean codes) on its data
  sets only ([] without such a run)."""
  runs = [r for r in runs if model_label(r) in MODELS and data_label(r) in DATASETS]
  table = []
  for label, beta, gamma in table_rows(runs):
    cells = []
    for j, (dataset, (metric, key, _), model) in enumerate(COLUMNS):
      mean, sd, n = mean_sd(cell_values(runs, dataset, model, beta, gamma, metric, key))
      cells.append({"mean": mean, "std": sd, "n": n,
                    "paper": paper_value(beta, gamma, j),
                    "steps": sorted({r["steps"] for r in runs if r["beta"] == beta
                                     and r["gamma"] == gamma and data_label(r) == dataset
                                     and model_label(r) == model})})
    table.append((label, cells))
  return table


def _count(runs):
  """Runs (directories), not scored representations."""
  return len({r["dir"] for r in runs})


def _budget(runs):
  budgets = sorted({r["steps"] for r in runs})
  text = " and ".join(f"{b:,}" for b in budgets)
  return f"{text} steps per run" + (" (pooled)" if len(budgets) > 1 else "")


def table2_header():
  """Table 2's column headings: data set, metric, model."""
  return [f"{d} {name} {model}" for d, (_, _, name), model in COLUMNS]


def table2_rows(table):
  """Table 2's rows as text: the setting, then each cell '0.62 ± 0.03 (n=2) [0.83]' (ours, with
  the paper's in brackets where the paper states the setting). Markdown and the report print
  these."""
  rows = []
  for label, cells in table:
    text = []
    for c in cells:
      paper = "" if c["paper"] is None else f" [{c['paper']:.2f}]"
      text.append(format_cell(c["mean"], c["std"], c["n"]) + paper)
    rows.append([label, *text])
  return rows


TABLE2_NOTE = ("Ours: mean ± sample standard deviation over seeds (n runs); [the paper's Table 2, "
               "row 1, 300,000 steps, 10 runs], shown only for beta = 1, gamma = 0.")
NO_TABLE2 = ("No run of Table 2's models on its data sets at this budget (Echo with the paper's "
             "public f, or beta-VAE, on dsprites or ds_corr, scored with the paper's settings; "
             "mean codes): every run is in models.md and below.")
PAPER_NOTE = ("The paper's Table 2 as published (its rows' beta and gamma values are not stated "
              "except rows 1 and 4; not matched to our rows):")


def paper_rows():
  """The paper's Table 2 as text rows, each labelled with what is known of its setting."""
  return [[f"{i + 1}: {label}", *(f"{v:.2f}" for v in values)]
          for i, (label, values) in enumerate(zip(PAPER_ROW_LABELS, PAPER_TABLE2))]


def write_markdown(table, path, runs):
  head = table2_header()
  lines = [f"Step budget: {_budget(runs)}; {_count(runs)} runs.", "",
           "| setting | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
  lines += ["| " + " | ".join(row) + " |" for row in table2_rows(table)]
  lines += ["", TABLE2_NOTE if table else NO_TABLE2, "", PAPER_NOTE, "",
            "| paper row | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
  lines += ["| " + " | ".join(row) + " |" for row in paper_rows()]
  return atomic_io.write_text(path, "\n".join(lines) + "\n")


def write_csv(table, path):
  return atomic_io.write_csv(
      path, ["setting", "dataset", "metric", "model", "mean", "std", "n", "steps", "paper"],
      [[label, dataset, name, model, c["mean"], c["std"], c["n"],
        " ".join(str(s) for s in c["steps"]), c["paper"]]
       for label, cells in table for (dataset, (_, _, name), model), c in zip(COLUMNS, cells)])


def scores_figure(runs, path):
  """One point per seed for every setting, model (mean codes) and data set present."""
  rows = table_rows(runs)
  datasets = data_labels(runs)
  panels = []
  for metric, key, name in METRICS:
    panels.append([sweep_figures.StripPanel(
        f"{name} on {dataset}", name,
        tuple(sweep_figures.Strip(x + (k - 0.5) * 0.25,
                                  tuple(cell_values(runs, dataset, model, beta, gamma, metric,
                                                    key)),
                                  ("tab:blue", "tab:orange")[k], model if x == 0 else None,
                                  size=18)
              for k, model in enumerate(MODELS) for x, (_, beta, gamma) in enumerate(rows)),
        tuple((x, label.replace(", ", "\n")) for x, (label, _, _) in enumerate(rows)))
        for dataset in datasets])
  return sweep_figures.strip_panels(
      panels, f"scores per setting, one point per seed ({_budget(runs)})", path)


def data_labels(runs):
  """The data labels of the runs, Table 2's data sets first."""
  present = {data_label(r) for r in runs}
  return [d for d in DATASETS if d in present] + sorted(present - set(DATASETS))


def rate_distortion_figure(runs, path):
  """Distortion against rate (Echo: exact; VAE: KL upper bound), one curve per model and data
  set present, one point per beta (gamma = 0), averaged over seeds."""
  lines = []
  for k, dataset in enumerate(data_labels(runs)):
    style = ("-", "--", ":", "-.")[k % 4]
    for model, color in zip(MODELS, ("tab:blue", "tab:orange")):
      points = []
      for beta in sorted({r["beta"] for r in runs}):
        sel = [r for r in runs if data_label(r) == dataset and model_label(r) == model
               and r["beta"] == beta and r["gamma"] == 0]
        if sel:
          losses = [r["training"]["final_losses_last_100_steps"] for r in sel]
          points.append((beta, np.mean([l["rate"] for l in losses]),
                         np.mean([l["distortion"] for l in losses])))
      if points:
        betas, rate, dist = zip(*points)
        kind = "exact rate" if model == "echo" else "KL bound"
        lines.append(sweep_figures.Curve(f"{model} ({kind}), {dataset}", rate, dist, color,
                                         style, tuple(f"β={b:g}" for b in betas),
                                         marker="o^sDv"[k % 5]))
  return sweep_figures.curves(lines, "rate (nats)", "distortion (nats)",
                              f"rate-distortion (gamma = 0, {_budget(runs)})", path)


def dependence_groups(runs):
  """{(model label, beta, gamma): {(factor TC, data label): [runs]}} over every run."""
  groups = {}
  for r in runs:
    key = (model_label(r), r["beta"], r["gamma"])
    groups.setdefault(key, {}).setdefault((round(factor_tc(r), 6), data_label(r)), []).append(r)
  return groups


def _setting(label, beta, gamma):
  return f"{label} (beta {beta:g}, gamma {gamma:g})"


DEPENDENCE_HEAD = ("TC: exact total correlation of the training data's factors (nats). Scored on "
                   "the full data set its data is drawn from (dSprites for ds_corr and ds_pairs "
                   "unless named) unless a run says otherwise.")
DEPENDENCE_FOOT = ("Mean ± sample standard deviation over seeds (n runs); [the paper's Table 2 row "
                   "1: 300,000 steps, 10 runs].")
DEPENDENCE_NOTE = f"{DEPENDENCE_HEAD} {DEPENDENCE_FOOT}"  # the report's, above its table


def dependence_table(runs):
  """Every model against every training data set, ordered by the factors' total correlation:
  every metric the runs were scored with (FactorVAE and MIG first), mean ± sd over seeds; the
  paper's Table 2 row 1 in brackets where it applies (echo with the public f and vae, mean or
  sampled codes, at beta 1, gamma 0, on dsprites and ds_corr).

  Returns:
    (header, text rows, csv rows): models.md and the report print the text rows.
  """
  groups = dependence_groups(runs)
  columns = sorted({c for g in groups.values() for c in g})
  scored = {m for r in runs for m in r["scored"]}
  metrics = [(m, names.HEADLINE[m], names.DISPLAY[m]) for m in names.METRIC_NAMES if m in scored]
  head = ["model", *(f"{name} on {d} (TC {tc:.2f})" for _, _, name in metrics
                     for tc, d in columns)]
  rows, text_rows = [], []
  for (label, beta, gamma), cells in sorted(groups.items()):
    text = [_setting(label, beta, gamma)]
    for metric, key, name in metrics:
      for tc, d in columns:
        mean, std, n = mean_sd([score(r, metric, key) for r in cells.get((tc, d), [])])
        paper = None
        model = label.replace(" [sample]", "")  # the paper scored sampled codes (README)
        if (model in MODELS and (beta, gamma) == (1.0, 0.0) and d in DATASETS
            and (metric, key, name) in METRICS):
          paper = PAPER_TABLE2[0][COLUMNS.index((d, (metric, key, name), model))]
        rows.append([_setting(label, beta, gamma), d, tc, name, mean, std, n, paper])
        text.append(format_cell(mean, std, n) + ("" if paper is None else f" [{paper:.2f}]"))
    text_rows.append(text)
  return head, text_rows, rows


def write_dependence_table(runs, md_path, csv_path):
  """models.md and models.csv: `dependence_table`."""
  head, text_rows, rows = dependence_table(runs)
  lines = [f"Step budget: {_budget(runs)}; {_count(runs)} runs. {DEPENDENCE_HEAD}", "",
           "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
  lines += ["| " + " | ".join(text) + " |" for text in text_rows]
  lines += ["", DEPENDENCE_FOOT]
  atomic_io.write_text(md_path, "\n".join(lines) + "\n")
  atomic_io.write_csv(
      csv_path, ["model", "data", "factor_tc_nats", "metric", "mean", "std", "n", "paper"], rows)
  return md_path, csv_path


def dependence_figure(runs, path):
  """Score against the factors' total correlation, mean ± sd over seeds: one line per model and
  independent data set over that set (TC 0) and ds_pairs' sigmas drawn on it; ds_corr, a
  different kind of dependence (removed bin pairs), as an unconnected square of the model's
  colour. Data sets other than dSprites get their own marker, so two at TC 0 stay apart."""
  groups = dependence_groups(runs)
  bases = {data_label(r): independent_name(r) for r in runs}
  families = sorted(set(bases.values()), key=lambda b: (b != "dsprites", b))
  markers = dict(zip(families, "o^vDPX<>" * 4))
  panels = []
  for metric, key, name in METRICS:
    series = []
    for k, ((label, beta, gamma), cells) in enumerate(sorted(groups.items())):
      points = {}
      for (tc, data), sel in sorted(cells.items()):
        mean, sd, _ = mean_sd([score(r, metric, key) for r in sel])
        if mean is not None:
          kind = (bases[data], data.startswith("ds_corr"))
          points.setdefault(kind, []).append((tc, mean, 0.0 if sd is None else sd))
      shift = 0.01 * (k - len(groups) / 2)  # keeps overlapping error bars apart
      for (base, is_corr), pts in sorted(points.items()):
        tc, mean, std = zip(*pts)
        where = ((" on ds_corr" + ("" if base == "dsprites" else f" ({base})")) if is_corr
                 else "" if base == "dsprites" else f" on {base}")
        series.append(sweep_figures.Series(
            _setting(label, beta, gamma) + where, tuple(t + shift for t in tc), mean, std,
            f"C{k % 10}", marker="s" if is_corr else markers[base], connected=not is_corr))
    panels.append((f"{name} against factor dependence", name, series))
  legend = ("; squares: ds_corr" if any(r["dataset"] == "ds_corr" for r in runs) else "")
  return sweep_figures.error_bar_panels(
      panels, "total correlation of the training factors (nats)",
      f"scores against factor dependence, mean ± sample sd over seeds ({_budget(runs)}){legend}",
      path)


def udr_rows(runs, max_images=10000):
  """UDR (metrics.udr, Duan et al. 2020) of every run over the other seeds of its setting (data,
  model, beta, gamma, step budget), from the codes of the images their code tables share.

  Returns:
    list of dicts: setting, run directory, seed, udr, models (seeds in the setting), images.
  """
  from echo_suite.metrics import code_table, udr
  cells = {}
  for r in runs:
    if r["representation"] == "mean":  # one entry per run directory
      label = model_label({**r, "representation": "mean"})
      key = (data_label(r), label, r["beta"], r["gamma"], r["steps"])
      cells.setdefault(key, []).append(r)
  rows = []
  for (data, label, beta, gamma, steps), cell in sorted(cells.items(), key=str):
    if len(cell) < 2:
      continue
    tables = [code_table.load(os.path.join(r["dir"], rundir.CODES_FILE)) for r in cell]
    shared = functools.reduce(np.intersect1d, [t["indices"] for t in tables])
    shared = np.sort(np.random.RandomState(0).permutation(shared)[:max_images])
    codes = [t["codes"][np.searchsorted(t["indices"], shared)] for t in tables]
    active = [udr.active_dimensions(r["training"]["rate_per_dim_nats"],
                                    r["training"]["min_rate_per_dim_nats"]) for r in cell]
    scores_of, _ = udr.udr(codes, active)
    for r, value in zip(cell, scores_of):
      rows.append({"data": data, "model": label, "beta": beta, "gamma": gamma, "steps": steps,
                   "run": os.path.basename(r["dir"]), "seed": r["seed"], "udr": float(value),
                   "models": len(cell), "images": int(len(shared))})
  return rows


def write_udr(rows, md_path, csv_path):
  """udr.md (one line per run, the setting's mean) and udr.csv."""
  lines = ["| data | model | beta | gamma | steps | run | UDR | models | shared images |",
           "|---|---|---|---|---|---|---|---|---|"]
  lines += [f"| {r['data']} | {r['model']} | {r['beta']:g} | {r['gamma']:g} | {r['steps']:,} | "
            f"{r['run']} | {r['udr']:.3f} | {r['models']} | {r['images']:,} |" for r in rows]
  atomic_io.write_text(md_path, "UDR (Duan et al. 2020, UDR_L), each run against the other "
                       "seeds of its setting\n\n" + "\n".join(lines) + "\n")
  atomic_io.write_csv(csv_path, list(rows[0]) if rows else ["udr"], rows)
  return [md_path, csv_path]


REPORT_FILE = "report.html"
SWEEP_FIGURES = {"scores_per_seed.png": "FactorVAE score and MIG of every seed, per setting, "
                                        "model and data set (mean codes)",
                 "rate_distortion.png": "distortion against rate, one point per beta (gamma 0), "
                                        "mean over seeds",
                 "score_vs_tc.png": "each model's scores against the total correlation of its "
                                    "training data's factors"}


# ---------------------------------------------------------------------------------------------
# Echo against beta-VAE, seed against seed (seeds.csv, echo_vs_vae.md)

SEED_FIELDS = ("run", "data", "factor_tc", "model", "code", "score_setting", "beta", "gamma",
               "seed", "steps", "weights", "settings", *(m for m, _, _ in METRICS))
_SEED_NUMBERS = {"factor_tc": float, "beta": float, "gamma": float, "steps": int,
                 "seed": lambda text: int(text) if text else None,  # score.py's output has none
                 **{m: float for m, _, _ in METRICS}}
# Identity bindings that the record's own columns hold (or that tell seeds apart): not settings.
_NOT_SETTINGS = ("train.seed", "model.name", "model.beta", "model.gamma", "dataset.name")
BASELINE, TREATMENT = "vae", "echo"  # the paper's Sec. 5.3 claim: Echo's codes score higher
ECHO_VS_VAE_BEGIN = "<!-- aggregate.py echo_vs_vae: begin (generated; do not edit by hand) -->"
ECHO_VS_VAE_END = "<!-- aggregate.py echo_vs_vae: end -->"


def run_settings(run):
  """The run's training settings besides data set, model, beta, gamma and seed: its identity
  bindings (run_config.gin; the step budget is not among them), as sorted JSON text so that
  records compare equal however they were read."""
  _, bindings = provenance.read_identity(run["dir"])
  return json.dumps({k: v for k, v in bindings.items() if k not in _NOT_SETTINGS},
                    sort_keys=True, default=repr)


def seed_records(runs, runs_dir):
  """One record per run and scored code (seeds.csv): its data (with its factors' exact TC),
  settings, weights and the paper's two scores; what `echo_vs_vae` compares, so its table can
  be regenerated without the runs."""
  return [{"run": os.path.relpath(r["dir"], runs_dir), "data": data_label(r),
           "factor_tc": round(factor_tc(r), 6), "model": model_name(r),
           "code": r["representation"], "score_setting": score_setting(r), "beta": r["beta"],
           "gamma": r["gamma"], "seed": r.get("seed"), "steps": r["steps"],
           "weights": r["training"].get("weights", ""), "settings": run_settings(r),
           **{metric: score(r, metric, key) for metric, key, _ in METRICS}}
          for r in sorted(runs, key=lambda r: (r["dir"], r["representation"]))]


def read_seed_records(path):
  """seed_records as seeds.csv holds them."""
  with open(path, newline="") as f:
    return [{k: _SEED_NUMBERS.get(k, str)(v) for k, v in row.items()}
            for row in csv.DictReader(f)]


def _side_settings(records, settings, shared):
  """{own settings (JSON): records} of one model's records: the settings only its model binds
  (settings: {id(record): its parsed settings})."""
  split = {}
  for r in records:
    own = {k: v for k, v in settings[id(r)].items() if k not in shared}
    split.setdefault(json.dumps(own, sort_keys=True), []).append(r)
  return split


def echo_vs_vae(records):
  """Echo (treatment) against beta-VAE (baseline) wherever both ran alike: same data (and factor
  TC), scored code, score setting, beta, gamma, step budget and every training setting both
  models bind; runs of one model that differ in a setting only it binds (Echo's d_max, say) are
  compared apart. For each of the paper's two metrics: means and sample sds over seeds,
  evidence.compare's Welch and exact permutation tests and the verdict word for the paper's
  direction (Echo higher).

  Args:
    records: seed_records (or read_seed_records) dicts.

  Returns:
    list of dicts, one per setting and metric: the setting's keys, 'differs' (the settings that
    tell this row from the others of its data, code, beta, gamma and budget, 'k = v; ...'),
    'metric', 'comparison' (an evidence.Comparison), 'verdict', and (mean, sd, n) under
    BASELINE and TREATMENT.
  """
  records = [r for r in records if r["model"] in (BASELINE, TREATMENT)]
  settings = {id(r): json.loads(r["settings"]) for r in records}  # parsed once
  keys = {m: set() for m in (BASELINE, TREATMENT)}
  for r in records:
    keys[r["model"]].update(settings[id(r)])
  shared = keys[BASELINE] & keys[TREATMENT]
  groups = {}
  for r in records:
    common = {k: v for k, v in settings[id(r)].items() if k in shared}
    family = (r["data"], r["factor_tc"], r["code"], r["score_setting"], r["beta"], r["gamma"],
              r["steps"])
    groups.setdefault((family, json.dumps(common, sort_keys=True)), {}).setdefault(
        r["model"], []).append(r)
  pairs = []  # (family, settings of the pair, vae records, echo records)
  for (family, common), sides in sorted(groups.items()):
    if len(sides) < 2:
      continue
    for vae_own, vae in sorted(_side_settings(sides[BASELINE], settings, shared).items()):
      for echo_own, echo in sorted(_side_settings(sides[TREATMENT], settings,
                                                  shared).items()):
        setting = {**json.loads(common),
                   **{f"{BASELINE}: {k}": v for k, v in json.loads(vae_own).items()},
                   **{f"{TREATMENT}: {k}": v for k, v in json.loads(echo_own).items()}}
        pairs.append((family, setting, vae, echo))
  rows = []
  for family, setting, vae, echo in pairs:
    siblings = [s for f, s, _, _ in pairs if f == family]
    differs = sorted(k for k in set().union(*siblings)
                     if any(s.get(k, None) != setting.get(k, None) for s in siblings))
    for metric, _, name in METRICS:
      values = {BASELINE: [r[metric] for r in vae], TREATMENT: [r[metric] for r in echo]}
      comparison = evidence.compare(values[BASELINE], values[TREATMENT])
      rows.append({**dict(zip(("data", "factor_tc", "code", "score_setting", "beta", "gamma",
                               "steps"), family)),
                   "differs": "; ".join(f"{k} = {setting.get(k)!r}" for k in differs),
                   "metric": name, "comparison": comparison,
                   "verdict": evidence.verdict(comparison, +1),
                   **{m: mean_sd(v) for m, v in values.items()}})
  return rows


def echo_vs_vae_table(rows):
  """(header, text rows) of `echo_vs_vae`'s rows: what echo_vs_vae.md and the report print."""
  header = ("data (factor TC)", "code", "beta, gamma", "steps", "settings that differ", "metric",
            "beta-VAE", "Echo", "Echo - VAE", "Welch's t (df), p", "permutation p", "verdict")
  lines = []
  for r in rows:
    c = r["comparison"]
    code = r["code"] + (f" {{{r['score_setting']}}}" if r["score_setting"] else "")
    test = "–" if c.p is None else f"{c.t:+.2f} ({c.df:.1f}), {evidence.format_p(c.p)}"
    lines.append((f"{r['data']} ({r['factor_tc']:.2f})", code, f"{r['beta']:g}, {r['gamma']:g}",
                  f"{r['steps']:,}", r["differs"] or "–", r["metric"],
                  format_cell(*r[BASELINE], digits=3), format_cell(*r[TREATMENT], digits=3),
                  "–" if c.diff is None else f"{c.diff:+.3f}", test,
                  evidence.format_p(c.permutation_p, c.permutation_exact), r["verdict"]))
  return header, lines


ECHO_VS_VAE_NOTE = ("Echo (the paper's public f) against beta-VAE, seed against seed, wherever "
                    "both ran alike: data, code, score setting, beta, gamma, step budget and "
                    "every training setting both models bind ('settings that differ' names what "
                    "tells a row from the others of its data, code and budget). Mean ± sample sd "
                    "over seeds (n runs). The direction tested is the paper's (Sec. 5.3): Echo's "
                    "codes score higher.")


def echo_vs_vae_markdown(rows):
  """echo_vs_vae.md's text (and the block a study page embeds) from `echo_vs_vae`'s rows, ''
  without a setting both models ran."""
  if not rows:
    return ""
  header, lines = echo_vs_vae_table(rows)
  text = [ECHO_VS_VAE_BEGIN, "", ECHO_VS_VAE_NOTE, "", "| " + " | ".join(header) + " |",
          "|---" * len(header) + "|", *("| " + " | ".join(line) + " |" for line in lines), "",
          evidence.RULES, "", ECHO_VS_VAE_END]
  return "\n".join(text) + "\n"


def write_report(path, runs_dir, runs, all_runs, table, figures, comparison=()):
  """report.html: Table 2's cells and every model's (the rows of table2.md and models.md; none
  while `table` is None), the sweep figures, `echo_vs_vae`'s rows (`comparison`), the study's
  claims when runs_dir holds a Table 2 study (commands/table2_claims.py), and every run below
  runs_dir with its state, scores, settings and figures (echo_suite.report)."""
  from echo_suite.report import page
  head, model_rows, _ = dependence_table(runs) if runs else ((), (), ())
  sections = [] if table is None else [page.Section(
      f"Table 2 ({_budget(runs)})", (TABLE2_NOTE,) if table else (NO_TABLE2,),
      (page.Table(("setting", *table2_header()), tuple(map(tuple, table2_rows(table)))),
       page.Table(("paper row", *table2_header()), tuple(map(tuple, paper_rows())),
                  caption=PAPER_NOTE))),
      page.Section(f"Every model on every data set ({_budget(runs)})", (DEPENDENCE_NOTE,),
                   (page.Table(tuple(head), tuple(map(tuple, model_rows))),)),
      page.Section("Sweep figures", figures=tuple(
          page.Figure(f, SWEEP_FIGURES[os.path.basename(f)]) for f in figures))]
  if comparison:
    header, lines = echo_vs_vae_table(comparison)
    sections.append(page.Section("Echo against beta-VAE", (ECHO_VS_VAE_NOTE, evidence.RULES),
                                 (page.Table(header, tuple(lines)),)))
  sections += claims_sections(all_runs, runs_dir)
  title = f"Sweep report: {os.path.basename(os.path.abspath(runs_dir))}"
  return page.write_report(path, title, runs_dir, report_runs.read_runs(runs_dir), sections)


def claims_sections(runs, runs_dir):
  """One report section per claim of the Table 2 study that has runs below runs_dir (its
  folders steps30000/, ...): the tables claims.md prints, from the same records; [] for a sweep
  that is not the study."""
  from echo_suite.commands import table2_claims  # it imports this module: imported on use
  from echo_suite.report import page
  records, _ = table2_claims.records_from_runs(runs, runs_dir, report_runs.paper_bindings())
  records.sort(key=table2_claims._order)
  sections = []
  for claim in table2_claims.CLAIMS:
    rows = table2_claims.claim_rows(records, claim)
    if not any(r["baseline_n"] or r["treatment_n"] for r in rows):
      continue
    title, intro = table2_claims.claim_intro(claim, rows)
    header, lines = table2_claims.claim_table(claim, rows)
    sections.append(page.Section(title.replace("`", ""), (intro.replace("`", ""),),
                                 (page.Table(tuple(header), tuple(map(tuple, lines))),)))
  return sections


def _page_with_block(path):
  """--doc: a page holding the echo_vs_vae block's markers (checks.page_with_block)."""
  try:
    return checks.page_with_block(path, ECHO_VS_VAE_BEGIN, ECHO_VS_VAE_END)
  except ValueError as e:
    raise argparse.ArgumentTypeError(str(e)) from None


def parse_args(argv=None):
  """The command line's arguments, and the parser (for its error messages)."""
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("runs_dir")
  p.add_argument("--out", type=checks.output_folder, help="output folder (default RUNS_DIR)")
  p.add_argument("--steps", type=checks.int_at_least(1),
                 help="use the runs of this step budget only")
  p.add_argument("--pool_steps", action="store_true",
                 help="average runs of different step budgets together (labelled as pooled)")
  p.add_argument("--udr", action="store_true",
                 help="also rank each run by UDR over the seeds of its setting (udr.md, udr.csv)")
  p.add_argument("--doc", type=_page_with_block,
                 help="also write echo_vs_vae.md's table into this page's generated block "
                      "(between its aggregate.py echo_vs_vae markers)")
  p.add_argument("--no_report", action="store_true",
                 help="do not write report.html (the page of every run, its figures and scores)")
  return p.parse_args(argv), p


def main(argv=None):
  try:
    return _main(argv)
  except OSError as e:  # a full disk, a folder or page that became unwritable mid-way
    print(f"error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
    return 1


def _main(argv):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args, p = parse_args(argv)
  out = args.out or args.runs_dir
  if not os.path.isdir(args.runs_dir):
    p.error(f"runs_dir {args.runs_dir!r} is not a folder" if os.path.exists(args.runs_dir)
            else f"runs_dir {args.runs_dir!r} does not exist")
  try:
    checks.check_output_folder("runs_dir", out)  # --out was checked as it was parsed
  except ValueError as e:
    p.error(str(e))
  all_runs, skipped = load_runs(args.runs_dir)
  for run_dir, reason in skipped:
    print(f"skipped {run_dir}: {reason}")
  try:
    runs = select_steps(all_runs, args.steps, args.pool_steps)
  except ValueError as e:
    p.error(str(e))
  if not runs:
    none = (f"no runs with current scores{'' if args.steps is None else f' at {args.steps} steps'}"
            f" below {args.runs_dir!r}")
    if (args.no_report or args.udr or args.doc
        or not report_runs.find_run_dirs(args.runs_dir)):
      p.error(none)
    os.makedirs(out, exist_ok=True)  # a sweep under way: the page of where its runs stand
    path = write_report(os.path.join(out, REPORT_FILE), args.runs_dir, [], all_runs, None, [])
    print(f"{none}: no table yet\nwrote {path}")
    return 0
  udr = udr_rows(runs) if args.udr else None
  if args.udr and not udr:
    p.error("--udr: no setting has two seeds or more with current scores (UDR compares each run "
            "with the other seeds of its setting)")
  records = seed_records(runs, args.runs_dir)
  rows = echo_vs_vae(records)
  comparison = echo_vs_vae_markdown(rows)
  if args.doc and not comparison:
    p.error(f"--doc {args.doc}: no setting has current scores of both echo and vae to compare")
  os.makedirs(out, exist_ok=True)
  table = build_table(runs)
  figures = [scores_figure(runs, os.path.join(out, "scores_per_seed.png")),
             rate_distortion_figure(runs, os.path.join(out, "rate_distortion.png")),
             dependence_figure(runs, os.path.join(out, "score_vs_tc.png"))]
  tables = [write_markdown(table, os.path.join(out, "table2.md"), runs),
            write_csv(table, os.path.join(out, "table2.csv")),
            *write_dependence_table(runs, os.path.join(out, "models.md"),
                                    os.path.join(out, "models.csv"))]
  tables.append(atomic_io.write_csv(os.path.join(out, "seeds.csv"), SEED_FIELDS, records))
  if comparison:
    tables.append(atomic_io.write_text(os.path.join(out, "echo_vs_vae.md"), comparison))
  if args.doc:
    tables.append(atomic_io.replace_block(args.doc, ECHO_VS_VAE_BEGIN, ECHO_VS_VAE_END,
                                          comparison))
  paths = tables + figures
  if args.udr:
    paths += write_udr(udr, os.path.join(out, "udr.md"), os.path.join(out, "udr.csv"))
  if not args.no_report:
    paths.append(write_report(os.path.join(out, REPORT_FILE), args.runs_dir, runs, all_runs,
                              table, figures, rows))
  print(f"{_count(runs)} runs with current scores ({_budget(runs)})")
  for table in (tables[0], tables[2]):
    with open(table) as f:
      print(f.read())
  if comparison:
    print(comparison)
  for path in paths:
    print(f"wrote {path}")
  return 0
