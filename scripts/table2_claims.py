"""The Table 2 study's three claims (docs/table2_study/), each as one table and one figure panel:
baseline against treatment, mean ± sd over seeds, the difference in standard deviations, and the
paper's numbers where it states them.

    python scripts/table2_claims.py STUDY_DIR [--out DIR]

STUDY_DIR is the study's runs folder (scripts/table2_study.sh's RUNS_DIR, with steps30000/ and
steps5000/ below it); every run with current scores below it is read, runs trained with other
settings than gin_configs/paper.gin's are listed and left out, and each claim takes the runs of
its own step budget. The claims (Brekelmans et al. 2019, Sec. 5.3, Table 2):

  (a) Echo beats beta-VAE on both scores on both data sets (row 1: beta 1, gamma 0).
  (b) A larger beta hurts on the dependent data (ds_corr FactorVAE, rows 1 -> 3; the paper does
      not state row 3's beta; the study uses 4).
  (c) TC regularisation raises MIG on independent data (dSprites, rows 4 -> 5; the paper does not
      state row 5's gamma; the study uses 20).

Writes claims.md, claims.csv and claims.png. sd is the sample standard deviation over seeds
(n - 1 in the denominator; none with one seed); 'diff / sd' divides the treatment's mean minus
the baseline's by the two groups' pooled sd, sqrt((sd_b^2 + sd_t^2) / 2).
"""
import argparse
import dataclasses
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, ROOT)

import aggregate  # noqa: E402
import atomic_io  # noqa: E402
import checks  # noqa: E402
import device  # noqa: E402
import gin_compat  # noqa: E402
import provenance  # noqa: E402
import rundir  # noqa: E402
from data import registry as data_registry  # noqa: E402
from figures.style import plt, save  # noqa: E402
from metrics import alignment, code_table  # noqa: E402

REPRESENTATIONS = ("mean", "sample")
PAPER_GIN = os.path.join(ROOT, "gin_configs", "paper.gin")  # the study's settings
# An effect this many pooled standard deviations from zero, in the claimed direction, "holds".
HOLDS_AT_SD = 2.0


@dataclasses.dataclass(frozen=True)
class Claim:
  """One claim: `vary` goes from `baseline` to `treatment` with the rest of `fixed` held.

  Attributes:
    key: 'a', 'b' or 'c'.
    text: the claim in words.
    steps: the study's step budget for it.
    datasets, models: the cells it is made in (a varies the model: models is empty).
    vary, baseline, treatment: the setting that changes ('model', 'beta' or 'gamma').
    fixed: the settings held ({'beta': 1.0, ...}).
    metrics: aggregate.METRICS entries, the claim's own metric first.
    sign: +1 if the claim says the score rises from baseline to treatment, -1 if it falls.
    paper: {(dataset, model or None, metric): (baseline, treatment)} from the paper's Table 2.
    paper_rows: which rows of the paper's Table 2 the numbers come from.
    claimed: the metric names the claim speaks of (empty: all of `metrics`); the others are
      shown beside it and read as 'rises'/'falls', not 'holds'/'reversed'.
  """
  key: str
  text: str
  steps: int
  datasets: tuple
  models: tuple
  vary: str
  baseline: object
  treatment: object
  fixed: dict
  metrics: tuple
  sign: int
  paper: dict
  paper_rows: str
  claimed: tuple = ()

  def sign_of(self, metric):
    """The claimed direction of `metric`'s change; None for a metric shown beside the claim."""
    return self.sign if not self.claimed or metric in self.claimed else None


def _paper(row, dataset, metric, model):
  """A number of the paper's Table 2 (row counted from 1)."""
  metric_entry = next(m for m in aggregate.METRICS if m[0] == metric)
  return aggregate.PAPER_TABLE2[row - 1][aggregate.COLUMNS.index((dataset, metric_entry, model))]


