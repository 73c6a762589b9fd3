"""Hostile inputs and hard stops: no wrong number, no lost run, no code run from a data file.

Each run these tests need is a copy of one tiny trained and scored run (`scored_run`), made once.
"""
import argparse
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from echo_suite.commands import train as disentanglement
import conftest
from echo_suite import provenance
from conftest import ROOT


TINY = conftest.TINY
MIG_ONLY = ["--metrics", "mig", "--gin_param", "eval_mig.num_train = 1000"]


def _results(run):
  with open(os.path.join(run, "results.json")) as f:
    return json.load(f)


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
  run = str(tmp_path_factory.mktemp("hostile") / "run")
  assert disentanglement.main(["--output_dir", run, "--steps", "10", *TINY, *MIG_ONLY]) == 0
  return run


@pytest.fixture
def run(scored_run, tmp_path):
  copy = str(tmp_path / "run")
  shutil.copytree(scored_run, copy, ignore=shutil.ignore_patterns(".lock"))
  return copy


def test_a_multi_line_binding_cannot_slip_a_data_change_past_eval_only(run, capsys):
  before = _results(run)
  sneaky = "evaluation.seed = 0\nds_corr.remove_prob = 0.5"
  assert disentanglement.main(["--eval_only", "--output_dir", run, "--no_progress",
                               "--gin_param", sneaky]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: ") and "ds_corr.remove_prob = 0.5" in err
  assert _results(run) == before


def test_files_of_one_scoring_agree_after_a_kill_at_any_instant(run, capsys):
  """kill -9 after scores.csv and eval_config.gin, before results.json (the last write)."""
  before = _results(run)["scores"]
  killer = textwrap.dedent(f"""
      import os, signal, sys
      from echo_suite import atomic_io
      from echo_suite.commands import train as disentanglement
      write_json = atomic_io.write_json
      def die_at_results(path, obj):
        if path.endswith("results.json") and "scores" in obj:
          os.kill(os.getpid(), signal.SIGKILL)
        return write_json(path, obj)
      atomic_io.write_json = die_at_results
      disentanglement.main(["--eval_only", "--output_dir", {run!r}, "--no_progress",
                            "--gin_param", "eval_mig.num_bins = 10"])
      """)
  proc = subprocess.run([sys.executable, "-c", killer], capture_output=True, text=True)
  assert proc.returncode == -signal.SIGKILL, proc.stderr
  with open(os.path.join(run, "eval_config.gin")) as f:
    assert "eval_mig.num_bins = 10" in f.read()  # the killed scoring got this far
  assert _results(run)["scores"] == before
  # The next call (any) makes the files say what results.json says, then finds the scores current.
  capsys.readouterr()
  assert disentanglement.main(["--output_dir", run, "--steps", "10", *TINY, *MIG_ONLY]) == 0
  out = capsys.readouterr().out
  assert "disagreed with results.json" in out and "scores are current" in out
  with open(os.path.join(run, "scores.csv")) as f:
    assert f",discrete_mig,{before['metrics']['mean']['mig']['discrete_mig']!r}," in f.read()
  with open(os.path.join(run, "eval_config.gin")) as f:
    assert "eval_mig.num_bins = 20" in f.read()
  # --eval_only replays what results.json holds (bins 20): the same number.
  assert disentanglement.main(["--eval_only", "--output_dir", run, "--no_progress"]) == 0
  assert _results(run)["scores"]["metrics"] == before["metrics"]


def test_a_finished_scoring_leaves_nothing_to_reconcile(tmp_path):
  """scores.csv from the scoring's own block (metric order, numpy numbers) equals the one the next
  run derives from results.json (sorted keys, floats): no 'disagreed' note after a full scoring."""
  from echo_suite.metrics import evaluate
  from echo_suite import atomic_io, rundir
  block = {"step": 3, "weights": "abc", "eval_on": "dsprites", "seed": 0,
           "settings": {"eval_mig": {"num_bins": 20}},
           "metrics": {"sample": {"mig": {"discrete_mig": np.float32(0.07)}},
                       "mean": {"factor_vae": {"train_accuracy": np.float64(0.7922),
                                               "eval_accuracy": 0.7982,
                                               "num_active_dims": np.int64(10)}}}}
  run = str(tmp_path)
  owner = rundir.RunDirectory(run)
  owner.write_files(evaluate.scored_file_texts({"scores": block}))
  atomic_io.write_json(os.path.join(run, "results.json"), {"scores": block})
  assert owner.reconcile(evaluate.scored_file_texts(_results(run))) == []
  with open(os.path.join(run, "scores.csv")) as f:
    rows = f.read().splitlines()
  assert [r.split(",")[:3] for r in rows[1:]] == [
      ["mean", "factor_vae", "eval_accuracy"], ["mean", "factor_vae", "num_active_dims"],
      ["mean", "factor_vae", "train_accuracy"], ["sample", "mig", "discrete_mig"]]
  assert rows[-1].split(",")[3] == repr(float(np.float32(0.07)))  # the value results.json holds


def test_a_checkpoint_another_run_wrote_is_refused_naming_both_runs(run, tmp_path, capsys):
  other = str(tmp_path / "other")
  assert disentanglement.main(["--output_dir", other, "--steps", "10", "--seed", "1", *TINY,
                               "--no_eval"]) == 0
  before = _results(run)
  shutil.rmtree(os.path.join(run, "checkpoints"))
  shutil.copytree(os.path.join(other, "checkpoints"), os.path.join(run, "checkpoints"))
  capsys.readouterr()
  assert disentanglement.main(["--eval_only", "--output_dir", run, "--no_progress"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: checkpoint ") and "written by another run" in err, err
  assert "train.seed = 1" in err and "train.seed = 0" in err and err.count("\n") == 1
  with pytest.raises(RuntimeError, match="written by another run"):
    disentanglement.restore(run)  # what score.py --function files call
  assert _results(run) == before  # nothing rescored or rewritten


@pytest.mark.parametrize("name", [".lock", "results.json", "scores.csv", "figures",
                                  "checkpoints", "tensorboard"])
def test_a_run_never_writes_through_a_symbolic_link(run, tmp_path, capsys, name):
  victim = tmp_path / "victim"
  victim.mkdir()
  (victim / "precious.txt").write_text("keep")
  target = victim if name in ("figures", "checkpoints", "tensorboard") else victim / "precious.txt"
  path = os.path.join(run, name)
  if os.path.isdir(path):
    shutil.rmtree(path)
  elif os.path.exists(path):
    os.unlink(path)
  os.symlink(target, path)
  for args in (["--eval_only", "--output_dir", run, "--no_progress"],
               ["--output_dir", run, "--steps", "10", *TINY, *MIG_ONLY]):
    assert disentanglement.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is a symbolic link" in err and name in err, err
  assert sorted(os.listdir(victim)) == ["precious.txt"]
  assert (victim / "precious.txt").read_text() == "keep"


def test_a_history_line_that_is_not_utf8_is_dropped_and_the_run_resumes(run, capsys):
  history = os.path.join(run, "history.jsonl")
  with open(history, "ab") as f:
    f.write(b'{"step": 11, "rate": "\xff\xfe"}\n')
  assert disentanglement.main(["--output_dir", run, "--steps", "20", *TINY, *MIG_ONLY]) == 0
  assert f"1 unreadable line(s) of {history} dropped" in capsys.readouterr().out
  with open(history, encoding="utf-8") as f:
    steps = [json.loads(line)["step"] for line in f]
  assert steps == sorted(steps) and steps[-1] == 20


def test_a_non_ascii_output_dir_under_the_c_locale(tmp_path):
  out = tmp_path / "läufe" / "run"
  done = subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"),
                         "--output_dir", str(out), "--steps", "2", *TINY, "--no_eval"],
                        capture_output=True, text=True,
                        env={**os.environ, "LANG": "C", "LC_ALL": "C"})
  assert done.returncode == 0, done.stderr
  assert (out / "results.json").is_file() and str(out) in done.stdout


def test_a_missing_gin_include_is_one_line(tmp_path, capsys):
  including = tmp_path / "including.gin"
  including.write_text(f"include '{tmp_path / 'absent.gin'}'\n")
  assert disentanglement.main(["--output_dir", str(tmp_path / "run"), "--gin_file",
                               str(including)]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: bad gin configuration") and err.count("\n") == 1, err
  assert "absent.gin" in err


def test_leftover_temporary_files_are_removed_on_the_next_run(run):
  left = os.path.join(run, ".tmp-abc123.json")
  open(left, "w").close()
  assert disentanglement.main(["--output_dir", run, "--steps", "10", *TINY, *MIG_ONLY]) == 0
  assert not os.path.exists(left)


@pytest.mark.parametrize("args,message", [
    (["--gin_file", ROOT], "is a directory"),
    (["--gin_param", "dataset.name = @dataset()"], "calls the configurable it configures"),
    (["--gin_param", "import nonexistent_mod"], "gin 'import nonexistent_mod' refused"),
    (["--gin_param", "import subprocess"], "gin 'import subprocess' refused"),
    (["--gin_param", "import os.path\nmodel.beta = 2.0"], "gin 'import os.path' refused"),
    (["--gin_param", "model.beta = ("], "(in binding 'model.beta = (')"),
    (["--gin_param", "model.learning_rate = -1.0"], "learning_rate=-1.0 must be > 0"),
    (["--dataset", "ds_corr", "--gin_param", "ds_corr.n_bins = 1",
      "--gin_param", "ds_corr.remove_prob = 0.99"], "remove every image"),
    (["--gin_param", "train.checkpoint_every = 0"], "train.checkpoint_every=0 must be an integer"),
    (["--gin_param", "train.summary_every = 'x'"], "train.summary_every='x' must be an integer"),
    (["--gin_param", "train.keep_checkpoints = 1"],
     "train.keep_checkpoints=1 must be an integer >= 2"),
    (["--gin_param", "eval_mig.num_train = 0"], "eval_mig.num_train=0 must be an integer >= 1"),
    (["--gin_param", "model.num_latents = 2.5"], "num_latents=2.5 must be an integer >= 2"),
    (["--gin_param", "model.num_latents = 1"], "num_latents=1 must be an integer >= 2"),
    (["--gin_param", "evaluation.seed = 4294967296"],
     "evaluation.seed=4294967296 must be an integer in [0, 2**32 - 1]"),
    (["--gin_param", "model.rate_warmup_steps = -1"], "rate_warmup_steps=-1 must be an integer"),
    (["--gin_param", "model.disc_beta_1 = 1.5"], "disc_beta_1=1.5 must be < 1"),
    (["--gin_param", "eval_factor_vae.num_eval = 2.5"], "eval_factor_vae.num_eval=2.5 must be an"),
    (["--metrics", "downstream_logistic", "--gin_param",
      "eval_downstream_logistic.num_train = (10, 0)"], "num_train=0 must be an integer >= 1"),
])
def test_bad_configuration_is_one_error_line_before_any_write(tmp_path, capsys, args, message):
  out = tmp_path / "run"
  assert disentanglement.main(["--output_dir", str(out), "--steps", "2", *args]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
  assert not out.exists()


def test_a_gin_file_imports_only_the_suites_modules_and_dependencies(tmp_path, capsys, run):
  from echo_suite import gin_compat
  assert gin_compat.importable("metrics.scores") and gin_compat.importable("numpy.linalg")
  assert gin_compat.importable("disentanglement_lib.evaluation.metrics.mig")
  assert not gin_compat.importable("os") and not gin_compat.importable("shutil")
  hostile = tmp_path / "hostile.gin"
  hostile.write_text(f"include '{tmp_path / 'inner.gin'}'\n")
  (tmp_path / "inner.gin").write_text("import webbrowser\n")
  assert disentanglement.main(["--output_dir", str(tmp_path / "new"), "--gin_file",
                               str(hostile)]) == 2
  assert "gin 'import webbrowser' refused" in capsys.readouterr().err
  assert "webbrowser" not in sys.modules and not (tmp_path / "new").exists()
  # A run's own config.gin is read through the same guard by --eval_only.
  with open(os.path.join(run, "config.gin"), "a") as f:
    f.write("\nimport antigravity\n")
  assert disentanglement.main(["--eval_only", "--output_dir", run, "--no_progress"]) == 2
  assert "gin 'import antigravity' refused" in capsys.readouterr().err
  assert "antigravity" not in sys.modules


def test_a_self_including_gin_file_is_refused(tmp_path, capsys):
  loop = tmp_path / "loop.gin"
  loop.write_text(f"include '{loop}'\n")
  assert disentanglement.main(["--output_dir", str(tmp_path / "run"), "--gin_file", str(loop),
                               "--steps", "2"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: ") and err.count("\n") == 1 and "includes itself" in err


def test_no_noise_before_an_error():
  out = subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"), "--model",
                        "gan"], capture_output=True, text=True)
  assert out.returncode == 2 and out.stderr.startswith("error: unknown model 'gan'"), out.stderr
  assert "blacklist" not in out.stderr


@pytest.mark.parametrize("cli", ["disentanglement.py", "score.py --codes c.npz", "dataset.py",
                                 "scripts/sweep.py", "scripts/aggregate.py runs"])
def test_argparse_errors_are_one_line_without_a_usage_block(cli):
  script, *args = cli.split()
  out = subprocess.run([sys.executable, os.path.join(ROOT, script), *args, "--no_such_flag"],
                       capture_output=True, text=True)
  assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
  assert out.stderr.startswith("error: ") and "--no_such_flag" in out.stderr


def test_no_tensorflow_start_up_lines_on_any_kind_of_cpu():
  """TF_ENABLE_ONEDNN_OPTS=1 makes an AVX2 CPU print what AVX-512 ones print by default."""
  env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"}
  bare = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                        text=True, env=env)
  assert "oneDNN custom operations are on" in bare.stderr  # the lines exist here too
  # An error found after TensorFlow's import (a binding of its configurables): one line.
  out = subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"),
                        "--gin_param", "model.foo = 1"], capture_output=True, text=True, env=env)
  assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
  assert out.stderr.startswith("error: bad gin configuration") and "'foo'" in out.stderr


