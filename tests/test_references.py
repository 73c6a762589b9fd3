"""No stale pointer: every file, suite name and gin binding that a page, comment, docstring or gin
file cites exists."""
import ast
import io
import os
import re
import subprocess
import tokenize

import pytest

import conftest
from echo_suite import ROOT
from echo_suite.models import registry as model_registry

FOLDERS = "data models metrics figures commands scripts bench tests docs results gin_configs".split()
SUITE_MODULES = conftest.SUITE_MODULES
# Files other projects hold (disentanglement_lib, the echo repo), named where the docs compare.
ELSEWHERE = {"model.py", "dsprites.py", "named_data.py", "norb.py", "cars3d.py", "echo_noise.py",
             "utils.py", "beta_vae.py", "factor_vae.py", "mig.py", "dci.py", "sap_score.py",
             "modularity_explicitness.py", "irs.py", "unsupervised_metrics.py",
             "downstream_task.py", "fairness.py", "vae.py", "train.py", "evaluate.py",
             "info_vae.json", "strong_downstream_task.py", "reduced_downstream_task.py",
             "unified_scores.py", "disentanglement.py", "experiments/disentanglement.py"}


def _tracked(*patterns):
  out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True)
  return out.stdout.split()


def _texts():
  """(path, line number, text) of every page, gin file and Python comment or string."""
  for path in _tracked("*.md", "*.gin", "*.txt", "*.toml", "Makefile", "*.sh"):
    with open(os.path.join(ROOT, path)) as f:
      for n, line in enumerate(f, 1):
        yield path, n, line
  for path in _tracked("*.py"):
    with open(os.path.join(ROOT, path)) as f:
      source = f.read()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
      # comments and docstrings (triple-quoted, not f-strings: those format run-time values)
      if tok.type == tokenize.COMMENT or (
          tok.type == tokenize.STRING and tok.string.lstrip("rbuRBU")[:3] in ('"""', "'''")):
        for k, line in enumerate(tok.string.splitlines()):
          yield path, tok.start[0] + k, line


def _exists(ref, citing):
  candidates = [os.path.join(ROOT, ref), os.path.join(ROOT, os.path.dirname(citing), ref)]
  return any(os.path.exists(c) for c in candidates)


FILE_REF = re.compile(r"(?<![\w./-])((?:" + "|".join(FOLDERS) +
                      r")/[\w./-]*\w\.(?:py|gin|md|png|csv|json|sh|txt))\b")


def test_every_cited_file_of_the_repository_exists():
  missing = []
  for path, n, line in _texts():
    for ref in FILE_REF.findall(line):
      if "*" in ref or "<" in ref:
        continue
      if ref.startswith("figures/") and ref.endswith(".png") or "--out" in line:
        continue  # a run's own figures/ folder, an output a command is asked to write
      if not _exists(ref, path):
        missing.append(f"{path}:{n}: {ref}")
  assert not missing, "\n".join(missing)


def _module_names(module_path):
  """Top-level names a module file defines (functions, classes, assignments, imports)."""
  with open(module_path) as f:
    tree = ast.parse(f.read())
  names = set()
  for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
      names.add(node.name)
    elif isinstance(node, (ast.Assign, ast.AnnAssign)):
      targets = node.targets if isinstance(node, ast.Assign) else [node.target]
      for t in targets:
        for elt in (t.elts if isinstance(t, ast.Tuple) else [t]):
          if isinstance(elt, ast.Name):
            names.add(elt.id)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
      names.update((a.asname or a.name).split(".")[0] for a in node.names)
  return names


def _resolve(parts):
  """Whether suite.a.b names a module or a top-level name of one (True/False)."""
  here = ROOT
  for i, part in enumerate(parts):
    package = os.path.join(here, part)
    if os.path.isdir(package) and os.path.isfile(os.path.join(package, "__init__.py")):
      here = package
      continue
    if os.path.isfile(package + ".py"):
      here = package + ".py"
      rest = parts[i + 1:]
      return not rest or rest[0] in _module_names(here)
    init = os.path.join(here, "__init__.py") if os.path.isdir(here) else None
    return init is not None and part in _module_names(init)
  return True


# and the thin command files, which define nothing but `main` (their code is in commands/)
DOTTED = re.compile(r"(?<![\w.])(?:echo_suite\.)?((?:" + "|".join(SUITE_MODULES + ["disentanglement"]) +
                    r")(?:\.[A-Za-z_]\w*)+)")


def test_every_cited_module_function_and_constant_exists():
  missing = []
  for path, n, line in _texts():
    for ref in DOTTED.findall(line):
      parts = ref.split(".")
      if parts[-1] in ("py", "md", "gin", "png", "csv", "json", "npz", "jsonl", "txt", "html",
                       "css", "js"):
        continue  # a file name, checked above
      if not _resolve(parts[:3]):
        missing.append(f"{path}:{n}: {ref}")
  assert not missing, "\n".join(missing)


def _configurables():
  """{gin name: its parameters} of every gin.configurable of the suite (read from the source)."""
  found = {}
  for path in _tracked("*.py"):
    if path.startswith("tests/"):
      continue
    with open(os.path.join(ROOT, path)) as f:
      tree = ast.parse(f.read())
    for node in ast.walk(tree):
      if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        continue
      for dec in node.decorator_list:
        if not (isinstance(dec, ast.Call) and dec.args and isinstance(dec.args[0], ast.Constant)):
          continue
        if getattr(dec.func, "attr", "") == "configurable":
          name = dec.args[0].value
        elif getattr(dec.func, "id", "") == "metric":  # metrics.scores.metric: eval_<name>
          name = f"eval_{dec.args[0].value}"
        else:
          continue
        fn = node if isinstance(node, ast.FunctionDef) else next(
            b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__")
        args = fn.args
        found[name] = {a.arg for a in args.args + args.kwonlyargs}
  return found


BINDING = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\s*=(?!=)")


def test_every_cited_gin_binding_is_a_parameter_of_a_configurable():
  configurables = _configurables()
  assert {"model", "train", "evaluation", "eval_mig", "ds_corr"} <= set(configurables)
  unknown = []
  for path, n, line in _texts():
    if path.startswith(("tests/", "pretrained/")):
      # tests bind unknown names on purpose, to see them refused; a shipped run's
      # run_config.gin records its identity (dataset.source ...), which is not a binding
      continue
    for name, arg in BINDING.findall(line):
      if name in configurables and arg not in configurables[name]:
        unknown.append(f"{path}:{n}: {name}.{arg}")
  assert not unknown, "\n".join(unknown)


def test_the_training_command_lists_every_model_from_the_registry(capsys):
  # Its docstring names none (a list there went stale); --help reads the registry.
  from echo_suite.commands import train
  assert not any(f"{name}," in train.__doc__ for name in model_registry.MODELS)
  with pytest.raises(SystemExit):
    train.parse_args(["--help"])
  text = capsys.readouterr().out.replace("\n", " ")
  assert all(f"'{name}'" in text for name in model_registry.MODELS)