FVAE, MIG = (next(m for m in aggregate.METRICS if m[0] == name) for name in ("factor_vae", "mig"))
CLAIMS = (
    Claim("a", "Echo beats beta-VAE on both scores on both data sets", 30000,
          ("dsprites", "ds_corr"), (), "model", "vae", "echo", {"beta": 1.0, "gamma": 0.0},
          (FVAE, MIG), +1,
          {(d, None, m): (_paper(1, d, m, "vae"), _paper(1, d, m, "echo"))
           for d in ("dsprites", "ds_corr") for m in ("factor_vae", "mig")}, "row 1"),
    Claim("b", "a larger beta hurts on the dependent data (ds_corr)", 5000, ("ds_corr",),
          ("echo", "vae"), "beta", 1.0, 4.0, {"gamma": 0.0}, (FVAE, MIG), -1,
          {("ds_corr", model, m): (_paper(1, "ds_corr", m, model), _paper(3, "ds_corr", m, model))
           for model in ("echo", "vae") for m in ("factor_vae", "mig")},
          "rows 1 -> 3 (row 3's beta not stated)"),
    Claim("c", "TC regularisation raises MIG on independent data (dSprites)", 5000,
          ("dsprites",), ("echo", "vae"), "gamma", 0.0, 20.0, {"beta": 1.0}, (MIG, FVAE), +1,
          {("dsprites", model, m): (_paper(4, "dsprites", m, model),
                                    _paper(5, "dsprites", m, model))
           for model in ("echo", "vae") for m in ("factor_vae", "mig")},
          "rows 4 -> 5 (row 5's gamma not stated)", claimed=("mig",)),
)


def paper_departures(run, paper):
  """The bindings of paper.gin (`paper`: {'configurable.arg': value}) that the run's identity
  (rundir.RUN_CONFIG) sets to another value, as 'name = value' lines. A run's identity leaves out
  its budget (train.steps, checkpointing), so a budget never counts as a departure."""
  try:
    with open(os.path.join(run["dir"], rundir.RUN_CONFIG)) as f:
      identity = provenance.saved_bindings(f.read())
  except OSError:
    return [f"no {rundir.RUN_CONFIG}"]
  return [f"{k} = {identity[k]!r}" for k, v in sorted(paper.items())
          if k in identity and identity[k] != v]


def study_runs(runs, paper):
  """(runs trained with paper.gin's settings, [(run directory, departures)] of the others)."""
  kept, departing, of_dir = [], {}, {}
  for r in runs:  # one entry per scored code: read each run's identity once
    if r["dir"] not in of_dir:
      of_dir[r["dir"]] = paper_departures(r, paper)
    departures = of_dir[r["dir"]]
    if departures:
      departing[r["dir"]] = departures
    else:
      kept.append(r)
  return kept, sorted(departing.items())


def _selected(runs, claim, dataset, model, representation, value):
  """The claim's runs of one cell: the paper's models (public f), default score settings."""
  setting = {**claim.fixed, claim.vary: value}
  if model is not None:
    setting["model"] = model
  return [r for r in runs if r["steps"] == claim.steps and r["dataset"] == dataset
          and r["representation"] == representation
          and aggregate.model_label({**r, "representation": "mean"}) == r["model"]
          and all(r[k] == v for k, v in setting.items())]


def claim_rows(runs, claim):
  """One dict per (dataset, model, representation, metric) of the claim: baseline and treatment
  mean, sd, n, seeds and runs (directory@weights); difference, difference in pooled sd,
  reading; the paper's pair."""
  rows = []
  for dataset in claim.datasets:
    for model in claim.models or (None,):
      for representation in REPRESENTATIONS:
        for metric, key, name in claim.metrics:
          row = {"claim": claim.key, "dataset": dataset, "model": model or "",
                 "representation": representation, "metric": name, "steps": claim.steps}
          for side, value in (("baseline", claim.baseline), ("treatment", claim.treatment)):
            sel = _selected(runs, claim, dataset, model, representation, value)
            mean, sd, n = aggregate.mean_sd([aggregate.score(r, metric, key) for r in sel])
            row.update({f"{side}_mean": mean, f"{side}_sd": sd, f"{side}_n": n,
                        f"{side}_seeds": sorted(r["seed"] for r in sel),
                        f"{side}_runs": " ".join(sorted(  # what produced the numbers
                            f"{os.path.basename(r['dir'])}@{r['training']['weights']}"
                            for r in sel))})
          row.update(effect(row, claim.sign_of(metric)))
          paper = claim.paper.get((dataset, model, metric))
          row["paper_baseline"], row["paper_treatment"] = paper or (None, None)
          rows.append(row)
  return rows