def test_start_up_lines_are_dropped_and_every_other_line_kept():
  from echo_suite import quiet_tensorflow
  startup = [b"WARNING: All log messages before absl::InitializeLog() is called are written to "
             b"STDERR\n",
             b"I0000 00:00:1796290891.699742    2497 port.cc:153] oneDNN custom operations are on. "
             b"You may see slightly different numerical results due to floating-point round-off "
             b"errors from different computation orders. To turn them off, set the environment "
             b"variable `TF_ENABLE_ONEDNN_OPTS=0`.\n",
             b"I0000 00:00:1796290893.142773    2497 cpu_feature_guard.cc:227] This TensorFlow "
             b"binary is optimized to use available CPU instructions in performance-critical "
             b"operations.\n",
             b"To enable the following instructions: AVX512F AVX512_VNNI AVX512_BF16 AMX_TILE "
             b"AMX_INT8 AMX_BF16 FMA, in other operations, rebuild TensorFlow with the appropriate "
             b"compiler flags.\n"]
  real = [b"E0000 00:00:1796290893.2 2497 cuda_dnn.cc:9] Could not load library libcudnn.so\n",
          b"W0000 00:00:1796290893.3 2497 port.cc:153] oneDNN: an unexpected warning\n"]
  script = textwrap.dedent(f"""
      import os, sys
      sys.modules["tensorflow"] = sys.modules["keras"] = sys  # stand-ins: no import needed
      from echo_suite import quiet_tensorflow
      print("before", file=sys.stderr)
      with quiet_tensorflow.startup_lines_dropped():
        for line in {[startup[0], real[0], startup[1], startup[2], startup[3], real[1]]!r}:
          os.write(2, line)
        print("a Python warning", file=sys.stderr)
      print("after", file=sys.stderr)
      """)
  out = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=ROOT)
  assert out.returncode == 0, out.stderr
  assert out.stderr == b"before\n" + real[0] + real[1] + b"a Python warning\nafter\n"
  assert all(quiet_tensorflow.is_startup_line(line) for line in startup)
  assert not any(quiet_tensorflow.is_startup_line(line) for line in real)


