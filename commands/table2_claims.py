"""The Table 2 study's claims (docs/table2_study/), generated from its runs: one table per claim
(baseline against treatment per data set, model and code), Welch's t and an exact permutation
test of each cell, the verdict word of `evidence.verdict`, and README's headline block.

    python scripts/table2_claims.py STUDY_DIR [--keep RECORDS.csv] [--out DIR] [--readme README.md]
    python scripts/table2_claims.py --records RECORDS.csv [--out DIR] [--readme README.md]

STUDY_DIR is the study's runs folder (scripts/table2_study.sh's RUNS_DIR: steps30000/,
steps5000/, steps5000_adam0999/ below it). Every run with current scores below it becomes one
record (records.csv: its folder, settings, weights, losses, both codes' scores, where it trained);
runs trained with other settings than gin_configs/paper.gin's (besides the departures a claim
names) are listed and left out. `--keep` adds the records of an earlier records.csv whose runs
are not below STUDY_DIR (runs whose directories are gone); `--records` regenerates everything
from a records.csv alone. The claims (Brekelmans et al. 2019, Sec. 5.3, Table 2):

  (a) Echo beats beta-VAE on both scores on both data sets (row 1: beta 1, gamma 0).
  (b) A larger beta hurts on the dependent data (ds_corr, rows 1 -> 3; the paper does not state
      row 3's beta; the study uses 4).
  (c) TC regularisation raises MIG on independent data (dSprites, rows 4 -> 5; the paper does not
      state row 5's gamma; the study uses 20, and 5 for Echo).

Writes records.csv, claims.md, claims.csv, runs.md, claims.png and readme_block.txt (README's block,
also written into README between its markers with --readme).
"""
import argparse
import csv
import dataclasses
import itertools
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite.commands import aggregate
from echo_suite.commands import pretrained
from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import device
from echo_suite import evidence
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.data import registry as data_registry
from echo_suite.figures import sweep_figures
from echo_suite.metrics import alignment, code_table
from echo_suite.report import runs as report_runs

REPRESENTATIONS = ("mean", "sample")
PAPER_REPRESENTATION = "sample"  # the public code scored the sampled code
PAPER_GIN = report_runs.PAPER_GIN  # the study's settings: the paper's, declared once there
# The public code's discriminator optimiser (Adam beta2 left at its default); paper.gin keeps
# disentanglement_lib's 0.9. A claim names it where its runs bound it.
ADAM_0999 = "model.disc_beta_2 = 0.999"
ALLOWED_DEPARTURES = ("", ADAM_0999)
README_BEGIN = "<!-- table2_claims.py: begin (generated; do not edit by hand) -->"
README_END = "<!-- table2_claims.py: end -->"
STUDY_RESULTS = "results/table2_study"  # where README's block links to


@dataclasses.dataclass(frozen=True)
class Claim:
  """One cell group of a claim: `vary` goes from `baseline` to `treatment`, the rest held.

  Attributes:
    id: the cell group's name in claims.csv ('a', 'c_g5', 'c_5k_adam', ...).
    key: the paper's claim it tests: 'a', 'b' or 'c'.
    text: the claim in words.
    steps: the step budget of its runs.
    folder: the folder of STUDY_DIR its runs sit in.
    datasets, models: the cells (a varies the model: models is empty).
    vary, baseline, treatment: the setting that changes ('model', 'beta' or 'gamma').
    fixed: the settings held ({'beta': 1.0, ...}).
    metrics: aggregate.METRICS entries, the claim's own metric first.
    sign: +1 if the claim says the score rises from baseline to treatment, -1 if it falls.
    paper: {(dataset, model or None, metric): (baseline, treatment)} from the paper's Table 2.
    paper_rows: which rows of the paper's Table 2 the numbers come from.
    claimed: the metric names the claim speaks of (empty: all of `metrics`).
    departures: (baseline's, treatment's) departures from paper.gin, as records hold them.
    note: what sets this group apart from the others of its claim ('' for none).
    tag: the budget column's few words on that (README's table).
  """
  id: str
  key: str
  text: str
  steps: int
  folder: str
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
  departures: tuple = ("", "")
  note: str = ""
  tag: str = ""

  def sign_of(self, metric):
    """The claimed direction of `metric`'s change; None for a metric shown beside the claim."""
    return self.sign if not self.claimed or metric in self.claimed else None