def effect(row, sign):
  """diff (treatment - baseline), diff / pooled sd, and the reading of it for a claim of `sign`
  (None: a metric shown beside the claim, read as 'rises' or 'falls')."""
  b, t = row["baseline_mean"], row["treatment_mean"]
  if b is None or t is None:
    return {"diff": None, "diff_sd": None, "reading": "not run yet"}
  diff = t - b
  if row["baseline_sd"] is None or row["treatment_sd"] is None:
    return {"diff": diff, "diff_sd": None, "reading": "one seed: no sd"}
  pooled = float(np.sqrt((row["baseline_sd"] ** 2 + row["treatment_sd"] ** 2) / 2))
  ratio = diff / pooled if pooled > 0 else float("inf") * np.sign(diff) if diff else 0.0
  if sign is None:
    reading = ("rises" if ratio >= HOLDS_AT_SD else "falls" if ratio <= -HOLDS_AT_SD
               else "within noise") + " (not claimed)"
  elif sign * ratio >= HOLDS_AT_SD:
    reading = "holds"
  elif sign * ratio <= -HOLDS_AT_SD:
    reading = "reversed"
  else:
    reading = "within noise"
  return {"diff": diff, "diff_sd": ratio, "reading": reading}


def _side_label(claim, value):
  if claim.vary == "model":
    return {"vae": "beta-VAE", "echo": "Echo"}.get(value, value)
  return f"{claim.vary} {value:g}"


def claim_markdown(claim, rows):
  """The claim's table in Markdown, with its budget, seeds and the paper's rows."""
  base, treat = _side_label(claim, claim.baseline), _side_label(claim, claim.treatment)
  fixed = ", ".join(f"{k} {v:g}" for k, v in claim.fixed.items())
  seeds = sorted({s for r in rows for s in r["baseline_seeds"] + r["treatment_seeds"]})
  lines = [f"### Claim ({claim.key}): {claim.text}", "",
           f"{base} -> {treat} ({fixed}); {claim.steps:,} steps per run; seeds "
           f"{', '.join(map(str, seeds)) or 'none yet'}; paper.gin; scored on the full dSprites. "
           f"Paper: Table 2 {claim.paper_rows}, 300,000 steps, 10 runs, published.", "",
           f"| data | model | code | metric | {base} | {treat} | diff | diff / sd | reading "
           f"| paper {base} -> {treat} |", "|---" * 10 + "|"]
  for r in rows:
    paper = ("–" if r["paper_baseline"] is None
             else f"{r['paper_baseline']:.2f} -> {r['paper_treatment']:.2f}")
    diff = "–" if r["diff"] is None else f"{r['diff']:+.3f}"
    ratio = "–" if r["diff_sd"] is None else f"{r['diff_sd']:+.1f}"
    base_cell, treat_cell = (aggregate.format_cell(r[f"{side}_mean"], r[f"{side}_sd"],
                                                   r[f"{side}_n"], digits=3)
                             for side in ("baseline", "treatment"))
    lines.append(f"| {r['dataset']} | {r['model'] or 'both'} | {r['representation']} | "
                 f"{r['metric']} | {base_cell} | {treat_cell} | {diff} | {ratio} | "
                 f"{r['reading']} | {paper} |")
  return "\n".join(lines)


def write_markdown(path, tables):
  head = ("mean ± sample sd over seeds (n runs); diff = treatment - baseline; diff / sd: in "
          f"pooled sd of the two groups; 'holds': at least {HOLDS_AT_SD:g} sd in the claimed "
          f"direction, 'reversed': {HOLDS_AT_SD:g} sd against it, else 'within noise'; a "
          "metric shown beside a claim that does not speak of it (FactorVAE in (c)) reads "
          f"'rises' or 'falls' at {HOLDS_AT_SD:g} sd, '(not claimed)'. code: mean or sampled code "
          "(the paper scored sampled codes).")
  return atomic_io.write_text(path, head + "\n\n" + "\n\n".join(tables) + "\n")


