"""Previews of a ground-truth dataset: samples, mean image, removed bin pairs (ds_corr), the joint of
each correlated pair (ds_pairs), reference comparison."""
import itertools
import os

import numpy as np

from echo_suite.data import dependence
from echo_suite.data.grid import DSPRITES
from echo_suite.figures.style import picture, plt, save, show_image

REFERENCE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             os.pardir, "shared", "reference")


def sample_grid(images, path, title, rows=5):
  """A rows x rows grid of (N, 64, 64) or (N, 64, 64, C) images."""
  fig, axes = plt.subplots(rows, rows, figsize=(1.4 * rows, 1.4 * rows + 0.3))
  for ax, img in zip(axes.ravel(), images):
    show_image(ax, img)
  fig.suptitle(title)
  return save(fig, path)


def mean_image(mean, path, title):
  """The pixel-wise mean of many images: grey-scale with a colour bar, or in colour."""
  fig, ax = plt.subplots(figsize=(4.2, 3.6))
  mean = picture(mean)
  if mean.ndim == 2:
    im = ax.imshow(mean, cmap="gray", vmin=0, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="P(pixel on)")
  else:
    ax.imshow(mean, interpolation="nearest")
  ax.set_title(title)
  ax.set_xlabel("x (column)"), ax.set_ylabel("y (row)")
  return save(fig, path)


