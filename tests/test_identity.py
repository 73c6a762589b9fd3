"""Run identity is derived from the config: changing any argument of any configurable reached while
building the model and the data (budget arguments aside) makes another run, which the run
directory refuses, naming the binding; the derived lines equal what earlier versions wrote."""
import os

import pytest

from echo_suite.commands import train as disentanglement
from echo_suite import rundir
from echo_suite.data import registry as data_registry
from echo_suite.models import autoencoder

# One base configuration per group of configurables: together they reach every one.
BASES = {
    "echo on ds_corr": ["--dataset", "ds_corr"],
    "vae+TC on ds_pairs": ["--model", "vae", "--gamma", "5", "--dataset", "ds_pairs"],
    "dip_vae_i": ["--model", "dip_vae_i"],
    "annealed_vae": ["--model", "annealed_vae"],
    "info_vae": ["--model", "info_vae"],
}
# Values that a generic change would make invalid, and arguments that name another model.
SPECIAL = {"model.f_param": "'stretched'", "ds_pairs.pairs": "[['shape', 'scale']]",
           "model.clip": "0.9", "ds_corr.remove_prob": "0.3", "model.disc_beta_1": "0.6",
           "model.disc_beta_2": "0.95"}
SKIP = {"model.name", "dataset.name", "dataset.source"}


def identity(argv):
  disentanglement.configure(disentanglement.parse_args(argv))
  train_kw = disentanglement.train_settings()
  data = data_registry.make_dataset()
  autoencoder.Autoencoder(seed=train_kw["seed"])
  return disentanglement.run_identity(data)


def changed(line):
  """(binding name, a binding of another valid value) for an identity line 'name = value'."""
  name, value = (part.strip() for part in line.split(" = ", 1))
  if name in SPECIAL:
    return name, f"{name} = {SPECIAL[name]}"
  value = eval(value)  # noqa: S307  (the suite's own repr of a number, bool or None)
  if isinstance(value, bool):
    new = not value
  elif isinstance(value, int):
    new = value + 1
  elif isinstance(value, float):
    new = value + 0.5
  elif value is None:
    new = 2.0
  else:
    raise AssertionError(f"no change defined for {line!r}: add it to SPECIAL")
  return name, f"{name} = {new!r}"


@pytest.mark.slow  # 7 s; the fast tier keeps the budget and earlier-version identity checks
def test_every_non_budget_argument_is_part_of_the_identity(tmp_path):
  seen = set()
  for base_name, base in BASES.items():
    lines = identity(base)
    run = tmp_path / base_name.replace(" ", "_")
    rundir.claim(str(run), lines).release()
    own = [line for line in lines if line.split(" = ")[0] not in seen | SKIP]
    # weights a model does not take must stay at their value
    own = [line for line in own if not (base_name == "dip_vae_i" and line.startswith("model.gamma"))
           and not (base_name == "annealed_vae" and line.startswith("model.beta"))]
    for line in own:
      name, binding = changed(line)
      new = identity([*base, "--gin_param", binding])
      assert binding in new, (base_name, binding)
      with pytest.raises(rundir.RunDirError, match="different config") as err:
        rundir.claim(str(run), new)
      assert binding in str(err.value)  # the refusal names the binding
    seen |= {line.split(" = ")[0] for line in lines}
  # every configurable the suite registers for models and data was reached
  assert {name.split(".")[0] for name in seen} >= {
      "model", "train", "dataset", "ds_corr", "ds_pairs", "dip", "annealing", "mmd"}


def test_budget_arguments_are_not_part_of_the_identity():
  base = identity([])
  for binding in ("train.steps = 7", "train.checkpoint_every = 3", "train.summary_every = 2",
                  "train.keep_checkpoints = 5", "model.jit_compile = True"):
    assert identity(["--gin_param", binding]) == base, binding
  assert identity(["--gin_param", "train.batch_size = 65"]) != base  # not a budget argument


def test_identity_of_earlier_versions_is_accepted(tmp_path):
  """A run directory written before the identity was derived (it listed ds_corr.npz_path) is the
  same run; a real difference is still refused."""
  lines = identity(["--dataset", "ds_corr"])
  run = tmp_path / "old"
  os.makedirs(run)
  (run / rundir.RUN_CONFIG).write_text("\n".join(sorted(lines + ["ds_corr.npz_path = None"]))
                                       + "\n")
  rundir.claim(str(run), lines).release()
  assert (run / rundir.RUN_CONFIG).read_text().splitlines() == lines
  with pytest.raises(rundir.RunDirError, match="ds_corr.n_bins = 9"):
    rundir.claim(str(run), identity(["--dataset", "ds_corr", "--gin_param", "ds_corr.n_bins = 9"]))