CSV_FIELDS = ("claim", "dataset", "model", "representation", "metric", "steps", "baseline_mean",
              "baseline_sd", "baseline_n", "baseline_seeds", "treatment_mean", "treatment_sd",
              "treatment_n", "treatment_seeds", "diff", "diff_sd", "reading", "paper_baseline",
              "paper_treatment", "baseline_runs", "treatment_runs")


def write_csv(path, rows):
  return atomic_io.write_csv(
      path, CSV_FIELDS, [{**r, "baseline_seeds": " ".join(map(str, r["baseline_seeds"])),
                          "treatment_seeds": " ".join(map(str, r["treatment_seeds"]))}
                         for r in rows])


def write_runs_markdown(path, runs):
  """runs.md: one line per run behind the claims: its budget, weights, final losses, where it
  trained, and its scores of the mean / sampled code (what every number of claims.md comes from)."""
  by_dir = {}
  for r in runs:
    by_dir.setdefault(r["dir"], {})[r["representation"]] = r
  lines = ["| run | steps | weights | distortion | rate | discriminator accuracy | FactorVAE "
           "mean / sampled | MIG mean / sampled | position dimensions: ° off the image axes "
           "(R²) | computed on |", "|---" * 10 + "|"]
  def order(item):  # the longest budget first, then as the claims list them, seeds together
    r = next(iter(item[1].values()))
    return (-r["steps"], r["dataset"] != "dsprites", r["model"] != "echo", r["beta"], r["gamma"],
            r["seed"])

  for run_dir, codes in sorted(by_dir.items(), key=order):
    r = next(iter(codes.values()))
    losses = r["training"].get("final_losses_last_100_steps", {})
    cells = []
    for metric, key in (("factor_vae", "eval_accuracy"), ("mig", "discrete_mig")):
      values = [codes[c]["scored"].get(metric, {}).get(key) if c in codes else None
                for c in REPRESENTATIONS]
      cells.append(" / ".join("–" if v is None else f"{v:.3f}" for v in values))
    disc = losses.get("disc_accuracy")
    lines.append(f"| {os.path.basename(run_dir)} | {r['steps']:,} | {r['training']['weights']} | "
                 f"{losses.get('distortion', float('nan')):.1f} | "
                 f"{losses.get('rate', float('nan')):.2f} | "
                 f"{'–' if disc is None else f'{disc:.2f}'} | {cells[0]} | {cells[1]} | "
                 f"{position_cell(run_dir, r)} | {_where(r)} |")
  head = ("Every run behind claims.md (`paper.gin`; scored on the full dSprites, the paper's "
          "metric settings). distortion, rate (Echo: exact; Gaussian: KL) and the discriminator's "
          "accuracy: nats and fractions averaged over the last 100 steps. Position dimensions: "
          "each mean-code dimension fitted linearly to (posX, posY) over the run's code table "
          "(metrics/alignment.py), those with R² >= "
          f"{alignment.MIN_R2:g}: 0° codes along one image axis, 45° along a diagonal.")
  return atomic_io.write_text(path, head + "\n\n" + "\n".join(lines) + "\n")


def position_cell(run_dir, run):
  """The run's position-coding dimensions (metrics.alignment.describe) from its code table, or
  why not: none saved, or saved from other weights than the scored ones (refused)."""
  path = os.path.join(run_dir, rundir.CODES_FILE)
  if not os.path.exists(path):
    return "– (no code table)"
  try:
    table = code_table.load(path)
  except code_table.UnreadableTableError:
    return "– (code table unreadable)"
  if table["weights"] != run["scores"]["weights"]:
    return f"– (code table of weights {table['weights'] or 'unrecorded'}, not the scored ones)"
  # the table holds the evaluation set's codes (the full dSprites for a ds_corr run)
  factors = data_registry.make_dataset(table["dataset"]).factors_of(table["indices"])
  return alignment.describe(alignment.position_alignment(table["codes"], factors))