def _paper(row, dataset, metric, model):
  """A number of the paper's Table 2 (row counted from 1)."""
  metric_entry = next(m for m in aggregate.METRICS if m[0] == metric)
  return aggregate.PAPER_TABLE2[row - 1][aggregate.COLUMNS.index((dataset, metric_entry, model))]


FVAE, MIG = (next(m for m in aggregate.METRICS if m[0] == name) for name in ("factor_vae", "mig"))
_PAPER_A = {(d, None, m): (_paper(1, d, m, "vae"), _paper(1, d, m, "echo"))
            for d in ("dsprites", "ds_corr") for m in ("factor_vae", "mig")}
_PAPER_B = {("ds_corr", model, m): (_paper(1, "ds_corr", m, model), _paper(3, "ds_corr", m, model))
            for model in ("echo", "vae") for m in ("factor_vae", "mig")}
_PAPER_C = {("dsprites", model, m): (_paper(4, "dsprites", m, model),
                                     _paper(5, "dsprites", m, model))
            for model in ("echo", "vae") for m in ("factor_vae", "mig")}
_TEXT = {"a": "Echo beats beta-VAE on both scores on both data sets",
         "b": "a larger beta hurts on the dependent data (ds_corr)",
         "c": "TC regularisation raises MIG on independent data (dSprites)"}
_ROWS_B, _ROWS_C = "rows 1 -> 3 (row 3's beta not stated)", "rows 4 -> 5 (row 5's gamma not stated)"
CLAIMS = (
    Claim("a", "a", _TEXT["a"], 30000, "steps30000", ("dsprites", "ds_corr"), (), "model", "vae",
          "echo", {"beta": 1.0, "gamma": 0.0}, (FVAE, MIG), +1, _PAPER_A, "row 1"),
    Claim("b", "b", _TEXT["b"], 30000, "steps30000", ("ds_corr",), ("echo", "vae"), "beta", 1.0,
          4.0, {"gamma": 0.0}, (FVAE, MIG), -1, _PAPER_B, _ROWS_B),
    Claim("c", "c", _TEXT["c"], 30000, "steps30000", ("dsprites",), ("echo", "vae"), "gamma",
          0.0, 20.0, {"beta": 1.0}, (MIG, FVAE), +1, _PAPER_C, _ROWS_C, claimed=("mig",),
          departures=("", ADAM_0999), note="discriminator Adam beta2 0.999", tag="Adam 0.999"),
    Claim("c_g5", "c", _TEXT["c"], 30000, "steps30000", ("dsprites",), ("echo",), "gamma", 0.0,
          5.0, {"beta": 1.0}, (MIG, FVAE), +1, _PAPER_C, _ROWS_C, claimed=("mig",),
          departures=("", ADAM_0999), note="discriminator Adam beta2 0.999", tag="Adam 0.999"),
    Claim("c_5k_adam", "c", _TEXT["c"], 5000, "steps5000_adam0999", ("dsprites",),
          ("echo", "vae"), "gamma", 0.0, 20.0, {"beta": 1.0}, (MIG, FVAE), +1, _PAPER_C, _ROWS_C,
          claimed=("mig",), departures=(ADAM_0999, ADAM_0999),
          note="discriminator Adam beta2 0.999", tag="Adam 0.999"),
    Claim("b_5k", "b", _TEXT["b"], 5000, "steps5000", ("ds_corr",), ("echo", "vae"), "beta", 1.0,
          4.0, {"gamma": 0.0}, (FVAE, MIG), -1, _PAPER_B, _ROWS_B, note="round 1", tag="round 1"),
    Claim("c_5k", "c", _TEXT["c"], 5000, "steps5000", ("dsprites",), ("echo", "vae"), "gamma",
          0.0, 20.0, {"beta": 1.0}, (MIG, FVAE), +1, _PAPER_C, _ROWS_C, claimed=("mig",),
          note="round 1, discriminator Adam beta2 0.9 (paper.gin)", tag="round 1, Adam 0.9"),
)