def test_the_command_line_is_checked_before_tensorflow_is_imported(tmp_path):
  """Each bad command line is answered with TensorFlow not imported (one process runs them all)."""
  not_a_run = tmp_path / "notes"
  not_a_run.mkdir()
  (not_a_run / "keep.txt").write_text("mine")
  cases = [
      ("disentanglement.py", ["--model", "gan"], "unknown model 'gan'"),
      ("disentanglement.py", ["--dataset", "mnist"], "unknown dataset 'mnist'"),
      ("disentanglement.py", ["--metrics", "mig", "fvae"], "unknown metric(s) ['fvae']"),
      ("disentanglement.py", ["--gin_file", str(tmp_path / "no.gin")], "gin file not found"),
      ("disentanglement.py", ["--output_dir", str(not_a_run)], "holds no run of this suite"),
      ("disentanglement.py", ["--eval_only", "--output_dir", str(not_a_run)], "no finished run"),
      ("disentanglement.py", ["--eval_only"], "--eval_only needs --output_dir"),
      ("score.py", ["--codes", "x.npz", "--data", "mnist"], "unknown dataset 'mnist'"),
      ("score.py", ["--codes", "x.npz", "--metrics", "fvae"], "unknown metric(s) ['fvae']"),
      ("score.py", ["--codes", str(tmp_path / "x.npz")], "no such file"),
      ("score.py", ["--function", "f.py:encode"], "no such file"),
  ]
  script = textwrap.dedent(f"""
      import contextlib, io, runpy, sys
      for name, args, _ in {cases!r}:
        sys.argv = [name] + args
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
          try:
            runpy.run_path({ROOT!r} + "/" + name, run_name="__main__")
          except SystemExit as e:
            code = e.code
        print(code, "tensorflow" in sys.modules, err.getvalue().strip().replace(chr(10), "|"))
      """)
  out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": ROOT})  # as `python FILE`
  lines = out.stdout.splitlines()
  assert len(lines) == len(cases), out.stderr
  for line, (name, args, message) in zip(lines, cases):
    code, imported, err = line.split(" ", 2)
    assert code == "2" and imported == "False", (name, args, line)
    assert err.startswith("error: ") and "|" not in err and message in err, (name, args, err)


