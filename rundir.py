"""Run directories: their files, the one object that reads and writes them (`RunDirectory`),
recognising one, claiming it for one writer, and never touching anything else.

A run directory is marked by RUN_CONFIG (the run's effective config). Only marked or empty
directories are adopted or deleted by `--overwrite`. While a process works in a run directory it
holds an exclusive `fcntl.flock` on RUN/.lock: the kernel releases it when the process ends, even
by SIGKILL, so a stale lock cannot outlive its holder. Imports only the standard library and
atomic_io and checks.
"""
import errno
import fcntl
import json
import os
import shutil

from echo_suite import atomic_io
from echo_suite import checks

# The files of a run directory: their one home.
RUN_CONFIG = "run_config.gin"  # the run's identity (effective model and data settings): the mark
LOCK_FILE = ".lock"  # flock of the one process working in the directory
CONFIG_FILE = "config.gin"  # gin's operative config of the training
RESULTS_FILE = "results.json"  # training and scores blocks; written last by each
HISTORY_FILE = "history.jsonl"  # one line of losses per summary step
CODES_FILE = "codes.npz"  # the code table (metrics.code_table)
SCORES_FILE = "scores.csv"  # the scores, one row per score
EVAL_CONFIG_FILE = "eval_config.gin"  # the evaluation settings of the scores
FIGURES_DIR = "figures"
CHECKPOINTS_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
WEIGHTS_FILES = {"encoder": "encoder.weights.h5", "decoder": "decoder.weights.h5"}
SCORED_OUTPUTS = (SCORES_FILE, FIGURES_DIR)  # describe one set of weights: removed when it moves
# Identity lines that say nothing new: older versions wrote the first two (dataset.source says
# it), and the default bases of ds_corr and ds_pairs are what every run before them used. A run
# that differs from today's identity by these alone is the same run: they are left out of both.
RETIRED_IDENTITY_LINES = frozenset({"ds_corr.npz_path = None", "ds_pairs.npz_path = None",
                                    "ds_corr.base = 'dsprites'", "ds_pairs.base = 'dsprites'"})


def run_name(dataset, model, beta, gamma, seed, sigma=None):
  """The directory name of a run: disentanglement.py's default under runs/, and a sweep's under
  its RUNS_DIR (ds_pairs carries its sigma: one directory per dependence level)."""
  label = dataset if sigma is None else f"{dataset}_sigma{sigma:g}"
  return f"{label}_{model}_b{beta:g}_g{gamma:g}_s{seed}"


def read_identity(run_dir):
  """The identity lines of a run directory's RUN_CONFIG, less RETIRED_IDENTITY_LINES (empty when
  it has none): what `claim` compares and every checkpoint records."""
  try:
    with open(os.path.join(run_dir, RUN_CONFIG), encoding="utf-8") as f:
      return [line for line in f.read().splitlines()
              if line.strip() and line not in RETIRED_IDENTITY_LINES]
  except FileNotFoundError:
    return []


