"""Sweep-level figures: scores per seed, curves (rate-distortion) and error bars (score against
factor dependence). Each takes plain numbers in the dataclasses below and draws; what to plot is
chosen by the caller (commands/aggregate.py, commands/table2_claims.py)."""
import dataclasses

import numpy as np

from echo_suite.figures.style import plt, save


@dataclasses.dataclass(frozen=True)
class Strip:
  """A group of scores (one per seed) drawn as points at one x position.

  Attributes:
    x: the position on the panel's x axis.
    values: the scores.
    color: a matplotlib colour.
    label: the legend entry (None: none).
    marker, hollow, size: how the points look (hollow: outlined only).
  """
  x: float
  values: tuple
  color: str
  label: str | None = None
  marker: str = "o"
  hollow: bool = False
  size: float = 20


@dataclasses.dataclass(frozen=True)
class StripPanel:
  """One panel of Strips, with its tick labels ((x, text) pairs)."""
  title: str
  ylabel: str
  strips: tuple
  xticks: tuple


@dataclasses.dataclass(frozen=True)
class Curve:
  """A line through points (x, y), each point optionally annotated."""
  label: str
  x: tuple
  y: tuple
  color: str
  style: str = "-"
  notes: tuple = ()
  marker: str = "o"


@dataclasses.dataclass(frozen=True)
class Series:
  """Means with error bars at x; connected by a line or not."""
  label: str
  x: tuple
  y: tuple
  yerr: tuple
  color: str
  marker: str = "o"
  connected: bool = True


def _legend(ax, **kwargs):
  """A legend when the axes hold labelled artists (matplotlib warns on an empty one)."""
  if ax.get_legend_handles_labels()[0]:
    ax.legend(**kwargs)


def strip_panels(rows, title, path, panel_size=(6.0, 3.5), tick_fontsize=8):
  """A grid of StripPanels (`rows`: a list of rows, each a list of panels) saved as PNG.

  Returns:
    path.
  """
  n_rows, n_cols = len(rows), max(len(r) for r in rows)
  fig, axes = plt.subplots(n_rows, n_cols, squeeze=False,
                           figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows + 0.5))
  for i, row in enumerate(rows):
    for j, panel in enumerate(row):
      ax = axes[i, j]
      for s in panel.strips:
        ax.scatter(np.full(len(s.values), s.x), s.values, s=s.size, marker=s.marker,
                   facecolors="none" if s.hollow else s.color, edgecolors=s.color,
                   zorder=2 if s.hollow else 3, label=s.label)
      positions = [x for x, _ in panel.xticks]
      ax.set_xticks(positions)
      ax.set_xticklabels([text for _, text in panel.xticks], fontsize=tick_fontsize)
      if positions:
        ax.set_xlim(min(positions) - 0.6, max(positions) + 0.6)
      ax.set_ylabel(panel.ylabel)
      ax.set_title(panel.title)
      _legend(ax, fontsize=7)
    for j in range(len(row), n_cols):
      axes[i, j].set_visible(False)
  fig.suptitle(title)
  fig.tight_layout(rect=(0, 0, 1, 0.96))
  return save(fig, path)


def curves(lines, xlabel, ylabel, title, path, size=(6.5, 4.5)):
  """Curves on one panel, each point annotated with its note; saved as PNG.

  Returns:
    path.
  """
  fig, ax = plt.subplots(figsize=size)
  for c in lines:
    ax.plot(c.x, c.y, c.style, marker=c.marker, color=c.color, label=c.label)
    for x, y, note in zip(c.x, c.y, c.notes):
      ax.annotate(note, (x, y), fontsize=7, textcoords="offset points", xytext=(3, 3))
  ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
  ax.set_title(title)
  _legend(ax, fontsize=8)
  return save(fig, path)


def error_bar_panels(panels, xlabel, title, path, panel_size=(6.0, 4.3)):
  """One panel per (panel title, y label, [Series]) side by side, one legend of every series
  right of the last panel (where it covers no point); saved as PNG.

  Returns:
    path.
  """
  fig, axes = plt.subplots(1, len(panels), squeeze=False,
                           figsize=(panel_size[0] * len(panels) + 3.0, panel_size[1]))
  seen = set()
  for ax, (panel_title, ylabel, series) in zip(axes[0], panels):
    for s in series:
      ax.errorbar(s.x, s.y, yerr=s.yerr, marker=s.marker, capsize=3, color=s.color,
                  linestyle="-" if s.connected else "none",
                  mfc=s.color if s.connected else "none",
                  label=None if s.label in seen else s.label)
      seen.add(s.label)
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel), ax.set_title(panel_title)
  handles = [h for ax in axes[0] for h in zip(*ax.get_legend_handles_labels())]
  if handles:
    axes[0][-1].legend(*zip(*handles), fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       borderaxespad=0.0)
  fig.suptitle(title)
  fig.tight_layout(rect=(0, 0, 1, 0.94))
  return save(fig, path)