# ---------------------------------------------------------------------------------------------
# Records: one per run, what every table below is generated from.

RECORD_FIELDS = ("folder", "run", "steps", "dataset", "model", "beta", "gamma", "seed",
                 "departures", "weights", "distortion", "rate", "disc_accuracy",
                 "factor_vae_mean", "factor_vae_sample", "mig_mean", "mig_sample", "position",
                 "computed_on", "source")
_NUMBERS = {"steps": int, "seed": int, "beta": float, "gamma": float, "distortion": float,
            "rate": float, "disc_accuracy": float, "factor_vae_mean": float,
            "factor_vae_sample": float, "mig_mean": float, "mig_sample": float}
SOURCE_RUN = "run directory"
UNDEFINED = "undefined"  # a score the metric could not give (a collapsed code): not a number


def paper_departures(run, paper):
  """provenance.departures of the run's identity from paper.gin (`paper`: its bindings)."""
  try:
    identity, _ = provenance.read_identity(run["dir"])
  except ValueError as e:
    return [str(e)]
  return provenance.departures(identity, paper) if identity else [f"no {rundir.RUN_CONFIG}"]


def records_from_runs(runs, study_dir, paper):
  """One record per run of aggregate.load_runs' entries (one per scored code).

  Returns:
    (records, skipped): skipped lists (run directory, reason) of runs with departures from
    paper.gin other than ALLOWED_DEPARTURES, or another model variant than the paper's.
  """
  by_dir = {}
  for r in runs:
    by_dir.setdefault(r["dir"], {})[r["representation"]] = r
  records, skipped = [], []
  for run_dir, codes in sorted(by_dir.items()):
    r = next(iter(codes.values()))
    departures = "; ".join(paper_departures(r, paper))
    if departures not in ALLOWED_DEPARTURES:
      skipped.append((run_dir, f"not paper.gin's settings: {departures}"))
      continue
    if aggregate.model_label({**r, "representation": "mean"}) != r["model"]:
      skipped.append((run_dir, f"not the paper's model: {aggregate.model_label(r)}"))
      continue
    losses = r["training"].get("final_losses_last_100_steps", {})
    record = {"folder": os.path.relpath(os.path.dirname(run_dir), study_dir),
              "run": os.path.basename(run_dir), "steps": r["steps"], "dataset": r["dataset"],
              "model": r["model"], "beta": float(r["beta"]), "gamma": float(r["gamma"]),
              "seed": int(r["seed"]), "departures": departures,
              "weights": r["training"]["weights"], "distortion": losses.get("distortion"),
              "rate": losses.get("rate"), "disc_accuracy": losses.get("disc_accuracy"),
              "position": position_cell(run_dir, r), "computed_on": device.trained_and_scored(r),
              "source": SOURCE_RUN}
    for metric, key, _ in aggregate.METRICS:
      for rep in REPRESENTATIONS:
        value = aggregate.score(codes[rep], metric, key) if rep in codes else np.nan
        scored = codes[rep]["scored"].get(metric, {}) if rep in codes else {}
        record[f"{metric}_{rep}"] = (UNDEFINED if "error" in scored
                                     else None if np.isnan(value) else value)
    records.append(record)
  return records, skipped


def write_records(path, records):
  return atomic_io.write_csv(path, RECORD_FIELDS, [
      {k: ("" if r[k] is None else repr(r[k]) if isinstance(r[k], float) else r[k])
       for k in RECORD_FIELDS} for r in records])


def read_records(path):
  """records.csv as written by write_records: numbers parsed, '' as None.

  Raises:
    ValueError: a column missing or a number unreadable, naming the file and line.
  """
  with open(path, newline="") as f:
    reader = csv.DictReader(f)
    missing = [k for k in RECORD_FIELDS if k not in (reader.fieldnames or ())]
    if missing:
      raise ValueError(f"{path} is not a records.csv: no column {', '.join(missing)}")
    records = []
    for line, row in enumerate(reader, start=2):
      try:
        records.append({k: _parse(k, row[k]) for k in RECORD_FIELDS})
      except ValueError as e:
        raise ValueError(f"{path}, line {line}: {e}") from None
  return records


