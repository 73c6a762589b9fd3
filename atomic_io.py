"""Atomic file writes: write beside the target, then rename over it, so a reader (or a killed
run) never sees half a file. The one home of this pattern; imports only the standard library."""
import contextlib
import csv
import glob
import json
import os
import tempfile

TMP_PREFIX = ".tmp-"  # names of files being written; a kill -9 can leave one (remove_leftovers)


@contextlib.contextmanager
def atomic_path(path, suffix="", mode=0o644):
  """Yield a temporary path in the target's folder; on success it replaces `path` (`mode`)."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(suffix=suffix, prefix=TMP_PREFIX, dir=directory)
  os.close(fd)
  try:
    yield tmp
    os.chmod(tmp, mode)  # mkstemp makes 0600 files; results are meant to be shared
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.unlink(tmp)


def write_text(path, text):
  with atomic_path(path) as tmp, open(tmp, "w") as f:
    f.write(text)
  return path


def _block_lines(lines, begin, end):
  """(i, j): indices of the one line that is `begin` and the one line after it that is `end`
  (whole lines, surrounding blanks aside; a marker quoted inside a sentence or a code span does
  not count). Raises ValueError naming what is missing or repeated."""
  starts = [i for i, line in enumerate(lines) if line.strip() == begin]
  stops = [i for i, line in enumerate(lines) if line.strip() == end]
  if len(starts) != 1 or len(stops) != 1 or stops[0] < starts[0]:
    raise ValueError(f"has {len(starts)} line(s) {begin} and {len(stops)} line(s) {end}: one "
                     "of each, in that order, marks the generated block")
  return starts[0], stops[0]


def _read_lines(path):
  with open(path, encoding="utf-8", newline="") as f:  # newline="": CRLF pages stay CRLF
    return f.read().splitlines(keepends=True)


def read_block(path, begin, end):
  """The generated block a page holds: from its line `begin` to its line `end`, both included,
  as `replace_block` would replace it. Raises ValueError when the page has not exactly one
  of each (in that order), UnicodeDecodeError when it is not UTF-8."""
  lines = _read_lines(path)
  i, j = _block_lines(lines, begin, end)
  return "".join(lines[i:j + 1])


def replace_block(path, begin, end, block):
  """Replace the page's generated block (`read_block`) by `block`, atomically, keeping the
  page's file mode; a symbolic link's target is written, not the link. Raises ValueError as
  read_block does."""
  path = os.path.realpath(path)
  lines = _read_lines(path)
  i, j = _block_lines(lines, begin, end)
  with atomic_path(path, mode=os.stat(path).st_mode & 0o7777) as tmp, \
      open(tmp, "w", encoding="utf-8", newline="") as f:
    f.write("".join(lines[:i]) + block + "".join(lines[j + 1:]))
  return path


def write_csv(path, header, rows):
  """A CSV file with the column names `header` and one line per row (a sequence in the header's
  order, or a dict keyed by it)."""
  with atomic_path(path, suffix=".csv") as tmp, open(tmp, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows([r[k] for k in header] if isinstance(r, dict) else r for r in rows)
  return path


def json_text(obj):
  """The JSON text every JSON file of the suite holds: keys sorted, numpy numbers as floats."""
  return json.dumps(obj, indent=2, sort_keys=True, default=float) + "\n"


def as_saved(obj):
  """`obj` as a reader of its JSON file gets it back (key order, number types)."""
  return json.loads(json_text(obj))


def write_json(path, obj):
  return write_text(path, json_text(obj))


def remove_leftovers(directory):
  """Delete temporary files that a killed writer left in `directory` (call with the directory's
  lock held, so no writer is running); returns how many."""
  paths = glob.glob(os.path.join(glob.escape(directory), TMP_PREFIX + "*"))
  for path in paths:
    os.unlink(path)
  return len(paths)
