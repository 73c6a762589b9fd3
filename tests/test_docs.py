"""README and docs/ stay true: README is short, every relative link resolves, and every command in
their shell blocks is accepted by the suite as written (its flags parse, its gin configuration,
model weights and metrics validate, a sweep plans its runs), or is one CI runs itself."""
import glob
import os
import re
import shlex
import subprocess

import numpy as np
import pytest

import conftest
from echo_suite.commands import train as disentanglement
from echo_suite.commands import dataset
from echo_suite.metrics import evaluate

from echo_suite.commands import aggregate
from echo_suite.commands import sweep

ROOT = conftest.ROOT
PAGES = [os.path.join(ROOT, "README.md")] + sorted(  # the pages, and the generated tables
    p for folder in ("docs", "results")
    for p in glob.glob(os.path.join(ROOT, folder, "**", "*.md"), recursive=True))
# Commands of the study's own script and of git/the shell: run by scripts/table2_study.sh and
# by people, not validated here.
NOT_SUITE = ("git ", "kill ", "PYTHON=", "scripts/table2_study.sh", "bash ", "setsid ", "make -C ",
             "python3 -m venv ", "echo ", "~/", "xdg-open ")


def shell_commands(path):
  """Every command line of the ```bash blocks of a page (continuations joined, comments cut)."""
  text = open(path).read()
  out = []
  for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
    for line in block.replace("\\\n", " ").splitlines():
      line = line.split("  #")[0].split(" # ")[0].strip()
      if line and not line.startswith("#"):
        out += [part.strip() for part in line.split(" && ")]  # each command of a chain
  return out


def test_readme_is_short_and_every_link_resolves():
  assert len(open(PAGES[0]).read().splitlines()) <= 120
  for page in PAGES:
    text = open(page).read()  # inline links, and reference definitions ("[label]: target")
    targets = re.findall(r"\]\(([^)#\s]+)", text) + re.findall(r"(?m)^\[[^]]+\]: *([^#\s]+)", text)
    assert targets or page != PAGES[0], "README has no links: the patterns are broken"
    for target in targets:
      if target.startswith(("http://", "https://")):
        continue
      path = os.path.normpath(os.path.join(os.path.dirname(page), target))
      assert os.path.exists(path), f"{os.path.relpath(page, ROOT)} links to missing {target}"


def _validate_training(argv):
  args = disentanglement.parse_args(argv)
  if args.eval_only:
    return  # needs a trained run: its refusals and replay are tests/test_provenance.py's
  disentanglement.validate(args)


def validate(command, tmp_path):
  words = shlex.split(command)
  if words[0] == "make":
    out = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return
  assert words[0] == "python", command
  script, argv = words[1], words[2:]
  if script == "disentanglement.py":
    _validate_training(argv)
  elif script == "dataset.py":
    args, _ = dataset.parse_args(argv)
    assert args.dataset in dataset.DATASET_NAMES
  elif script == "scripts/sweep.py":
    args, _ = sweep.parse_args(argv)
    assert sweep.plan(args)
  elif script == "scripts/aggregate.py":
    aggregate.parse_args(argv)
  elif script == "scripts/table2_claims.py":
    from echo_suite.commands import table2_claims
    table2_claims.parse_args(argv)
  elif script == "score.py":
    from echo_suite.commands import score
    args = score.parse_args(argv)
    score.parse_settings(args.gin_param)
    evaluate.check_metric_names(args.metrics)
    assert args.data is None or args.data in dataset.DATASET_NAMES  # None: the codes file's
  elif script == "scripts/pretrained.py":
    from echo_suite.commands import pretrained
    args = pretrained.parse_args(argv)
    if args.command == "rescore" and args.name != "NAME":  # a placeholder in the index's block
      pretrained.shipped_path(args.name)  # the model named is shipped
  elif script in ("scripts/mi_benchmark.py", "scripts/echo_rate_check.py",
                  "scripts/tc_check.py") or script.startswith("bench/"):
    assert os.path.isfile(os.path.join(ROOT, script))
  else:
    raise AssertionError(f"no validation for {command!r}: add one")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_documented_command_is_accepted(page, tmp_path, monkeypatch):
  monkeypatch.chdir(ROOT)
  commands = [c for c in shell_commands(page) if not c.startswith(NOT_SUITE)]
  for command in commands:
    try:
      validate(command, tmp_path)
    except SystemExit as e:  # argparse's refusal
      raise AssertionError(f"{os.path.relpath(page, ROOT)}: {command!r} is refused ({e})")


