"""The suite's checks of what a user gives, each in one wording: a configured number ("NAME=VALUE
must be ...": weights, learning rates, penalty and metric settings), a command-line number
(argparse types: "argument --steps: 0 must be >= 1") and a place to write results (checked
before any work, so a bad one costs nothing). Standard library only, so the model registry
(listing models needs no TensorFlow) imports it too."""
import argparse
import math
import numbers
import os
import sys


def check_number(name, value, minimum=None, strict=False):
  """Raise ValueError naming `name` unless `value` is a finite real number (not a bool) and,
  given `minimum`, at least it (above it with `strict`).

  Returns:
    value, unchanged.
  """
  if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
    raise ValueError(f"{name}={value!r} must be a finite number")
  if minimum is not None and (value <= minimum if strict else value < minimum):
    raise ValueError(f"{name}={value!r} must be {'>' if strict else '>='} {minimum:g}")
  return value


def check_count(name, value, minimum=1):
  """Raise ValueError naming `name` unless `value` is an integer (not a bool) >= `minimum`: a
  number of steps, points, votes or bins.

  Returns:
    value, unchanged.
  """
  if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
    raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
  return value


def int_at_least(minimum):
  """An argparse type: an integer >= `minimum`."""
  def parse(text):
    try:
      value = int(text)
    except ValueError:
      raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < minimum:
      raise argparse.ArgumentTypeError(f"{value} must be >= {minimum}")
    return value
  return parse


def finite_float(text):
  """An argparse type: a finite real number."""
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
  if not math.isfinite(value):
    raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
  return value


def positive_float(text):
  """An argparse type: a finite real number > 0."""
  value = finite_float(text)
  if value <= 0:
    raise argparse.ArgumentTypeError(f"{value:g} must be > 0")
  return value


def check_output_folder(flag, path):
  """Raise ValueError naming `flag` unless `path` is a folder that can be written into, or one
  that can be made (its nearest existing ancestor is a writable folder).

  Returns:
    path, unchanged.
  """
  problem = _output_folder_problem(path)
  if problem:
    raise ValueError(f"{flag} {problem}")
  return path


def output_folder(text):
  """An argparse type: `check_output_folder`'s folder."""
  problem = _output_folder_problem(text)
  if problem:
    raise argparse.ArgumentTypeError(problem)
  return text


def output_file(text):
  """An argparse type: a path a file can be written at (not a folder; its folder writable or
  makeable, as `check_output_folder`)."""
  problem = _output_file_problem(text)
  if problem:
    raise argparse.ArgumentTypeError(problem)
  return text


def page_with_block(path, begin, end):
  """A page a command rewrites between its markers (atomic_io.replace_block): an existing UTF-8
  file holding one line `begin` and one later line `end`, whose folder takes a new file.

  Raises:
    ValueError: saying what is wrong and what is accepted.
  """
  from echo_suite import atomic_io  # standard library only; imported where it is needed
  if not os.path.isfile(path):
    raise ValueError(f"{path!r} is not a file (a page holding the lines {begin} and {end})")
  try:
    atomic_io.read_block(path, begin, end)
  except UnicodeDecodeError:
    raise ValueError(f"{path!r} is not UTF-8 text (a page holding the lines {begin} and "
                     f"{end})") from None
  except ValueError as e:
    raise ValueError(f"{path!r} {e}") from None
  target = os.path.realpath(path)
  problem = _unwritable(path, os.path.dirname(target))
  if problem or not os.access(target, os.W_OK):
    raise ValueError(problem or f"{path!r} is not writable")
  return path


def _output_folder_problem(path):
  if os.path.exists(path) and not os.path.isdir(path):
    return f"{path!r} is a file; give a folder"
  if os.path.islink(path) and not os.path.exists(path):
    return (f"{path!r} is a symbolic link that leads nowhere (a loop, or a missing target "
            f"{os.readlink(path)!r}); give a folder")
  return _unwritable(path, path)


def _output_file_problem(path):
  if os.path.isdir(path):
    return f"{path!r} is a folder; give a file path"
  return _unwritable(path, os.path.dirname(os.path.abspath(path)))


def _unwritable(path, folder):
  """Why nothing can be written at `folder` (named as `path`), or None."""
  existing = os.path.abspath(folder)
  while not os.path.exists(existing):  # what makedirs would start from
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
    return f"{path!r}: {existing!r} is not a writable folder"
  return None


class ArgumentParser(argparse.ArgumentParser):
  """argparse's parser whose errors are the suite's one line, `error: ...` (exit 2), with no
  usage block before it (`--help` still prints the usage)."""

  def error(self, message):
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def count(n, noun):
  """'1 run', '2 runs': a count and its noun (plural by an s)."""
  return f"{n:,} {noun}{'' if n == 1 else 's'}"
