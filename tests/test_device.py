"""Where a run computes: the install's choice of TensorFlow build, the device record, threads."""
import io
import os
import stat
import subprocess

import pytest

from echo_suite import device
from conftest import ROOT


def _fake_nvidia_smi(directory, gpu_line="GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-1234)"):
  path = os.path.join(directory, "nvidia-smi")
  with open(path, "w") as f:
    f.write(f"#!/bin/sh\necho '{gpu_line}'\n")
  os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
  return directory


def _install_commands(env_path, *make_args):
  """What `make install` would run (forced, dry), with PATH = env_path."""
  out = subprocess.run(["make", "-B", "-n", "install", *make_args], cwd=ROOT, text=True,
                       capture_output=True, env={**os.environ, "PATH": env_path}, check=True)
  return out.stdout


@pytest.mark.parametrize("fake_gpu,args,package", [
    (False, [], "'tensorflow-cpu==2.21.0'"),
    (True, [], "'tensorflow[and-cuda]==2.21.0'"),
    (False, ["GPU=1"], "'tensorflow[and-cuda]==2.21.0'"),
    (True, ["GPU=0"], "'tensorflow-cpu==2.21.0'"),
])
def test_install_chooses_the_tensorflow_build(tmp_path, fake_gpu, args, package):
  path = os.environ["PATH"]
  if fake_gpu:
    path = _fake_nvidia_smi(str(tmp_path)) + os.pathsep + path
  commands = _install_commands(path, *args)
  assert package in commands
  other = "tensorflow-cpu" if "cuda" in package else "tensorflow"
  # Switching builds: the other one is uninstalled first, and the stamp names the build.
  assert f"pip uninstall --quiet --yes {other} " in commands
  assert (".installed-gpu" in commands) == ("cuda" in package)


def test_device_record_names_cpu_tensorflow_and_threads():
  from echo_suite.quiet_tensorflow import tf
  record = device.describe()
  assert set(record) == {"cpu", "cores", "avx512", "avx2", "gpus", "tensorflow", "threads"}
  assert record["tensorflow"] == tf.__version__ and record["cores"] == os.cpu_count()
  assert record["cpu"] and isinstance(record["avx512"], bool)
  # The machine's own GPUs, whatever it has (none on a CPU machine): what TensorFlow lists.
  assert record["gpus"] == [d.name for d in tf.config.list_physical_devices("GPU")]
  assert record["avx512"] == any(f.startswith("avx512") for f in device.cpu_flags())


def test_a_gpu_tensorflow_cannot_see_is_named_once(tmp_path, monkeypatch):
  monkeypatch.setenv("PATH", _fake_nvidia_smi(str(tmp_path)) + os.pathsep + os.environ["PATH"])
  monkeypatch.setattr(device, "_WARNED", [])
  assert device.nvidia_gpus() == ["NVIDIA A100-SXM4-40GB"]
  first, second = io.StringIO(), io.StringIO()
  assert device.warn_if_gpu_unused(first) and not device.warn_if_gpu_unused(second)
  assert "NVIDIA A100-SXM4-40GB" in first.getvalue() and "make install GPU=1" in first.getvalue()
  assert second.getvalue() == ""


def test_no_gpu_no_warning(tmp_path, monkeypatch):
  monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
  monkeypatch.setattr(device, "_WARNED", [])
  assert device.nvidia_gpus() == [] and not device.warn_if_gpu_unused(io.StringIO())


def test_bad_thread_counts_are_refused():
  for bad in (0, -1, 1.5, True):
    with pytest.raises(ValueError, match=f"threads={bad!r} must be an integer >= 1"):
      device.set_threads(bad)
