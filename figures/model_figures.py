"""Figures of a trained model: latent traversals (PNG + GIF), factor responses (paper Fig. 4),
reconstructions, training curves, rate per dimension. Numpy in, PNG out."""
import os
import warnings

import numpy as np
from PIL import Image

from echo_suite import atomic_io
from echo_suite.figures.style import picture, plt, save, show_image
from echo_suite.data.grid import SHAPE_NAMES
from echo_suite.metrics import alignment
from echo_suite.models import registry



def traversal_grid(decode, codes, seed_code, order, steps=9):
  """Decoded images (len(order), steps, 64, 64, C): each row sweeps one dimension of `seed_code` from
  its 2nd to its 98th percentile over `codes`, the others held."""
  rows = []
  for d in order:
    lo, hi = np.percentile(codes[:, d], [2, 98])
    sweep = np.repeat(seed_code[None], steps, axis=0)
    sweep[:, d] = np.linspace(lo, hi, steps)
    decoded = np.asarray(decode(sweep))
    rows.append(decoded.reshape(steps, 64, 64, -1))
  return np.stack(rows)


def latent_traversals(grid, labels, png_path, gif_path=None, title="latent traversals"):
  """The traversal grid as a PNG (rows labelled) and, optionally, an animated GIF sweeping all
  rows together (one frame per column, forth and back)."""
  n_rows, n_cols = grid.shape[:2]
  # One image with white gutters, not one axes per cell: 90 axes took seconds to lay out.
  cell = 64 + 2
  grid = grid.reshape(n_rows, n_cols, 64, 64, -1)
  mosaic = np.ones((n_rows * cell, n_cols * cell, grid.shape[-1]))
  for r in range(n_rows):
    for c in range(n_cols):
      mosaic[r * cell + 1:r * cell + 65, c * cell + 1:c * cell + 65] = grid[r, c]
  fig, ax = plt.subplots(figsize=(1.0 * n_cols + 1.6, 1.0 * n_rows + 0.5))
  show_image(ax, mosaic)
  ax.set_yticks(np.arange(n_rows) * cell + cell / 2, labels, fontsize=9)
  ax.set_xticks([cell / 2, (n_cols - 0.5) * cell], ["2nd pct", "98th pct"], fontsize=9)
  ax.xaxis.tick_top()
  ax.tick_params(length=0)
  for side in ax.spines.values():
    side.set_visible(False)
  ax.set_title(title, pad=18)
  paths = [save(fig, png_path)]
  if gif_path:
    frames = []
    for c in list(range(n_cols)) + list(range(n_cols - 2, 0, -1)):
      column = np.concatenate([np.pad(picture(grid[r, c]), [(1, 1), (1, 1)] + [(0, 0)] * (
          grid.shape[-1] == 3), constant_values=1.0) for r in range(n_rows)], axis=1)
      # A bar under the images marks how far along the sweep the frame is; it also keeps every
      # frame distinct, so GIF writers do not merge the frames of a flat traversal.
      bar = np.zeros((4,) + column.shape[1:])
      bar[:, :max(1, round(column.shape[1] * c / max(1, n_cols - 1)))] = 1.0
      column = np.concatenate([column, bar], axis=0)
      frames.append(Image.fromarray((column * 255).astype(np.uint8)).resize(
          (column.shape[1] * 2, column.shape[0] * 2), Image.NEAREST))
    with atomic_io.atomic_path(gif_path, suffix=".gif") as tmp:
      frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=120,
                     loop=0)
    paths.append(gif_path)
  return paths


def factor_means(codes, factors, sizes):
  """Mean code over every combination of factor values present: (*sizes, D), NaN where absent."""
  flat = np.ravel_multi_index(tuple(factors.T), sizes)
  total = np.zeros((int(np.prod(sizes)), codes.shape[1]))
  np.add.at(total, flat, codes)
  count = np.bincount(flat, minlength=total.shape[0])[:, None]
  with np.errstate(invalid="ignore"):
    return (total / count).reshape(*sizes, codes.shape[1])


DSPRITES_FACTORS = ["shape", "scale", "orientation", "posX", "posY"]


def factor_response(codes, factors, sizes, path, order, labels, title="factor response",
                    names=DSPRITES_FACTORS):
  """The mean code of each latent dimension (rows) against the factors `names`. For dSprites'
  factors, paper Fig. 4 (`_position_response`); for any other grid, one panel per factor
  (`_factor_lines`)."""
  if list(names) == DSPRITES_FACTORS:
    return _position_response(codes, factors, sizes, path, order, labels, title)
  return _factor_lines(codes, factors, sizes, path, order, labels, title, names)


