"""The tests import the installed package `echo_suite` (make install: editable); keep TF quiet."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from echo_suite import ROOT, gin_compat  # noqa: E402  (after the log level, before TensorFlow)

gin_compat.install()  # the tests' entry point, as each command line's main()
# Only this file may edit the import path or hide a late import: test_package checks the others.
ONLY_IN_CONFTEST = ("sys.path", "noqa: E402")
# The suite's top-level modules and packages: imported only through echo_suite (test_package) and
# checked where pages cite them (test_references).
SUITE_MODULES = ("atomic_io checks device evidence gin_compat provenance quiet_tensorflow rundir "
                 "echo_noise data models metrics figures report commands").split()
REFERENCE_DIR = os.path.join(ROOT, os.pardir, "shared", "reference")
# The flags of every tiny test run (quick.gin, then tests/tiny.gin); a file adds its own.
TINY = ["--gin_file", os.path.join(ROOT, "gin_configs", "quick.gin"),
        "--gin_file", os.path.join(ROOT, "tests", "tiny.gin"), "--no_progress"]


def assert_same_weights(dir_a, dir_b):
  """The newest checkpoints of two runs hold the same weights, optimiser states and step (to
  float32 round-off); the wall-clock training time is left out."""
  import numpy as np
  from echo_suite.quiet_tensorflow import tf
  a, b = tf.train.load_checkpoint(str(dir_a)), tf.train.load_checkpoint(str(dir_b))
  names = [n for n in a.get_variable_to_shape_map()
           if "save_counter" not in n and "train_seconds" not in n]
  assert len(names) > 20
  for n in names:
    if np.asarray(a.get_tensor(n)).dtype.kind in "fiu":  # skip the object graph (bytes)
      np.testing.assert_allclose(a.get_tensor(n), b.get_tensor(n), rtol=1e-4, atol=1e-5,
                                 err_msg=n)
