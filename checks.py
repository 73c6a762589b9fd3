"""The suite's checks of what a user gives, each in one wording: a configured number ("NAME=VALUE
must be ...": weights, learning rates, penalty and metric settings) and a place to write results
(made before any work, so a bad one costs nothing). Standard library only, so the model registry
(listing models needs no TensorFlow) imports it too."""
import math
import os


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



def check_output_folder(flag, path):
  """Raise ValueError naming `flag` unless `path` is a folder that can be written into, or one
  that can be made (its nearest existing ancestor is a writable folder).

  Returns:
    path, unchanged.
  """
  if os.path.exists(path) and not os.path.isdir(path):
    raise ValueError(f"{flag} {path!r} is a file; give a folder")
  _check_writable(flag, path, path)
  return path


def check_output_file(flag, path):
  """Raise ValueError naming `flag` unless `path` names a file that can be written: not a
  folder, in a folder that can be written into or made.

  Returns:
    path, unchanged.
  """
  if os.path.isdir(path):
    raise ValueError(f"{flag} {path!r} is a folder; give a file path")
  _check_writable(flag, path, os.path.dirname(os.path.abspath(path)))
  return path


def _check_writable(flag, path, folder):
  existing = os.path.abspath(folder)
  while not os.path.exists(existing):  # what makedirs would start from
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
    raise ValueError(f"{flag} {path!r}: {existing!r} is not a writable folder")
