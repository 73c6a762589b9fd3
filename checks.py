"""The check of a configured number, in the suite's one wording ("NAME=VALUE must be ..."): for
weights, learning rates, penalty and metric settings. Standard library only, so the model registry
(listing models needs no TensorFlow) imports it too."""
import math


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