def test_the_validation_refuses_a_stale_command(tmp_path, monkeypatch):
  monkeypatch.chdir(ROOT)
  with pytest.raises((SystemExit, ValueError)):
    validate("python disentanglement.py --model beta_vae", tmp_path)
  with pytest.raises(SystemExit):
    validate("python scripts/sweep.py --models echo --betas -1", tmp_path)
  with pytest.raises(ValueError):
    validate("python disentanglement.py --gin_param 'model.no_such_arg = 1'", tmp_path)


def test_readme_headline_and_the_study_tables_are_what_their_records_generate(tmp_path, capsys):
  # README's Table 2 block, claims.md/.csv and runs.md are written by table2_claims.py from
  # results/table2_study/records.csv: one character apart fails here.
  from echo_suite.commands import table2_claims
  study = os.path.join(ROOT, "results", "table2_study")
  out = tmp_path / "out"
  assert table2_claims.main(["--records", os.path.join(study, "records.csv"), "--out",
                             str(out)]) == 0
  capsys.readouterr()
  block = (out / "readme_block.txt").read_text()
  assert table2_claims.readme_block(PAGES[0]) == block
  assert len(block.splitlines()) <= 40
  for name in ("claims.md", "claims.csv", "runs.md", "readme_block.txt"):
    with open(os.path.join(study, name)) as f:
      assert f.read() == (out / name).read_text(), f"results/table2_study/{name} is not generated"


def test_every_command_of_runs_md_is_accepted(tmp_path, monkeypatch):
  monkeypatch.chdir(ROOT)
  with open(os.path.join(ROOT, "results", "table2_study", "runs.md")) as f:
    commands = re.findall(r"`(python disentanglement.py [^`]+)`", f.read())
  assert len(commands) >= 24
  for command in commands:
    validate(command.replace("RUNS_DIR", str(tmp_path / "runs")), tmp_path)


def test_the_colour_and_noise_study_table_is_what_its_seeds_generate():
  # docs/datasets_study.md's block and the study's echo_vs_vae.md (results/datasets_study/) are
  # written by aggregate.py --doc from the runs; seeds.csv regenerates both to the character.
  from echo_suite import atomic_io
  page = os.path.join(ROOT, "docs", "datasets_study.md")
  block = atomic_io.read_block(page, aggregate.ECHO_VS_VAE_BEGIN, aggregate.ECHO_VS_VAE_END)
  assert block, "docs/datasets_study.md lost its generated block's markers"
  study = os.path.join(ROOT, "results", "datasets_study")
  records = aggregate.read_seed_records(os.path.join(study, "seeds.csv"))
  text = aggregate.echo_vs_vae_markdown(aggregate.echo_vs_vae(records))
  assert text and block == text
  with open(os.path.join(study, "echo_vs_vae.md")) as f:
    assert f.read() == text
  # The page's prose quotes the runs: its numbers are the seeds' own.
  with open(page) as f:
    prose = " ".join(f.read().split())
  fvae = {(r["data"], r["model"], r["code"], r["seed"]): r["factor_vae"] for r in records}
  for code in ("mean", "sample"):
    diff = np.mean([fvae["noisy_dsprites", "echo", code, s] - fvae["noisy_dsprites", "vae", code, s]
                    for s in (0, 1)])
    word = {"mean": "mean", "sample": "sampled"}[code]
    assert f"{abs(diff):.3f} {'lower' if diff < 0 else 'higher'} for Echo's {word} code" in prose
  assert (f"score {fvae['color_dsprites', 'vae', 'mean', 0]:.3f} and "
          f"{fvae['color_dsprites', 'vae', 'mean', 1]:.3f} in FactorVAE") in prose
  assert len(records) == 16 and {r["steps"] for r in records} == {5000}
  assert 'Every cell reads "inconclusive"' in prose
  assert {r["verdict"] for r in aggregate.echo_vs_vae(records)} == {"inconclusive"}
