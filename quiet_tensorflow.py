"""TensorFlow and Keras, imported once without TensorFlow's C++ start-up lines.

    from echo_suite.quiet_tensorflow import tf, keras

TensorFlow 2.21 writes a few lines straight to file descriptor 2 while it is imported: absl's
"All log messages before absl::InitializeLog() ..." notice, oneDNN's "custom operations are on"
(the default on AVX-512 CPUs; TF_ENABLE_ONEDNN_OPTS=1 shows it on AVX2 ones) and the CPU
feature guard's "This TensorFlow binary is optimized ..." with its continuation line.
TF_CPP_MIN_LOG_LEVEL does not silence them, so they would precede every command's own one-line
error. Every module of the suite imports TensorFlow through this one, which holds file
descriptor 2 in a temporary file during the import and then writes back every line except those
known start-up lines: a real warning or error that TensorFlow writes while importing still
reaches stderr, in order. Python's own warnings and logging pass through the same way.
"""
import contextlib
import os
import re
import sys
import tempfile

# The start-up lines, whole: a line that merely mentions oneDNN or absl is kept.
STARTUP_LINES = (
    re.compile(rb"WARNING: All log messages before absl::InitializeLog\(\) is called are "
               rb"written to STDERR"),
    re.compile(rb"[IW]\d{4} [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\. .*"),
    re.compile(rb"[IW]\d{4} [\d:.]+ +\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is "
               rb"optimized to use available CPU instructions in performance-critical "
               rb"operations\."),
    re.compile(rb"To enable the following instructions: [A-Za-z0-9_ ]+, in other operations, "
               rb"rebuild TensorFlow with the appropriate compiler flags\."),
)


def is_startup_line(line):
  """Whether `line` (bytes, with or without its newline) is one of TensorFlow's start-up lines."""
  text = line.rstrip(b"\r\n")
  return any(pattern.fullmatch(text) for pattern in STARTUP_LINES)


@contextlib.contextmanager
def startup_lines_dropped():
  """Inside the block, whatever is written to file descriptor 2 (by C++ or Python) is held in a
  temporary file; at its end every line but TensorFlow's start-up lines is written to stderr."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as held:
    os.dup2(held.fileno(), 2)
    try:
      yield
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      held.seek(0)
      kept = [line for line in held.read().splitlines(keepends=True)
              if not is_startup_line(line)]
      if kept:
        os.write(2, b"".join(kept))


def _import():
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info lines after start-up
  if "tensorflow" in sys.modules and "keras" in sys.modules:
    return sys.modules["tensorflow"], sys.modules["keras"]
  with startup_lines_dropped():
    import tensorflow
    import keras
  return tensorflow, keras


tf, keras = _import()
