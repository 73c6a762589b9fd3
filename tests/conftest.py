"""Tests run from the repository root; make its modules importable and keep TF quiet."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)
REFERENCE_DIR = os.path.join(ROOT, os.pardir, "shared", "reference")