def read_history(path):
  """The records of a history.jsonl, and how many of its lines were unreadable (cut by a kill,
  not UTF-8, not a JSON object with a step): those are skipped, never fatal.

  Returns:
    (list of (line text with its newline, record dict), number of lines skipped).
  """
  with open(path, "rb") as f:
    raw = [line for line in f.read().splitlines(keepends=True) if line.strip()]
  records, skipped = [], 0
  for line in raw:
    try:
      text = line.decode("utf-8")
      record = json.loads(text)
      int(record["step"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
      skipped += 1
      continue
    records.append((text if text.endswith("\n") else text + "\n", record))
  return records, skipped


class RunDirError(ValueError):
  """The output directory cannot be used: named, with the reason."""


class UnreadableFileError(ValueError):
  """A run file exists but cannot be parsed (truncated, corrupt)."""


class RunDirectory:
  """One run directory (or score.py's output folder) and every file in it.

  The only code that writes results.json (`write_results`), appends to or cuts history.jsonl
  and removes the outputs of weights a run no longer has; everything else reads through it.
  results.json's schema: the run's settings (model, dataset, beta, gamma, seed, data, config),
  its `training` block (step, weights, losses, device) and its `scores` block (step, weights,
  metrics, settings, device, digest; provenance.seal); score.py's folders hold `representation`,
  `data` and `scores`.
  """

  def __init__(self, path):
    self.path = str(path)

  def __repr__(self):
    return f"RunDirectory({self.path!r})"

  def file(self, name):
    """The path of one of the run's files (a name of this module: RESULTS_FILE, ...)."""
    return os.path.join(self.path, name)

  # identity and lock
  def identity(self):
    return read_identity(self.path)

  def claim(self, identity, overwrite=False):
    return claim(self.path, identity, overwrite)

  def lock(self):
    return RunLock(self.path)

  def check_no_links(self, names=None):
    check_no_links(self.path, WRITTEN if names is None else names)

  # results.json
  def read_results(self):
    """results.json as a dict; None when absent; UnreadableFileError naming the file when it is
    truncated or holds no training block."""
    path = self.file(RESULTS_FILE)
    if not os.path.exists(path):
      return None
    try:
      with open(path, encoding="utf-8") as f:
        results = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
      raise UnreadableFileError(f"{path} is unreadable ({e})") from None
    if not isinstance(results, dict) or not isinstance(results.get("training"), dict):
      raise UnreadableFileError(f"{path} is not a results file of this suite (no 'training' "
                                "block)")
    return results

  def write_results(self, results):
    """Write results.json atomically: each writer's last act (its presence says 'done')."""
    return atomic_io.write_json(self.file(RESULTS_FILE), results)

  # history.jsonl
  def history(self):
    """The readable records of history.jsonl ([] without one; unreadable lines skipped)."""
    path = self.file(HISTORY_FILE)
    return [record for _, record in read_history(path)[0]] if os.path.exists(path) else []

  def append_history(self, record):
    """One line of losses (a dict with 'step'); cheap to append, easy to plot."""
    with open(self.file(HISTORY_FILE), "a") as f:
      f.write(json.dumps(record) + "\n")

  def cut_history(self, step):
    """Keep the history up to `step` (what a resumed run logs again is dropped), and no
    unreadable line. Returns how many unreadable lines were dropped."""
    path = self.file(HISTORY_FILE)
    if not os.path.exists(path):
      return 0
    records, skipped = read_history(path)
    kept = [text for text, record in records if record["step"] <= step]
    if skipped or len(kept) != len(records):
      atomic_io.write_text(path, "".join(kept))
    return skipped

  # files computed elsewhere, written here
  def write_files(self, texts):
    """Write each {name: text} atomically (scores.csv, eval_config.gin: metrics.evaluate's
    `scored_file_texts`). Returns the paths."""
    return [atomic_io.write_text(self.file(name), text) for name, text in texts.items()]

  def reconcile(self, texts):
    """Make the files say what {name: text or None} says (None: the file must not exist):
    rewrite or remove only those that differ. Returns the names changed."""
    changed = []
    for name, text in texts.items():
      path = self.file(name)
      try:
        with open(path, newline="") as f:
          current = f.read()
      except (FileNotFoundError, UnicodeDecodeError):
        current = None
      if current == text:
        continue
      if text is None:
        if current is not None or os.path.exists(path):
          os.unlink(path)
          changed.append(name)
      else:
        atomic_io.write_text(path, text)
        changed.append(name)
    return changed

  def write_code_table(self, arrays):
    """codes.npz from metrics.code_table.arrays (the table's codes, indices, data set and
    weights), atomically."""
    import numpy as np  # only here: the rest of this module needs no numpy
    with atomic_io.atomic_path(self.file(CODES_FILE), suffix=".npz") as tmp:
      np.savez(tmp, **arrays)
    return self.file(CODES_FILE)

  def write_weights(self, networks):
    """Each {name: Keras model} of WEIGHTS_FILES as a .weights.h5 file, atomically."""
    for name, net in networks.items():
      with atomic_io.atomic_path(self.file(WEIGHTS_FILES[name]), suffix=".weights.h5") as tmp:
        net.save_weights(tmp)

  def remove_scored_outputs(self):
    """Delete scores.csv and figures/, which describe weights the run no longer has."""
    for name in SCORED_OUTPUTS:
      path = self.file(name)
      if os.path.isdir(path):
        shutil.rmtree(path)
      elif os.path.exists(path):
        os.unlink(path)


# Every file and folder the suite creates or rewrites in a run directory: none may be a symbolic
# link (a directory prepared by someone else could make a run write anywhere through one).
WRITTEN = (LOCK_FILE, RUN_CONFIG, CONFIG_FILE, RESULTS_FILE, HISTORY_FILE, CODES_FILE,
           SCORES_FILE, EVAL_CONFIG_FILE, FIGURES_DIR, CHECKPOINTS_DIR, TENSORBOARD_DIR,
           *WEIGHTS_FILES.values())


def check_no_links(output_dir, names=WRITTEN):
  """RunDirError naming the first of `names` in `output_dir` that is a symbolic link."""
  for name in names:
    path = os.path.join(output_dir, name)
    if os.path.islink(path):
      raise RunDirError(f"{path!r} is a symbolic link (to {os.readlink(path)!r}); a run never "
                        "writes through one: remove it")


class RunLock:
  """An exclusive, non-blocking lock on a run directory (context manager).

  Raises RunDirError naming the holder's pid when another process holds it."""

  def __init__(self, run_dir):
    self.path = os.path.join(run_dir, LOCK_FILE)
    self._fd = None

  def acquire(self):
    check_no_links(os.path.dirname(self.path))
    try:
      fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as e:
      if e.errno == errno.ELOOP:  # made a link since the check: still never followed
        raise RunDirError(f"{self.path!r} is a symbolic link; a run never writes through one: "
                          "remove it") from None
      raise
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
      os.close(fd)
      if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
        raise RunDirError(f"{os.path.dirname(self.path)!r} is in use by another process "
                          f"(pid {holder}); wait for it or stop it first") from None
      raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    self._fd = fd
    return self

  def release(self):
    if self._fd is not None:
      os.close(self._fd)  # closing the descriptor drops the flock
      self._fd = None

  def __enter__(self):
    return self if self._fd is not None else self.acquire()

  def __exit__(self, *exc):
    self.release()


def steps_done(run_dir):
  """The last step the run's history records (HISTORY_FILE; 0 before its first line): what
  a sweep's progress bar counts. A line still being written is skipped."""
  try:
    with open(os.path.join(run_dir, HISTORY_FILE), "rb") as f:
      f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))  # the last lines are enough
      lines = f.read().splitlines()
  except OSError:
    return 0
  for line in reversed(lines):
    try:
      return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
      continue
  return 0