def _factor_lines(codes, factors, sizes, path, order, labels, title, names):
  """Per latent dimension (rows) and factor (columns): the mean code at each class of the factor,
  over the other factors."""
  fig, axes = plt.subplots(len(order), len(names),
                           figsize=(2.3 * len(names) + 1.4, 1.6 * len(order) + 0.8),
                           squeeze=False, sharey="row")  # one scale a row: the strongest shows
  for c, (name, size) in enumerate(zip(names, sizes)):
    counts = np.bincount(factors[:, c], minlength=size)
    for r, d in enumerate(order):
      sums = np.bincount(factors[:, c], weights=codes[:, d], minlength=size)
      with np.errstate(invalid="ignore"):
        axes[r, c].plot(np.arange(size), sums / counts, marker=".", color="tab:blue")
      axes[r, c].tick_params(labelsize=7)
      if c == 0:
        axes[r, c].set_ylabel(labels[r], rotation=0, ha="right", va="center", fontsize=9)
    axes[0, c].set_title(f"mean code vs {name}", fontsize=9)
    axes[-1, c].set_xlabel(f"{name} (class)")
  height = 1.6 * len(order) + 0.8
  fig.suptitle(title, y=1 - 0.12 / height)
  fig.subplots_adjust(left=0.16, right=0.98, bottom=0.5 / height, top=1 - 0.7 / height,
                      wspace=0.45, hspace=0.35)
  return save(fig, path, tight=False)


def _position_response(codes, factors, sizes, path, order, labels, title):
  """Paper Fig. 4: per latent dimension (rows) the mean code over position (heatmap, posX across,
  posY down) and against scale and orientation (one line per shape). Under each row's label: the
  dimension's direction in the image plane (metrics.alignment), degrees off the nearer axis."""
  means = factor_means(codes, factors, sizes)  # (shape, scale, orientation, posX, posY, D)
  aligned = alignment.position_alignment(codes, factors)
  warnings.filterwarnings("ignore", "Mean of empty slice")  # removed combinations (ds_corr)
  fig, axes = plt.subplots(len(order), 3, figsize=(10, 2.0 * len(order) + 0.6), squeeze=False)
  colors = ("tab:blue", "tab:orange", "tab:green")
  for r, d in enumerate(order):
    pos = np.nanmean(means[..., d], axis=(0, 1, 2)).T  # rows posY, columns posX
    im = axes[r, 0].imshow(pos, cmap="coolwarm", origin="upper", interpolation="nearest")
    fig.colorbar(im, ax=axes[r, 0], fraction=0.046)
    axes[r, 0].set_ylabel(f"{labels[r]}\n{_position_note(aligned, d)}", rotation=0, ha="right",
                          va="center", fontsize=9)
    for k in range(sizes[0]):
      axes[r, 1].plot(np.linspace(0.5, 1, sizes[1]), np.nanmean(means[k, ..., d], axis=(1, 2, 3)),
                      color=colors[k], label=SHAPE_NAMES[k], marker=".")
      axes[r, 2].plot(np.linspace(0, 360, sizes[2]), np.nanmean(means[k, ..., d], axis=(0, 2, 3)),
                      color=colors[k], label=SHAPE_NAMES[k])
  axes[0, 0].set_title("mean code over position (posY down)")
  axes[0, 1].set_title("mean code vs scale")
  axes[0, 2].set_title("mean code vs orientation")
  axes[-1, 0].set_xlabel("posX (column)")
  axes[-1, 1].set_xlabel("scale")
  axes[-1, 2].set_xlabel("orientation (degrees)")
  axes[0, 2].legend(fontsize=8, loc="upper right")
  # fixed margins: tight_layout over 30 axes took seconds
  height = 2.0 * len(order) + 0.6
  fig.suptitle(title, y=1 - 0.12 / height)
  fig.subplots_adjust(left=0.15, right=0.98, bottom=0.55 / height, top=1 - 0.75 / height,
                      wspace=0.55, hspace=0.35)
  return save(fig, path, tight=False)


def _position_note(aligned, d):
  """'43° off axes' over 'R² 0.98' for a position-coding dimension, else its R² to position."""
  r2, off = aligned["r2"][d], aligned["angle_off_axes_deg"][d]
  if not np.isfinite(r2):
    return "constant"
  return f"{off:.0f}° off axes\nR² {r2:.2f}" if np.isfinite(off) else f"position R² {r2:.2f}"


def reconstructions(images, recon, path, title="reconstructions (top: input, bottom: output)"):
  n = len(images)
  fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6), squeeze=False)
  for i in range(n):
    for row, img in enumerate((images[i], recon[i])):
      show_image(axes[row, i], np.asarray(img).reshape(64, 64, -1))
  axes[0, 0].set_ylabel("input"), axes[1, 0].set_ylabel("output")
  fig.suptitle(title)
  return save(fig, path)