def _parse(field, text):
  if field not in _NUMBERS:
    return text
  if text == "":
    return None
  if text == UNDEFINED and field.endswith(REPRESENTATIONS):
    return UNDEFINED
  return _NUMBERS[field](text)


def _order(record):
  """The longest budget first, then as the claims list them, seeds together."""
  return (-record["steps"], record["folder"], record["dataset"] != "dsprites",
          record["model"] != "echo", record["beta"], record["gamma"], record["seed"])


# ---------------------------------------------------------------------------------------------
# Claims

def _selected(records, claim, dataset, model, side):
  """The records of one side ('baseline' or 'treatment') of one cell of the claim."""
  value = claim.baseline if side == "baseline" else claim.treatment
  setting = {**claim.fixed, claim.vary: value}
  if model is not None:
    setting["model"] = model
  departures = claim.departures[0 if side == "baseline" else 1]
  return sorted((r for r in records if r["folder"] == claim.folder and r["steps"] == claim.steps
                 and r["dataset"] == dataset and r["departures"] == departures
                 and all(r[k] == v for k, v in setting.items())), key=lambda r: r["seed"])


def _values(selected, metric, representation):
  """The scores of the selected runs (runs not scored, or whose score is undefined, left out)."""
  return [r[f"{metric}_{representation}"] for r in selected
          if isinstance(r[f"{metric}_{representation}"], float)]


def _undefined(selected, metric, representation):
  return [r for r in selected if r[f"{metric}_{representation}"] == UNDEFINED]


def claim_rows(records, claim):
  """One dict per (dataset, model, representation, metric) of the claim: each side's mean, sd,
  n, seeds and runs (run@weights); the comparison (diff, Welch t, df, p, permutation p), its
  verdict; the paper's pair beside the representation the paper scored."""
  rows = []
  for dataset, model in itertools.product(claim.datasets, claim.models or (None,)):
    sides = {side: _selected(records, claim, dataset, model, side)
             for side in ("baseline", "treatment")}
    for representation in REPRESENTATIONS:
      for metric, _, name in claim.metrics:
        row = {"claim": claim.id, "dataset": dataset, "model": model or "",
               "representation": representation, "metric": name, "steps": claim.steps}
        values = {}
        for side, sel in sides.items():
          values[side] = _values(sel, metric, representation)
          mean, sd, n = aggregate.mean_sd(values[side])
          row.update({f"{side}_mean": mean, f"{side}_sd": sd, f"{side}_n": n,
                      f"{side}_seeds": [r["seed"] for r in sel
                                        if isinstance(r[f"{metric}_{representation}"], float)],
                      f"{side}_undefined": " ".join(
                          r["run"] for r in _undefined(sel, metric, representation)),
                      f"{side}_runs": " ".join(f"{r['run']}@{r['weights']}" for r in sel)})
        c = evidence.compare(values["baseline"], values["treatment"])
        row.update({"diff": c.diff, "welch_t": c.t, "welch_df": c.df, "welch_p": c.p,
                    "permutation_p": c.permutation_p,
                    "verdict": ("not run yet" if not values["baseline"] or not values["treatment"]
                                else evidence.verdict(c, claim.sign_of(metric)))})
        paper = claim.paper.get((dataset, model, metric))
        if representation != PAPER_REPRESENTATION:
          paper = None
        row["paper_baseline"], row["paper_treatment"] = paper or (None, None)
        rows.append(row)
  return rows


def _side_label(claim, value):
  if claim.vary == "model":
    return {"vae": "beta-VAE", "echo": "Echo"}.get(value, value)
  return f"{claim.vary} {value:g}"


def _f(value, spec):
  return "–" if value is None else value if isinstance(value, str) else format(value, spec)


def claim_intro(claim, rows):
  """The claim's heading and its paragraph (sides, budget, seeds, the paper's rows)."""
  base, treat = _side_label(claim, claim.baseline), _side_label(claim, claim.treatment)
  fixed = ", ".join(f"{k} {v:g}" for k, v in claim.fixed.items())
  seeds = sorted({s for r in rows for s in r["baseline_seeds"] + r["treatment_seeds"]})
  note = f"; {claim.note}" if claim.note else ""
  return (f"Claim ({claim.key}), `{claim.id}`: {claim.text}",
          f"{base} -> {treat} ({fixed}); {claim.steps:,} steps per run (folder "
          f"`{claim.folder}`{note}); seeds {', '.join(map(str, seeds)) or 'none yet'}; "
          f"paper.gin; scored on the full dSprites. Paper: Table 2 {claim.paper_rows}, "
          "300,000 steps, 10 runs, sampled codes.")