def lock_holder(run_dir):
  """The pid of the process holding the run directory's lock (training or scoring in it), or
  None. Read from /proc/locks, without opening the lock for writing or taking it: a reader never
  blocks a trainer that starts at the same moment. None where /proc/locks does not exist."""
  try:
    st = os.stat(os.path.join(run_dir, LOCK_FILE), follow_symlinks=False)
    with open("/proc/locks") as f:
      table = f.read().splitlines()
  except OSError:
    return None
  device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
  holders = {}  # '1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF'
  for fields in (line.split() for line in table):
    if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].endswith(f":{st.st_ino}"):
      holders[fields[5]] = int(fields[4]) if fields[4].isdigit() else -1
  # An overlay file system may list the inode under its lower device: the inode alone then.
  return holders.get(device, next(iter(holders.values())) if len(holders) == 1 else None)


def is_run_dir(path):
  return os.path.isfile(os.path.join(path, RUN_CONFIG))


def check_trained(name, path):
  """Refuse, naming the argument `name`, a `path` that holds no trained run of this suite."""
  if not os.path.isfile(os.path.join(path, RESULTS_FILE)):
    raise RunDirError(f"{name} {path!r} is not a trained run of this suite (no {RESULTS_FILE})")


def check_usable(output_dir):
  """Refuse a file, a place that cannot be written, and a non-empty directory that is not a run
  of this suite."""
  try:
    checks.check_output_folder("--output_dir", output_dir)
  except ValueError as e:
    raise RunDirError(str(e)) from None
  if os.path.isdir(output_dir) and not is_run_dir(output_dir):
    foreign = [n for n in os.listdir(output_dir) if n != LOCK_FILE]
    if foreign:
      raise RunDirError(f"--output_dir {output_dir!r} is not empty and holds no run of this "
                        f"suite (no {RUN_CONFIG}); choose an empty or new directory")


def claim(output_dir, identity, overwrite=False):
  """Check `output_dir`, lock it, and make it hold the run `identity` (a list of config lines).

  A new or empty directory is created and marked; one holding the same run is resumed; one holding
  another run is refused unless `overwrite`, which empties it first (only ever a marked run).

  Returns:
    the held RunLock (release it when done, or let the process end).
  """
  check_usable(output_dir)
  os.makedirs(output_dir, exist_ok=True)
  if not os.access(output_dir, os.W_OK):
    raise RunDirError(f"--output_dir {output_dir!r} is not writable")
  lock = RunLock(output_dir).acquire()
  try:
    check_usable(output_dir)  # again, now that no other process can be writing in it
    for folder in (output_dir, os.path.join(output_dir, FIGURES_DIR)):
      if os.path.isdir(folder):
        atomic_io.remove_leftovers(folder)
    marker = os.path.join(output_dir, RUN_CONFIG)
    if is_run_dir(output_dir):
      old = read_identity(output_dir)
      if old != identity and not overwrite:
        diff = sorted(set(old) ^ set(identity))
        raise RunDirError(f"{output_dir!r} holds a run with a different config (differing lines: "
                          f"{diff}); choose another --output_dir or pass --overwrite")
      if overwrite:
        for name in os.listdir(output_dir):  # keep the lock file we hold
          if name != LOCK_FILE:
            path = os.path.join(output_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    atomic_io.write_text(marker, "\n".join(identity) + "\n")
  except BaseException:
    lock.release()
    raise
  return lock
