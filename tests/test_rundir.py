"""RunDirectory: the one owner of a run directory's files."""
import json
import os
import re
import subprocess

import pytest

from echo_suite import ROOT
from echo_suite import rundir


def test_results_json_has_one_writer_in_the_code():
  # Every other module reads results.json through RunDirectory and writes it through
  # RunDirectory.write_results: no second writer can drift from the schema.
  out = subprocess.run(["git", "grep", "-nE", r"RESULTS_FILE|results\.json", "--", "*.py"],
                       cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
  writers = [line for line in out if not line.startswith("tests/")
             and re.search(r"write_json|write_text|open\([^)]*[\"']w", line)]
  assert writers == [f"rundir.py:{_line_of('return atomic_io.write_json(self.file(RESULTS_FILE)')}:"
                     "    return atomic_io.write_json(self.file(RESULTS_FILE), results)"]


def _line_of(text):
  with open(os.path.join(ROOT, "rundir.py")) as f:
    return next(n for n, line in enumerate(f, 1) if text in line)


def test_results_are_read_back_and_unreadable_ones_named(tmp_path):
  run = rundir.RunDirectory(tmp_path)
  assert run.read_results() is None
  results = {"model": "echo", "training": {"step": 3, "weights": "w"}}
  assert run.write_results(results) == str(tmp_path / rundir.RESULTS_FILE)
  assert run.read_results() == results
  assert not [n for n in os.listdir(tmp_path) if n != rundir.RESULTS_FILE]  # no temporary left
  (tmp_path / rundir.RESULTS_FILE).write_text('{"model": "echo", "trai')
  with pytest.raises(rundir.UnreadableFileError, match="results.json is unreadable"):
    run.read_results()
  (tmp_path / rundir.RESULTS_FILE).write_text(json.dumps({"scores": {}}))
  with pytest.raises(rundir.UnreadableFileError, match="no 'training' block"):
    run.read_results()


def test_history_is_appended_cut_back_on_resume_and_read_past_bad_lines(tmp_path):
  run = rundir.RunDirectory(tmp_path)
  assert run.history() == [] and run.cut_history(5) == 0
  for step in (2, 4, 6):
    run.append_history({"step": step, "rate": step / 2})
  with open(run.file(rundir.HISTORY_FILE), "ab") as f:
    f.write(b'{"step": 8, "ra')  # a line cut by a kill
  assert [r["step"] for r in run.history()] == [2, 4, 6]
  assert run.cut_history(4) == 1  # one unreadable line dropped
  assert (tmp_path / rundir.HISTORY_FILE).read_text() == (
      '{"step": 2, "rate": 1.0}\n{"step": 4, "rate": 2.0}\n')
  run.append_history({"step": 6, "rate": 3.0})
  assert [r["rate"] for r in run.history()] == [1.0, 2.0, 3.0]


def test_scored_outputs_of_old_weights_are_removed_and_nothing_else(tmp_path):
  run = rundir.RunDirectory(tmp_path)
  (tmp_path / rundir.FIGURES_DIR).mkdir()
  (tmp_path / rundir.FIGURES_DIR / "traversals.png").write_bytes(b"png")
  for name in (rundir.SCORES_FILE, rundir.RESULTS_FILE, rundir.HISTORY_FILE, "notes.txt"):
    (tmp_path / name).write_text("x")
  run.remove_scored_outputs()
  assert sorted(os.listdir(tmp_path)) == sorted([rundir.RESULTS_FILE, rundir.HISTORY_FILE,
                                                 "notes.txt"])
  run.remove_scored_outputs()  # nothing left to remove: no error


def test_models_and_metrics_compute_and_return_and_write_no_file():
  writes = re.compile(r"atomic_io\.(?!as_saved)|open\([^)]*[\"'][wa]b?[\"']|np\.savez|save_weights\(|"
                      r"\.to_csv\(|shutil\.|os\.(unlink|remove|rename|replace|makedirs)")
  offenders = []
  for folder in ("models", "metrics"):
    for name in sorted(os.listdir(os.path.join(ROOT, folder))):
      if name.endswith(".py"):
        with open(os.path.join(ROOT, folder, name)) as f:
          offenders += [f"{folder}/{name}:{n}: {line.strip()}" for n, line in enumerate(f, 1)
                        if writes.search(line) and not line.strip().startswith("#")]
  assert not offenders, "\n".join(offenders)
