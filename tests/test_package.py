"""The suite is one installed package, echo_suite: importable from anywhere, imported one way."""
import os
import re
import site
import subprocess
import sys

import pytest

import conftest
from echo_suite import ROOT

SUITE_MODULES = conftest.SUITE_MODULES
COMMAND_FILES = ["disentanglement.py", "dataset.py", "score.py"] + sorted(
    os.path.join("scripts", f) for f in os.listdir(os.path.join(ROOT, "scripts"))
    if f.endswith(".py"))


def _tracked_python_files():
  out = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True)
  files = out.stdout.split()
  assert len(files) > 50, out.stderr
  return files


def test_a_notebook_outside_the_clone_imports_the_package_and_scores_a_representation(tmp_path):
  notebook = tmp_path / "notebook.py"
  notebook.write_text(
      "import sys\n"
      "import numpy as np\n"
      "import echo_suite\n"
      "assert 'tensorflow' not in sys.modules  # importing the package starts no TensorFlow\n"
      "from echo_suite import score\n"
      "def centre_of_mass(images):  # codes posX and posY, nothing else\n"
      "  w = images[..., 0]\n"
      "  ys, xs = np.mgrid[0:64, 0:64]\n"
      "  mass = w.sum(axis=(1, 2))\n"
      "  return np.stack([(w * xs).sum(axis=(1, 2)) / mass, (w * ys).sum(axis=(1, 2)) / mass], 1)\n"
      "block = score(centre_of_mass, 'dsprites', metrics=['mig'],\n"
      "              settings={'eval_mig.num_train': 2000}, progress=False)\n"
      "print(echo_suite.__file__)\n"
      "print(block['metrics']['mean']['mig']['discrete_mig'])\n")
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  out = subprocess.run([sys.executable, str(notebook)], cwd=tmp_path, capture_output=True,
                       text=True, env=env)
  assert out.returncode == 0, out.stderr
  where, mig = out.stdout.splitlines()[-2:]
  assert where == os.path.join(ROOT, "__init__.py")
  # posX and posY each in one code dimension, the other three factors in none: MIG = (two
  # factors' gaps of about 0.6-0.8 of their entropy) / 5.
  assert 0.15 < float(mig) < 0.4


def test_no_file_edits_the_import_path_or_hides_a_late_import():
  offenders = []
  for path in _tracked_python_files():
    if path == "tests/conftest.py":
      continue
    with open(os.path.join(ROOT, path)) as f:
      for n, line in enumerate(f, 1):
        if any(mark in line for mark in conftest.ONLY_IN_CONFTEST):
          offenders.append(f"{path}:{n}: {line.strip()}")
  assert not offenders, "\n".join(offenders)


def test_every_suite_module_is_imported_through_the_package():
  # A bare `import rundir` would load a second copy (and register gin configurables twice).
  bare = re.compile(r"^\s*(import|from) (" + "|".join(SUITE_MODULES) + r")\b")
  offenders = []
  for path in _tracked_python_files():
    with open(os.path.join(ROOT, path)) as f:
      offenders += [f"{path}:{n}: {line.strip()}" for n, line in enumerate(f, 1)
                    if bare.match(line)]
  assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("path", COMMAND_FILES)
def test_command_line_files_are_thin_and_imported_by_nothing(path):
  with open(os.path.join(ROOT, path)) as f:
    text = f.read()
  code = [ln for ln in text.split('"""', 2)[2].splitlines() if ln.strip()]
  module = re.fullmatch(r"from echo_suite\.commands\.(\w+) import main", code[0])
  assert module and code[1:] == ['if __name__ == "__main__":', "  raise SystemExit(main())"], code
  assert os.path.isfile(os.path.join(ROOT, "commands", module[1] + ".py"))
  name = os.path.splitext(os.path.basename(path))[0]
  importers = subprocess.run(["git", "grep", "-lE", rf"^\s*(import|from) (scripts\.)?{name}\b",
                              "--", "*.py"], cwd=ROOT, capture_output=True, text=True).stdout
  assert not importers.strip(), importers


@pytest.mark.slow  # a venv and an editable install: about half a minute
def test_a_frozen_checkout_with_its_own_environment_runs_its_own_code(tmp_path):
  """docs/table2_study/README.md's recipe with a real interpreter: a checkout of this commit gets
  its own environment (here a venv that borrows this one's dependencies through a .pth line
  instead of downloading them again); that Python imports echo_suite from the checkout, not from
  this clone, and the study script accepts it, while this clone's Python is refused there."""
  frozen = tmp_path / "frozen"
  archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT,
                           capture_output=True, check=True).stdout
  frozen.mkdir()
  subprocess.run(["tar", "-x", "-C", str(frozen)], input=archive, check=True)
  venv = tmp_path / "venv"
  subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
  python = venv / "bin" / "python"
  theirs = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
  ours = site.getsitepackages()[0]  # this venv's
  # A directory named in a .pth is added without its own .pth files: this clone's editable
  # install does not come along.
  (tmp_path / "venv" / theirs / "dependencies.pth").write_text(ours + "\n")
  install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                            "--no-build-isolation", "--no-index", "--editable", str(frozen)],
                           capture_output=True, text=True)
  assert install.returncode == 0, install.stderr
  where = subprocess.run([str(python), "-c", "import echo_suite, os, sys; "
                          "print(os.path.realpath(echo_suite.ROOT)); import echo_suite.rundir"],
                         capture_output=True, text=True, cwd=tmp_path)
  assert where.returncode == 0, where.stderr
  assert where.stdout.strip() == os.path.realpath(frozen)
  script = frozen / "scripts" / "table2_study.sh"
  study = tmp_path / "study"
  refused = subprocess.run(["bash", str(script), str(study), "status"],
                           env={**os.environ, "PYTHON": sys.executable},
                           capture_output=True, text=True)
  assert refused.returncode == 2 and f"imports echo_suite from '{os.path.realpath(ROOT)}'" in \
      refused.stderr
  accepted = subprocess.run(["bash", str(script), str(study), "status"],
                            env={**os.environ, "PYTHON": str(python)},
                            capture_output=True, text=True, timeout=900)
  assert accepted.returncode == 0, accepted.stderr[-2000:]
  assert "claim_c_5k_adam: 0 of 8 runs done" in accepted.stdout
  assert not study.exists() or not any(study.rglob("results.json"))