def claim_table(claim, rows):
  """The claim's table as text: (header, rows), one row per data set, model, code and metric,
  with each side's mean ± sd (n), the difference, Welch's t (df), p, the permutation p, the
  verdict word and the paper's pair. claims.md and the sweep report print it."""
  base, treat = _side_label(claim, claim.baseline), _side_label(claim, claim.treatment)
  header = ["data", "model", "code", "metric", base, treat, "diff", "Welch t (df)", "p",
            "permutation p", "verdict", "paper"]
  lines = []
  for r in rows:
    paper = ("" if r["paper_baseline"] is None
             else f"{r['paper_baseline']:.2f} -> {r['paper_treatment']:.2f}")
    cells = [aggregate.format_cell(r[f"{side}_mean"], r[f"{side}_sd"], r[f"{side}_n"],
                                   digits=3) for side in ("baseline", "treatment")]
    t = "–" if r["welch_t"] is None else f"{r['welch_t']:+.2f} ({r['welch_df']:.1f})"
    lines.append([r["dataset"], r["model"] or "both", r["representation"], r["metric"], *cells,
                  _f(r["diff"], "+.3f"), t, evidence.format_p(r["welch_p"]),
                  evidence.format_p(r["permutation_p"]), r["verdict"], paper])
  return header, lines


def claim_markdown(claim, rows):
  """The claim's table in Markdown, with its budget, seeds and the paper's rows."""
  title, intro = claim_intro(claim, rows)
  header, lines = claim_table(claim, rows)
  out = [f"### {title}", "", intro, "", "| " + " | ".join(header) + " |",
         "|---" * len(header) + "|"]
  out += ["| " + " | ".join(line) + " |" for line in lines]
  return "\n".join(out)


def write_markdown(path, tables):
  head = ("mean ± sample sd over seeds (n runs); diff = treatment - baseline; Welch's t test "
          "(its degrees of freedom) and the exact permutation test of the seeds, both two-sided "
          f"(evidence.py). {evidence.RULES} code: mean or sampled code; the paper's numbers "
          "sit beside the sampled code, the one its public code scored.")
  return atomic_io.write_text(path, head + "\n\n" + "\n\n".join(tables) + "\n")


CSV_FIELDS = ("claim", "dataset", "model", "representation", "metric", "steps", "baseline_mean",
              "baseline_sd", "baseline_n", "baseline_seeds", "treatment_mean", "treatment_sd",
              "treatment_n", "treatment_seeds", "baseline_undefined", "treatment_undefined", "diff", "welch_t", "welch_df", "welch_p",
              "permutation_p", "verdict", "paper_baseline", "paper_treatment", "baseline_runs",
              "treatment_runs")


def write_csv(path, rows):
  return atomic_io.write_csv(
      path, CSV_FIELDS, [{**r, "baseline_seeds": " ".join(map(str, r["baseline_seeds"])),
                          "treatment_seeds": " ".join(map(str, r["treatment_seeds"]))}
                         for r in rows])


# ---------------------------------------------------------------------------------------------
# README's headline block