def _where(run):
  trained, scored = (device.label(run[block].get("device")) for block in ("training", "scores"))
  return trained if scored == trained else f"{trained}; scored on {scored}"


def claims_figure(runs, path):
  """One column per claim, one row per metric: every seed's score, baseline (grey) against
  treatment (colour) per cell, the paper's pair as hollow diamonds."""
  fig, axes = plt.subplots(2, len(CLAIMS), figsize=(5.2 * len(CLAIMS), 7.5), squeeze=False)
  for j, claim in enumerate(CLAIMS):
    for i, metric_entry in enumerate((FVAE, MIG)):
      ax = axes[i, j]
      metric, key, name = metric_entry
      cells = [(d, m, rep) for d in claim.datasets for m in claim.models or (None,)
               for rep in REPRESENTATIONS]
      for x, (dataset, model, rep) in enumerate(cells):
        for k, (value, color) in enumerate(((claim.baseline, "0.55"),
                                            (claim.treatment, f"C{j}"))):
          sel = _selected(runs, claim, dataset, model, rep, value)
          ys = [aggregate.score(r, metric, key) for r in sel]
          xs = np.full(len(ys), x + (k - 0.5) * 0.3)
          ax.scatter(xs, ys, s=22, color=color, zorder=3,
                     label=_side_label(claim, value) if x == 0 else None)
          paper = claim.paper.get((dataset, model, metric))
          if paper is not None and rep == "sample":
            ax.scatter([x + (k - 0.5) * 0.3], [paper[k]], s=60, marker="D", facecolors="none",
                       edgecolors=color, zorder=2,
                       label="paper (sampled codes)" if (x, k) == (1, 1) else None)
      ax.set_xticks(range(len(cells)))
      ax.set_xticklabels([f"{d}\n{m or ''}\n{rep}".replace("\n\n", "\n") for d, m, rep in cells],
                         fontsize=8)
      ax.set_xlim(-0.6, len(cells) - 0.4)
      ax.set_ylabel(name)
      ax.set_title(f"({claim.key}) {name}, {claim.steps:,} steps", fontsize=10)
      ax.legend(fontsize=7)
  fig.suptitle("The Table 2 study's claims: one point per seed")
  fig.tight_layout(rect=(0, 0, 1, 0.96))
  return save(fig, path)


def parse_args(argv=None):
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("study_dir", help="the study's runs folder (steps30000/, steps5000/ below it)")
  p.add_argument("--out", type=checks.output_folder, help="output folder (default STUDY_DIR)")
  return p.parse_args(argv), p


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args, p = parse_args(argv)
  if not os.path.isdir(args.study_dir):
    p.error(f"study_dir {args.study_dir!r} is not a folder")
  out = args.out or args.study_dir
  try:
    checks.check_output_folder("study_dir", out)  # --out was checked as it was parsed
  except ValueError as e:
    p.error(f"{e}; give --out")
  runs, skipped = aggregate.load_runs(args.study_dir)
  with open(PAPER_GIN) as f:
    runs, departing = study_runs(runs, provenance.saved_bindings(f.read()))
  skipped += [(d, f"not paper.gin's settings: {'; '.join(lines)}") for d, lines in departing]
  for run_dir, reason in skipped:
    print(f"skipped {run_dir}: {reason}")
  if not runs:
    p.error(f"no runs with current scores below {args.study_dir!r}")
  os.makedirs(out, exist_ok=True)
  all_rows, tables = [], []
  for claim in CLAIMS:
    rows = claim_rows(runs, claim)
    all_rows += rows
    tables.append(claim_markdown(claim, rows))
  paths = [write_markdown(os.path.join(out, "claims.md"), tables),
           write_csv(os.path.join(out, "claims.csv"), all_rows),
           write_runs_markdown(os.path.join(out, "runs.md"), runs),
           claims_figure(runs, os.path.join(out, "claims.png"))]
  print("\n\n".join(tables))
  for path in paths:
    print(f"wrote {path}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
