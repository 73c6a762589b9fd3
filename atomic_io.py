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
def atomic_path(path, suffix=""):
  """Yield a temporary path in the target's folder; on success it replaces `path` (mode 0644)."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(suffix=suffix, prefix=TMP_PREFIX, dir=directory)
  os.close(fd)
  try:
    yield tmp
    os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; results are meant to be shared
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.unlink(tmp)


def write_text(path, text):
  with atomic_path(path) as tmp, open(tmp, "w") as f:
    f.write(text)
  return path


def _block_span(text, begin, end):
  """(start, stop) of the lines from the one holding `begin` to the one holding `end`, or None."""
  start, stop = text.find(begin), text.find(end)
  if start < 0 or stop < start:
    return None
  stop = text.find("\n", stop)
  return start, len(text) if stop < 0 else stop + 1


def read_block(path, begin, end):
  """The generated block a page holds: from the line of marker `begin` to that of `end`, both
  included ('' when the page has no such block)."""
  with open(path) as f:
    text = f.read()
  span = _block_span(text, begin, end)
  return "" if span is None else text[span[0]:span[1]]


def replace_block(path, begin, end, block):
  """Replace the page's block between markers `begin` and `end` (`read_block`) by `block`,
  atomically. Raises ValueError when the page has no such block."""
  with open(path) as f:
    text = f.read()
  span = _block_span(text, begin, end)
  if span is None:
    raise ValueError(f"{path} has no block between {begin!r} and {end!r}")
  return write_text(path, text[:span[0]] + block + text[span[1]:])


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
