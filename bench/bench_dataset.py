"""Rendering throughput: random training batches of 64 on one core (target >= 50,000 images/s)."""
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
from echo_suite import device
from echo_suite.data import registry as data_registry
from echo_suite.data import renderer


def images_per_second(data, batch_size=64, seconds=3.0):
  it = data.batches(batch_size, seed=0)
  next(it)  # builds the base-sprite cache
  n, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    next(it)
    n += batch_size
  return n / (time.perf_counter() - start)


if __name__ == "__main__":
  print(f"device: {device.label(device.describe())} (rendering is numpy on one core)")
  start = time.perf_counter()
  renderer.base_sprites.cache_clear()
  renderer.base_sprites()
  print(f"base sprite cache (720 sprites): {time.perf_counter() - start:.2f} s")
  for name in data_registry.DATASET_NAMES:
    rate = images_per_second(data_registry.make_dataset(name))
    print(f"{name:<9} float32 NHWC batches of 64: {rate:,.0f} images/s")
