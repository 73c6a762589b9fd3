"""Where a run computes: TensorFlow's thread counts, and a record of the machine (CPU model, cores,
vector extensions, GPUs, TensorFlow version) that results.json keeps beside every number.

    set_threads(2)                # before TensorFlow runs anything
    record = describe()           # {'cpu': ..., 'gpus': [...], 'tensorflow': ..., 'threads': ...}

A machine with an NVIDIA GPU that TensorFlow cannot see (the CPU wheel, or missing CUDA
libraries) trains on the CPU; `warn_if_gpu_unused` says so once, naming the fix.
"""
import os
import platform
import shutil
import subprocess
import sys

from echo_suite import checks

_WARNED = []


def cpu_model():
  """The CPU's model name (lscpu's 'Model name'), or platform's processor string."""
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def cpu_flags():
  """The CPU's flags (/proc/cpuinfo), empty where unknown."""
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("flags"):
          return set(line.split(":", 1)[1].split())
  except OSError:
    pass
  return set()


def nvidia_gpus():
  """Names of the NVIDIA GPUs `nvidia-smi -L` lists (empty without the tool or a GPU)."""
  if shutil.which("nvidia-smi") is None:
    return []
  try:
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
  except (OSError, subprocess.SubprocessError):
    return []
  if out.returncode != 0:
    return []
  return [line.split(":", 1)[1].split("(UUID")[0].strip()
          for line in out.stdout.splitlines() if line.startswith("GPU") and ":" in line]


def set_threads(threads):
  """Give TensorFlow `threads` compute threads (None: its default, one per core). Must run before
  TensorFlow executes any op; raises ValueError for a count below 1."""
  if threads is None:
    return
  checks.check_count("threads", threads)
  from echo_suite.quiet_tensorflow import tf
  try:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
  except RuntimeError:  # TensorFlow already ran: its pools are fixed
    if tf.config.threading.get_intra_op_parallelism_threads() != threads:
      raise RuntimeError(f"threads={threads}: TensorFlow has already started with other "
                         "thread counts; set them first") from None
  os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)


def tensorflow_gpus():
  from echo_suite.quiet_tensorflow import tf
  return [d.name for d in tf.config.list_physical_devices("GPU")]


def warn_if_gpu_unused(stream=None):
  """Print one warning per process when nvidia-smi sees a GPU that TensorFlow does not."""
  if _WARNED:
    return False
  seen = nvidia_gpus()
  if seen and not tensorflow_gpus():
    _WARNED.append(True)
    print(f"warning: nvidia-smi sees {', '.join(seen)} but TensorFlow computes on the CPU; "
          "install the GPU build with `make install GPU=1` (tensorflow[and-cuda])",
          file=stream or sys.stderr)
    return True
  return False


def describe():
  """Record of where this process computes: CPU model, cores, AVX-512/AVX2 presence, the GPUs
  TensorFlow uses, TensorFlow's version and thread counts."""
  from echo_suite.quiet_tensorflow import tf
  flags = cpu_flags()
  intra = tf.config.threading.get_intra_op_parallelism_threads()
  env = os.environ.get("TF_NUM_INTRAOP_THREADS")
  return {
      "cpu": cpu_model(),
      "cores": os.cpu_count(),
      "avx512": any(f.startswith("avx512") for f in flags),
      "avx2": "avx2" in flags,
      "gpus": tensorflow_gpus(),
      "tensorflow": tf.__version__,
      # 0 means TensorFlow's default: one thread per core.
      "threads": intra or (int(env) if env and env.isdigit() else 0),
  }


def label(record):
  """A `describe()` record in a few words: 'AMD EPYC, 2 cores, AVX2, 1 thread' (or its GPUs)."""
  if not record:
    return "unrecorded"
  simd = "AVX-512" if record.get("avx512") else "AVX2" if record.get("avx2") else "no AVX2"
  threads = record.get("threads") or "default"
  text = f"{record.get('cpu', '?')}, {record.get('cores', '?')} cores, {simd}, {threads} thread"
  text += "" if threads == 1 else "s"
  gpus = record.get("gpus") or []
  return text + (f", GPU: {', '.join(map(str, gpus))}" if gpus else "")


def trained_and_scored(results):
  """Where a run (a results.json dict) trained and was scored, in `label`'s words: one label
  when both agree, else 'TRAINED; scored on SCORED'."""
  trained, scored = (label((results.get(block) or {}).get("device"))
                     for block in ("training", "scores"))
  return trained if scored == trained else f"{trained}; scored on {scored}"