def removed_bin_pairs(data, path):
  """One heatmap per factor pair: which pairs of factor bins the dataset removed (dark = removed)."""
  bins = dependence.factor_bins(getattr(data, "n_bins", 1), data.grid)
  names = data.factor_names
  pairs = list(itertools.combinations(range(len(names)), 2))
  rows = max(1, -(-len(pairs) // 5))
  fig, axes = plt.subplots(rows, 5, figsize=(15, 3.2 * rows), squeeze=False)
  for ax in axes.ravel()[len(pairs):]:
    ax.set_visible(False)
  removed = set(data.removed_bin_pairs)
  for ax, (a, b) in zip(axes.ravel(), pairs):
    grid = np.ones((len(bins[a]), len(bins[b])))
    for (fa, ia), (fb, ib) in removed:
      if (fa, fb) == (a, b):
        grid[ia, ib] = 0.0
    ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlabel(f"{names[b]} bin"), ax.set_ylabel(f"{names[a]} bin")
    ax.set_xticks(range(len(bins[b]))), ax.set_yticks(range(len(bins[a])))
    ax.set_title(f"{names[a]} x {names[b]}: {int((grid == 0).sum())} removed")
  fig.suptitle(f"{data.name}: removed (red) and kept (green) bin pairs; "
               f"{100 * data.num_examples / data.grid.num_images:.1f}% of images kept")
  fig.tight_layout()
  return save(fig, path)


def pair_joints(data, path):
  """One heatmap per correlated pair of ds_pairs: the exact joint p(c1, c2) of the two factors'
  classes, titled with their mutual information (the pair's share of the total correlation)."""
  fig, axes = plt.subplots(1, len(data.pairs), figsize=(4.6 * len(data.pairs), 4.2), squeeze=False)
  for ax, pair in zip(axes[0], data.pairs):
    joint = dependence.pair_joint(data.probs, pair)
    p1, p2 = joint.sum(1), joint.sum(0)
    mi = float(np.sum(joint[joint > 0] * np.log(joint[joint > 0] / np.outer(p1, p2)[joint > 0])))
    im = ax.imshow(joint, cmap="viridis", origin="lower", interpolation="nearest", aspect="auto")
    fig.colorbar(im, ax=ax, label="p(c1, c2)")
    ax.set_xlabel(f"{pair[1]} class"), ax.set_ylabel(f"{pair[0]} class")
    ax.set_title(f"{pair[0]} x {pair[1]}: I = {mi:.3f} nats")
  fig.suptitle(f"{data.name}: sigma = {data.sigma:g}, slope = {data.slope:g}; "
               f"total correlation {data.info()['total_correlation_nats']:.3f} nats")
  fig.tight_layout()
  return save(fig, path)


def reference_comparison(data, path, reference_dir=REFERENCE_DIR, seed=0, n_mean=5000):
  """Real dSprites pictures (left) beside ours (right): samples, mean image, mean with posX = 0."""
  from PIL import Image
  rng = np.random.RandomState(seed)
  # colour, noise or a painting are drawn over the sprites: what is compared is the sprites
  sprites = "" if getattr(data, "num_channels", 1) == 1 else ", its sprites"
  ours_samples = data.images(data.sample_indices(25, rng))
  ours_mean = data.images(data.sample_indices(n_mean, rng)).mean(0)
  factors = data.sample_factors(n_mean, rng)
  factors[:, data.factor_names.index("posX")] = 0
  if data.keep is not None:
    factors = factors[data.keep.ravel()[data.index_of_factors(factors)]]
  ours_posx0 = data.images(data.index_of_factors(factors)).mean(0)
  mosaic = np.ones((5 * 66, 5 * 66))
  for k, img in enumerate(ours_samples):
    r, c = divmod(k, 5)
    mosaic[r * 66 + 1:r * 66 + 65, c * 66 + 1:c * 66 + 65] = img
  rows = [("dsprites_real_samples.png", mosaic, "25 random images"),
          ("dsprites_real_density.png", ours_mean, f"mean of {n_mean:,} images"),
          ("dsprites_real_posx0_density.png", ours_posx0, "mean with posX = 0")]
  fig, axes = plt.subplots(3, 2, figsize=(8, 12))
  for (ref_name, ours, what), (ax_ref, ax_ours) in zip(rows, axes):
    ref_path = os.path.join(reference_dir, ref_name)
    if os.path.exists(ref_path):
      ax_ref.imshow(np.asarray(Image.open(ref_path).convert("L")), cmap="gray")
    else:
      ax_ref.text(0.5, 0.5, f"{ref_name}\nnot found", ha="center", va="center")
    ax_ours.imshow(ours, cmap="gray", vmin=0, interpolation="nearest")
    ax_ref.set_title(f"real dSprites: {what}")
    ax_ours.set_title(f"ours ({preview_label(data)}{sprites}): {what}")
    for ax in (ax_ref, ax_ours):
      ax.set_xticks([]), ax.set_yticks([])
  fig.tight_layout()
  return save(fig, path)


def preview_label(data):
  """The data set's name, with the base a dependence is drawn on where it is not dSprites."""
  base = getattr(data, "base", None)
  return data.name + ("" if base is None or base.name == "dsprites" else f" on {base.name}")


def write_previews(data, directory, seed=0, n_mean=5000):
  """The previews of `data` into `directory`, chosen by what it is: samples and the mean image
  for every data set; the joints of ds_pairs' correlated pairs, the removed bin pairs of one
  with removed combinations (and of dSprites: none), and the real dSprites beside data drawn
  from dSprites' sprites. Returns the written paths."""
  rng = np.random.RandomState(seed)
  label = preview_label(data)
  stem = os.path.join(directory, label.replace(" on ", "_on_"))  # bases apart: no overwrite
  paths = [
      sample_grid(data.observations(data.sample_indices(25, rng), rng), f"{stem}_samples.png",
                  f"{label}: 25 random images"),
      mean_image(data.observations(data.sample_indices(n_mean, rng), rng).mean(0),
                 f"{stem}_mean.png", f"{label}: mean of {n_mean:,} images"),
  ]
  if getattr(data, "pairs", None):
    paths.append(pair_joints(data, f"{stem}_pair_joints.png"))
  elif data.keep is not None or data.name == "dsprites":
    paths.append(removed_bin_pairs(data, f"{stem}_removed_bin_pairs.png"))
  if data.grid == DSPRITES and hasattr(data, "images"):
    paths.append(reference_comparison(data, f"{stem}_vs_reference.png", seed=seed,
                                      n_mean=n_mean))
  return paths