def headline_block(records, rows):
  """README's Table 2 block: the headline cells of every claim (the claimed metrics of the
  sampled code, the one the paper scored), one sentence per claim with its numbers, and links to
  the full tables. Generated: README must hold it byte for byte (tests/test_docs.py)."""
  by_claim = {c.id: [r for r in rows if r["claim"] == c.id] for c in CLAIMS}
  lines = [README_BEGIN,
           "| claim | cell, sampled code | budget | n | baseline | treatment | Welch t (df), p "
           "| perm. p | verdict | paper |", "|---" * 10 + "|"]
  sentences = []
  for claim in CLAIMS:
    cells = [r for r in by_claim[claim.id] if r["representation"] == PAPER_REPRESENTATION
             and claim.sign_of(_metric_key(r["metric"])) is not None]
    base, treat = _side_label(claim, claim.baseline), _side_label(claim, claim.treatment)
    for r in cells:
      where = ", ".join(x for x in (r["dataset"], _model_name(r["model"]), r["metric"]) if x)
      test = ("–" if r["welch_p"] is None else
              f"{r['welch_t']:+.1f} ({r['welch_df']:.1f}), {evidence.format_p(r['welch_p'])}")
      paper = ("" if r["paper_baseline"] is None
               else f"{r['paper_baseline']:.2f} -> {r['paper_treatment']:.2f}")
      budget = f"{claim.steps // 1000}k" + (f", {claim.tag}" if claim.tag else "")
      lines.append(f"| ({claim.key}) {base} -> {treat} | {where} | {budget} | "
                   f"{_n(r)} | {_cell(r, 'baseline')} | "
                   f"{_cell(r, 'treatment')} | {test} | "
                   f"{evidence.format_p(r['permutation_p'])} | {r['verdict']} | {paper} |")
    sentences.append(claim_sentence(claim, cells))
  lines += ["", "Verdicts by fixed rules (`evidence.py`): with fewer than "
            f"{evidence.MIN_SEEDS_TO_HOLD} seeds a side at most *suggestive*; the paper: "
            "300,000 steps, 10 runs.", ""]
  lines += [f"- {s}" for s in sentences]
  lines += ["", f"Every code, metric and test: [claims.md]({STUDY_RESULTS}/claims.md); every run, "
            f"with its weights and the command that remakes it: [runs.md]({STUDY_RESULTS}/runs.md).",
            README_END]
  return "\n".join(lines) + "\n"


def _n(row):
  """'2 / 2', with each side's runs whose score is undefined: '2 / 1 (+1 undefined)'."""
  sides = []
  for side in ("baseline", "treatment"):
    undefined = len(row[f"{side}_undefined"].split())
    sides.append(f"{row[f'{side}_n']}" + (f" (+{undefined} undefined)" if undefined else ""))
  return " / ".join(sides)


def _metric_key(name):
  return next(m[0] for m in aggregate.METRICS if m[2] == name)


def _model_name(model):
  return {"echo": "Echo", "vae": "beta-VAE", "": ""}[model]


def _cell(row, side):
  mean, sd = row[f"{side}_mean"], row[f"{side}_sd"]
  return "–" if mean is None else f"{mean:.3f}" + ("" if sd is None else f" ± {sd:.3f}")


def claim_sentence(claim, cells):
  """'(a) ..., 30,000 steps: suggestive in 1 of 4 cells (...); inconclusive in 3 (p 0.2-0.7).'"""
  base, treat = _side_label(claim, claim.baseline), _side_label(claim, claim.treatment)
  note = f", {claim.note}" if claim.note else ""
  head = f"({claim.key}) {base} -> {treat}, {claim.steps:,} steps{note}:"
  groups = {}
  for r in cells:
    groups.setdefault(r["verdict"], []).append(r)
  parts = []
  for word, group in groups.items():
    if word == "not run yet":
      parts.append(f"not run yet in {_of(len(group), len(cells))}")
      continue
    ps = [r["welch_p"] for r in group if r["welch_p"] is not None]
    if len(group) == 1:
      r = group[0]
      where = ", ".join(x for x in (r["dataset"], _model_name(r["model"]), r["metric"]) if x)
      detail = (f"{where}, {_f(r['baseline_mean'], '.3f')} -> {_f(r['treatment_mean'], '.3f')}"
                + (f", Welch {evidence.p_phrase(ps[0])}" if ps else ""))
      parts.append(f"{word} in {_of(1, len(cells))} ({detail})")
    else:
      span = (f"Welch p {evidence.format_p(min(ps))}-{evidence.format_p(max(ps))}"
              if ps else "no test")
      parts.append(f"{word} in {_of(len(group), len(cells))} ({span})")
  undefined = sorted({run for r in cells for side in ("baseline", "treatment")
                      for run in r[f"{side}_undefined"].split()})
  if undefined:
    parts.append(f"left out as undefined (a collapsed code): {', '.join(undefined)}")
  return f"{head} {'; '.join(parts) or 'no cells'}."