def training_curves(history, path, title="training"):
  """Every logged term of the run (models.registry: distortion, rate, the model's own terms, the
  discriminator's TC and accuracy) but the total loss and the discriminator's loss, against step."""
  units = registry.term_units()
  keys = [k for k in units if k in history[0] and k not in ("loss", "disc_loss")]
  fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.0), squeeze=False)
  steps = [h["step"] for h in history]
  for ax, key in zip(axes[0], keys):
    ax.plot(steps, [h[key] for h in history], label="target C(t)")
    if key == "capacity":  # the rate is meant to follow C(t)
      ax.plot(steps, [h["rate"] for h in history], label="rate (KL)")
      ax.legend(fontsize=8)
    ax.set_xlabel("step"), ax.set_ylabel(f"{key} {units[key]}".strip())
    ax.set_title(key)
  fig.suptitle(title)
  fig.tight_layout(rect=(0, 0, 1, 0.97))
  return save(fig, path)


def rate_per_dimension(rates, min_rate, path, rate_kind="exact rate", title="rate per dimension"):
  """Bar chart of the rate of every latent dimension, the lowest achievable rate marked."""
  fig, ax = plt.subplots(figsize=(6, 3.2))
  ax.bar(np.arange(len(rates)), rates, color="tab:blue")
  ax.axhline(min_rate, color="tab:red", linestyle="--",
             label=f"lowest achievable: {min_rate:.3f} nats")
  ax.set_xlabel("latent dimension"), ax.set_ylabel(f"{rate_kind} (nats)")
  ax.set_xticks(np.arange(len(rates)))
  ax.legend(fontsize=8)
  ax.set_title(title)
  return save(fig, path)


# A run's figures (write_all writes them into the run's figures/), by file name, each with what
# it shows in words: the sweep report's captions and alt text.
TRAVERSALS, FACTOR_RESPONSE, RECONSTRUCTIONS, RATE_PER_DIM, TRAINING_CURVES = (
    "traversals.png", "factor_response.png", "reconstructions.png", "rate_per_dim.png",
    "training_curves.png")
RUN_FIGURES = {
    TRAVERSALS: "latent traversals: each row moves one code dimension from its lowest to its "
                "highest value, rows ordered by rate",
    FACTOR_RESPONSE: "factor response: the mean of each code dimension against each ground-truth "
                     "factor",
    RATE_PER_DIM: "rate (or KL) of each code dimension",
    RECONSTRUCTIONS: "inputs (top) and their reconstructions (bottom)",
    TRAINING_CURVES: "training losses against step",
}


def write_all(directory, *, decode, codes, factors, sizes, rates, min_rate, rate_kind,
              images, recon, history=None, name="model", seed=0, factor_names=DSPRITES_FACTORS):
  """Every model figure into `directory`; returns the written paths.

  Args:
    decode: codes -> images in [0, 1].
    codes, factors: the code table and its (N, F) factor classes.
    sizes: factor sizes. factor_names: their names (the figures' panels follow them). rates: rate (or KL) per dimension; dimensions are ordered by it.
    min_rate: lowest achievable rate per dimension. rate_kind: label of the rate.
    images, recon: a few images and their reconstructions. history: training log rows.
  """
  os.makedirs(directory, exist_ok=True)
  order = list(np.argsort(-np.asarray(rates)))
  labels = [f"z{d}: {rates[d]:.2f} nats" for d in order]
  seed_code = codes[np.random.RandomState(seed).randint(len(codes))]
  grid = traversal_grid(decode, codes, seed_code, order)
  paths = latent_traversals(grid, labels, os.path.join(directory, TRAVERSALS),
                            os.path.join(directory, "traversals.gif"),
                            title=f"{name}: latent traversals (rows by {rate_kind})")
  paths.append(factor_response(codes, factors, sizes,
                               os.path.join(directory, FACTOR_RESPONSE), order, labels,
                               title=f"{name}: factor response", names=factor_names))
  paths.append(reconstructions(images, recon, os.path.join(directory, RECONSTRUCTIONS),
                               title=f"{name}: inputs (top) and reconstructions (bottom)"))
  paths.append(rate_per_dimension(rates, min_rate, os.path.join(directory, RATE_PER_DIM),
                                  rate_kind, title=f"{name}: {rate_kind} per dimension"))
  if history:
    paths.append(training_curves(history, os.path.join(directory, TRAINING_CURVES),
                                 title=f"{name}: training"))
  return paths