def test_dataset_cli_checks_destinations_before_rendering(tmp_path):
  cli = [sys.executable, os.path.join(ROOT, "dataset.py")]
  existing = tmp_path / "notes.txt"
  existing.write_text("keep me")
  for args, message in (
      (["--export", str(existing)], "exists; pass --overwrite"),
      (["--export", str(existing / "d.npz")], f"{str(existing)!r} is not a writable folder"),
      (["--export", str(tmp_path)], "is a folder; give a file path"),
      (["--preview", str(existing)], "is a file; give a folder"),
      (["--preview", str(existing / "previews")], f"{str(existing)!r} is not a writable folder"),
      (["--dataset", "ds_pairs", "--gin_param", "ds_pairs.sigma = ("], "error"),
  ):
    proc = subprocess.run(cli + args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and message in proc.stderr.splitlines()[-1], proc.stderr
  assert existing.read_text() == "keep me"


@pytest.mark.parametrize("args,message", [
    (["--steps", "0"], "argument --steps: 0 must be >= 1"),
    (["--betas", "nan"], "--betas [nan]: each must be a finite number >= 0"),
    (["--betas", "1", "inf"], "--betas [inf]"),
    (["--gammas", "nan"], "--gammas [nan]"),
    (["--seeds", "3-1"], "--seeds '3-1'"),
    (["--seeds", "0-x"], "--seeds '0-x'"),
    (["--seeds", "-1"], "--seeds '-1'"),
    (["--betas", "1.0000001", "1.0000002"], "two runs map to one directory"),
    (["--datasets", "ds_pairs", "--sigmas", "0.2", "0.20000001"], "two runs map to one directory"),
    (["--slurm", "--job_name", "a\n#SBATCH --time=1"], "--job_name"),
    (["--slurm", "--partition", "gpu\nrm -rf /"], "--partition"),
    (["--slurm", "--gin_param", "evaluation.seed = 0\nmodel.beta = 2"], "--gin_param"),
    (["--slurm", "--time", "abc"], "--time 'abc'"),
    (["--slurm", "--gpus", "-1"], "argument --gpus: -1 must be >= 0"),
    (["--slurm", "--mem", ""], "--mem ''"),
    (["--runs_dir", "/dev/null/sweep"], "argument --runs_dir: '/dev/null/sweep': '/dev/null' is"),
])
def test_sweep_refuses_bad_grids_and_slurm_values_before_writing(tmp_path, capsys, args,
                                                                  message):
  from echo_suite.commands import sweep
  runs_dir = tmp_path / "sweep"
  with pytest.raises(SystemExit) as stop:
    sweep.main(["--runs_dir", str(runs_dir), "--no_submit", "--dry_run", *args])
  assert stop.value.code == 2
  assert message in capsys.readouterr().err.splitlines()[-1]
  assert not runs_dir.exists()


def test_sweep_runs_a_value_named_twice_once_and_keeps_full_precision(capsys):
  from echo_suite.commands import sweep
  assert sweep.main(["--models", "echo", "echo", "--datasets", "dsprites", "--betas", "1.5",
                     "1.5", "2.0000001", "--dry_run", "--steps", "5"]) == 0
  lines = [l for l in capsys.readouterr().out.splitlines() if "disentanglement.py" in l]
  # beta 1.5 once, 2.0000001 unrounded, and the paper design's beta 1 row (gamma varies at it).
  assert len(lines) == 3 and sum("--beta 2.0000001 " in line for line in lines) == 1
  assert sum("--beta 1.5 " in line for line in lines) == 1


def test_aggregate_skips_an_odd_results_file_and_refuses_a_file_as_out(tmp_path, capsys):
  from echo_suite.commands import aggregate
  runs = tmp_path / "runs"
  odd = runs / "odd"
  odd.mkdir(parents=True)
  (odd / "results.json").write_text(json.dumps({"training": {"step": 5, "weights": "w"},
                                                "scores": {"step": 5, "weights": "w",
                                                           "metrics": {"mean": {"mig": {
                                                               "discrete_mig": 0.1}}}}}))
  good = runs / "good"
  good.mkdir()
  (good / "results.json").write_text(json.dumps({
      "dataset": "dsprites", "model": "echo", "beta": 1.0, "gamma": 0.0, "config": "",
      "training": {"step": 5, "weights": "w", "final_losses_last_100_steps": {
          "rate": 1.0, "distortion": 2.0}},
      "scores": provenance.seal({"step": 5, "weights": "w", "eval_on": "dsprites", "seed": 0,
                                 "metrics": {"mean": {"factor_vae": {"eval_accuracy": 0.8},
                                                      "mig": {"discrete_mig": 0.2}}}})}))
  assert aggregate.main([str(runs), "--out", str(tmp_path / "agg")]) == 0
  out = capsys.readouterr().out
  assert f"skipped {odd}" in out and "1 runs with current scores" in out
  a_file = tmp_path / "file.txt"
  a_file.write_text("x")
  with pytest.raises(SystemExit) as stop:
    aggregate.main([str(runs), "--out", str(a_file)])
  assert stop.value.code == 2 and "--out" in capsys.readouterr().err
  assert a_file.read_text() == "x"


def test_a_full_disk_at_a_checkpoint_is_one_error_line_and_the_run_resumes(tmp_path, capsys,
                                                                            monkeypatch):
  from echo_suite.quiet_tensorflow import tf
  from echo_suite import training
  out = str(tmp_path / "run")
  args = ["--output_dir", out, *TINY, "--no_eval"]
  assert disentanglement.main([*args, "--steps", "10"]) == 0
  save = training.RunState.save

  def full_disk(self, step):
    if step == 20:
      raise tf.errors.ResourceExhaustedError(None, None, "ckpt-20.data: No space left on device")
    return save(self, step)
  monkeypatch.setattr(training.RunState, "save", full_disk)
  capsys.readouterr()
  assert disentanglement.main([*args, "--steps", "30"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: ResourceExhaustedError") and err.count("\n") == 1, err
  assert "No space left on device" in err and "resume" in err
  monkeypatch.setattr(training.RunState, "save", save)
  assert disentanglement.main([*args, "--steps", "30"]) == 0
  assert _results(out)["training"]["steps_this_session"] == 20  # from the checkpoint at 10


def test_metadata_is_never_read_so_its_keys_cannot_break_loading(tmp_path):
  from echo_suite.data import npz
  import numpy as np
  # Before: metadata without latents_sizes was a KeyError traceback. Now metadata is not read:
  # an npz whose other fields are wrong is refused for those, by name.
  path = str(tmp_path / "meta.npz")
  np.savez(path, imgs=np.zeros((10, 64, 64), np.uint8), latents_classes=np.zeros((10, 6), int),
           latents_values=np.zeros((10, 6)), metadata=np.array({"title": "x"}, dtype=object))
  with pytest.raises(ValueError, match=r"'imgs' has shape \(10, 64, 64\)"):
    npz.load_npz(path)


def test_a_code_table_whose_rows_do_not_match_its_indices_is_encoded_again(tmp_path, capsys):
  import numpy as np
  from echo_suite.data import ground_truth
  from echo_suite.metrics import code_table, evaluate
  path = str(tmp_path / "codes.npz")
  np.savez(path, codes=np.zeros((5, 3), np.float32), indices=np.arange(7),
           dataset=np.array("dsprites"), weights=np.array("w"))
  with pytest.raises(code_table.UnreadableTableError, match=r"codes of shape \(5, 3\) does not "
                                                            r"match its 7 indices"):
    code_table.load(path)
  table = evaluate.load_table(lambda x: np.ones((len(x), 3), np.float32),
                              ground_truth.DSprites(), "w", path)
  assert "encoding again" in capsys.readouterr().out and len(table.indices) == 0
  np.testing.assert_array_equal(table.representation_function(np.arange(7)), 1.0)


def test_d_max_beyond_the_batch_is_refused_before_the_run_directory_is_marked(tmp_path, capsys):
  out = tmp_path / "run"
  assert disentanglement.main(["--output_dir", str(out), "--steps", "2",
                               "--gin_param", "model.d_max = 100000"]) == 2
  assert "d_max=100000" in capsys.readouterr().err and not out.exists()


def test_no_negative_zero_total_correlation():
  out = subprocess.run([sys.executable, os.path.join(ROOT, "dataset.py"), "--dataset",
                        "dsprites", "--info"], capture_output=True, text=True, timeout=120)
  assert "total correlation  0.000 nats" in out.stdout and "-0.000" not in out.stdout


def test_output_checks_name_the_flag_and_accept_a_folder_still_to_make(tmp_path):
  from echo_suite import checks
  a_file = tmp_path / "notes.txt"
  a_file.write_text("x")
  new = str(tmp_path / "a" / "b")
  assert checks.check_output_folder("--out", new) == checks.output_folder(new) == new
  assert checks.output_file(new + ".json") == new + ".json"
  with pytest.raises(ValueError) as e:
    checks.check_output_folder("--out", str(a_file))
  assert str(e.value) == f"--out {str(a_file)!r} is a file; give a folder"
  for check, path, message in (
      (checks.output_folder, a_file / "x",
       f"{str(a_file / 'x')!r}: {str(a_file)!r} is not a writable folder"),
      (checks.output_file, tmp_path, f"{str(tmp_path)!r} is a folder; give a file path"),
      (checks.output_file, a_file / "x.json",
       f"{str(a_file / 'x.json')!r}: {str(a_file)!r} is not a writable folder")):
    with pytest.raises(argparse.ArgumentTypeError) as e:
      check(str(path))
    assert str(e.value) == message
  assert not os.path.exists(tmp_path / "a") and a_file.read_text() == "x"
  loop = tmp_path / "loop"
  os.symlink(loop, loop)
  with pytest.raises(ValueError, match="is a symbolic link that leads nowhere"):
    checks.check_output_folder("--output_dir", str(loop))


@pytest.mark.parametrize("name,minimum,text,result", [
    ("int_at_least", 0, "0", 0), ("int_at_least", 2, "1", "1 must be >= 2"),
    ("int_at_least", 1, "1.5", "'1.5' is not an integer"),
    ("finite_float", None, "-2.5", -2.5),
    ("finite_float", None, "inf", "'inf' is not a finite number"),
    ("finite_float", None, "x", "'x' is not a number"),
    ("positive_float", None, "0.5", 0.5), ("positive_float", None, "0", "0 must be > 0"),
    ("positive_float", None, "nan", "'nan' is not a finite number"),
])
def test_command_line_number_types_accept_or_say_why_not(name, minimum, text, result):
  from echo_suite import checks
  parse = getattr(checks, name) if minimum is None else getattr(checks, name)(minimum)
  if isinstance(result, str):
    with pytest.raises(argparse.ArgumentTypeError) as e:
      parse(text)
    assert str(e.value) == result
  else:
    assert parse(text) == result and type(parse(text)) is type(result)


@pytest.mark.parametrize("script,work,args,message", [
    ("aggregate", "build_table", ["RUNS", "--out", "BAD"],
     "argument --out: 'BAD': 'FILE' is not a"),
    ("table2_claims", "claim_rows", ["RUNS", "--out", "BAD"], "argument --out: 'BAD'"),
    ("echo_rate_check", "exact_rate", ["--out", "BAD"], "argument --out: 'BAD'"),
    ("echo_rate_check", "exact_rate", ["--n", "1"], "argument --n: 1 must be >= 2"),
    ("mi_benchmark", "run", ["--out", "BAD"], "argument --out: 'BAD'"),
    ("mi_benchmark", "run", ["--mis", "1", "nan"], "argument --mis: 'nan' is not a finite number"),
    ("fingerprints", "fingerprint", ["--out", "BAD"], "argument --out: 'BAD'"),
    ("fingerprints", "fingerprint", ["--compare", "MISSING"], "--compare 'MISSING': [Errno 2]"),
    ("tc_check", "check", ["MISSING"], "run 'MISSING' is not a trained run of this suite"),
    ("tc_check", "check", ["RUNS", "--images", "10"], "argument --images: 10 must be >= 100"),
    ("aggregate", "load_runs", ["RUNS", "--steps", "0"], "argument --steps: 0 must be >= 1"),
    ("dataset", "make_dataset", ["--seed", "-1", "--preview", "RUNS"],
     "argument --seed: -1 must be >= 0"),
])
def test_scripts_refuse_a_bad_destination_or_input_before_any_work(tmp_path, capsys, monkeypatch,
                                                                   script, work, args, message):
  module = importlib.import_module(f"echo_suite.commands.{script}")
  monkeypatch.setattr(module, work, lambda *a, **k: pytest.fail(f"{work} ran"))
  a_file = tmp_path / "notes.txt"
  a_file.write_text("x")
  (tmp_path / "runs").mkdir()
  places = {"RUNS": str(tmp_path / "runs"), "BAD": str(a_file / "out"),
            "MISSING": str(tmp_path / "missing"), "FILE": str(a_file)}
  with pytest.raises(SystemExit) as stop:
    module.main([places.get(a, a) for a in args])
  err = capsys.readouterr().err.strip().splitlines()[-1]
  for name, place in places.items():
    message = message.replace(f"'{name}'", repr(place))
  assert stop.value.code == 2 and f"error: {message}" in err, err
  assert sorted(os.listdir(tmp_path)) == ["notes.txt", "runs"] and a_file.read_text() == "x"