def _of(k, n):
  return f"{k} of {n} cell{'s' if n > 1 else ''}"


def write_readme_block(path, block):
  """Replace README's block between README_BEGIN and README_END by `block` (atomic)."""
  return atomic_io.replace_block(path, README_BEGIN, README_END, block)


def readme_block(path):
  """The block README holds now, markers included (ValueError without exactly one)."""
  return atomic_io.read_block(path, README_BEGIN, README_END)


# ---------------------------------------------------------------------------------------------
# runs.md

def retrain_command(record):
  """The command that retrains and rescores the run into RUNS_DIR/<folder>/<run> (both codes,
  the study's checkpointing): the run's settings as disentanglement.py's flags."""
  extra = "".join(f' --gin_param "{d}"' for d in record["departures"].split("; ") if d)
  return (f"python disentanglement.py --gin_file gin_configs/paper.gin --dataset "
          f"{record['dataset']} --model {record['model']} --beta {record['beta']:g} --gamma "
          f"{record['gamma']:g} --seed {record['seed']} --steps {record['steps']}{extra} "
          "--gin_param \"train.checkpoint_every = 1000\" --representation mean sample "
          f"--output_dir RUNS_DIR/{record['folder']}/{record['run']}")


def write_runs_markdown(path, records):
  """runs.md: one line per run behind the claims (budget, weights, final losses, scores of the
  mean / sampled code, position dimensions, where it was computed, the record's source), then
  the command that retrains and rescores each."""
  records = sorted(records, key=_order)
  lines = ["| folder | run | steps | weights | distortion | rate | discriminator accuracy | "
           "FactorVAE mean / sampled | MIG mean / sampled | position dimensions: ° off the "
           "image axes (R²) | computed on | source |", "|---" * 12 + "|"]
  for r in records:
    cells = [" / ".join(_f(r[f"{metric}_{rep}"], ".4f") for rep in REPRESENTATIONS)
             for metric in ("factor_vae", "mig")]
    lines.append(f"| {r['folder']} | {r['run']} | {r['steps']:,} | {r['weights']} | "
                 f"{_f(r['distortion'], '.1f')} | {_f(r['rate'], '.2f')} | "
                 f"{_f(r['disc_accuracy'], '.2f')} | {cells[0]} | {cells[1]} | "
                 f"{r['position']} | {r['computed_on']} | {r['source']} |")
  lines += ["", "## The command that remakes each run", "",
            "RUNS_DIR: the study's runs folder (`scripts/table2_study.sh RUNS_DIR` runs them all, "
            "in phases; each line below is one run alone). A shipped run (pretrained/, "
            "[docs/pretrained.md](../../docs/pretrained.md)) is rescored and drawn without "
            "training by the command in the last column.", "",
            "| run | command | without training |", "|---|---|---|"]
  for r in records:
    name = pretrained.shipped_as(r["run"], r["steps"], r["weights"])
    rescore = f"`python scripts/pretrained.py rescore {name}`" if name else "not shipped"
    lines.append(f"| {r['folder']}/{r['run']} | `{retrain_command(r)}` | {rescore} |")
  head = ("Every run behind claims.md (`paper.gin`; scored on the full dSprites, the paper's "
          "metric settings), generated from records.csv. distortion, rate (Echo: exact; "
          "Gaussian: KL) and the discriminator's accuracy: nats and fractions averaged over the "
          "last 100 steps. Position dimensions: each mean-code dimension fitted linearly to "
          "(posX, posY) over the run's code table (metrics/alignment.py), those with R² >= "
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


def claims_figure(records, path):
  """One column per claim group, one row per metric: every seed's sampled-code score, baseline
  (grey) against treatment (colour) per cell, the paper's pair as hollow diamonds."""
  rows = []
  for metric, _, name in (FVAE, MIG):
    row = []
    for j, claim in enumerate(CLAIMS):
      cells = list(itertools.product(claim.datasets, claim.models or (None,)))
      strips = []
      for x, (dataset, model) in enumerate(cells):
        paper = claim.paper.get((dataset, model, metric))
        for k, (side, color) in enumerate((("baseline", "0.55"), ("treatment", f"C{j}"))):
          position = x + (k - 0.5) * 0.3
          values = _values(_selected(records, claim, dataset, model, side), metric,
                           PAPER_REPRESENTATION)
          strips.append(sweep_figures.Strip(
              position, tuple(values), color,
              _side_label(claim, getattr(claim, side)) if x == 0 else None, size=22))
          if paper is not None:
            strips.append(sweep_figures.Strip(
                position, (paper[k],), color,
                "paper" if (x, k) == (len(cells) - 1, 1) else None, marker="D", hollow=True,
                size=60))
      row.append(sweep_figures.StripPanel(
          f"({claim.key}) {claim.id}, {claim.steps // 1000}k steps", f"{name}, sampled code",
          tuple(strips), tuple((x, f"{d}\n{m or ''}".strip()) for x, (d, m) in enumerate(cells))))
    rows.append(row)
  return sweep_figures.strip_panels(
      rows, "The Table 2 study's claims: one point per seed (sampled codes)", path,
      panel_size=(3.4, 3.6))


# ---------------------------------------------------------------------------------------------

def parse_args(argv=None):
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("study_dir", nargs="?",
                 help="the study's runs folder (steps30000/, steps5000/, ... below it)")
  p.add_argument("--records", help="regenerate from this records.csv alone (no STUDY_DIR)")
  p.add_argument("--keep", help="an earlier records.csv: keep its runs not below STUDY_DIR")
  p.add_argument("--out", type=checks.output_folder, help="output folder (default STUDY_DIR)")
  p.add_argument("--readme", help="also write README's block into this file, between its markers")
  return p.parse_args(argv), p


def _read_records_or_exit(p, flag, path):
  try:
    return read_records(path)
  except OSError as e:
    p.error(f"{flag} {path!r}: {e.strerror}")
  except ValueError as e:
    p.error(f"{flag}: {e}")


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args, p = parse_args(argv)
  if (args.study_dir is None) == (args.records is None):
    p.error("give a STUDY_DIR or --records RECORDS.csv (one of them)")
  if args.records and args.keep:
    p.error("--keep goes with a STUDY_DIR, not with --records")
  if args.study_dir is not None and not os.path.isdir(args.study_dir):
    p.error(f"study_dir {args.study_dir!r} is not a folder")
  if args.readme is not None:
    try:
      checks.page_with_block(args.readme, README_BEGIN, README_END)
    except ValueError as e:
      p.error(f"--readme {e}")
  out = args.out or args.study_dir or os.path.dirname(os.path.abspath(args.records))
  try:
    checks.check_output_folder("--out", out)  # --out was checked as it was parsed
  except ValueError as e:
    p.error(f"{e}; give --out")
  kept = _read_records_or_exit(p, "--keep", args.keep) if args.keep else []
  if args.records:
    records = _read_records_or_exit(p, "--records", args.records)
  else:
    runs, skipped = aggregate.load_runs(args.study_dir)
    records, departing = records_from_runs(runs, args.study_dir, report_runs.paper_bindings())
    for run_dir, reason in skipped + departing:
      print(f"skipped {run_dir}: {reason}")
    present = {(r["folder"], r["run"]) for r in records}
    records += [r for r in kept if (r["folder"], r["run"]) not in present]
  if not records:
    p.error(f"no runs with current scores below {args.study_dir!r}")
  records.sort(key=_order)
  os.makedirs(out, exist_ok=True)
  all_rows, tables = [], []
  for claim in CLAIMS:
    rows = claim_rows(records, claim)
    all_rows += rows
    tables.append(claim_markdown(claim, rows))
  block = headline_block(records, all_rows)
  paths = [write_records(os.path.join(out, "records.csv"), records),
           write_markdown(os.path.join(out, "claims.md"), tables),
           write_csv(os.path.join(out, "claims.csv"), all_rows),
           write_runs_markdown(os.path.join(out, "runs.md"), records),
           atomic_io.write_text(os.path.join(out, "readme_block.txt"), block),
           claims_figure(records, os.path.join(out, "claims.png"))]
  if args.readme:
    paths.append(write_readme_block(args.readme, block))
  print(block)
  for path in paths:
    print(f"wrote {path}")
  return 0
