"""The sweep report (report.html from aggregate.py): every run's honest state, the tables from the
same rows as the Markdown, hostile text shown as text; in headless Chromium (slow tier): sorting,
filtering, a run's card, the timing its script records, and a screenshot that is not blank."""
import html
import json
import os
import re
import shutil
import urllib.parse

import numpy as np
import pytest
from PIL import Image

from echo_suite import provenance
from echo_suite import rundir
from echo_suite.commands import aggregate
from echo_suite.figures import model_figures
from echo_suite.report import browser, runs as report_runs

from test_scripts import _fake_run, _study

HOSTILE_GIN = "dataset.note = '<script>document.documentElement.dataset.pwned = \"1\"</script>'"
HOSTILE_DIR = "run'\"><img src=x onerror=\"document.documentElement.dataset.pwned='2'\">"


def _figure(path, shade):
  """A small PNG standing for one of a run's figures."""
  path.parent.mkdir(parents=True, exist_ok=True)
  image = np.full((60, 90, 3), 255, np.uint8)
  image[10:50, 10:80] = shade
  Image.fromarray(image).save(path)


def _scored(root, dataset, model, beta, gamma, seed, fvae, mig, **kwargs):
  """A scored run with its identity and figures."""
  d = _fake_run(root, dataset, model, beta, gamma, seed, fvae, mig, **kwargs)
  (d / rundir.RUN_CONFIG).write_text(f"dataset.name = '{dataset}'\nmodel.name = '{model}'\n"
                                     f"model.beta = {beta}\nmodel.gamma = {gamma}\n"
                                     f"train.seed = {seed}\n")
  for k, name in enumerate(model_figures.RUN_FIGURES):
    _figure(d / rundir.FIGURES_DIR / name, 40 * k)
  return d


def sweep_of_every_state(root):
  """A runs folder holding a run in each state, and one with hostile text.

  Returns:
    {state or 'hostile': run directory}.
  """
  runs = {}
  for seed in (0, 1):
    for model, fvae, mig in (("echo", 0.70, 0.20), ("vae", 0.60, 0.10)):
      _scored(root, "dsprites", model, 1.0, 0.0, seed, fvae + 0.01 * seed, mig + 0.03 * seed)
      _scored(root, "ds_corr", model, 1.0, 0.0, seed, fvae - 0.1, mig - 0.05 * seed)
  runs["scored"] = root / rundir.run_name("dsprites", "echo", 1.0, 0.0, 0)
  stale = _scored(root, "dsprites", "echo", 2.0, 0.0, 0, 0.987654, 0.876543)
  results = json.loads((stale / "results.json").read_text())
  results["training"].update(step=10, weights="moved")  # trained on after it was scored
  (stale / "results.json").write_text(json.dumps(results))
  runs["stale"] = stale
  refused = _scored(root, "dsprites", "vae", 2.0, 0.0, 0, 0.5, 0.1)
  text = (refused / "results.json").read_text()
  (refused / "results.json").write_text(text.replace('"discrete_mig": 0.1',
                                                     '"discrete_mig": 0.765432'))
  runs["refused"] = refused
  not_scored = _scored(root, "ds_corr", "echo", 2.0, 0.0, 0, 0.5, 0.1)
  results = json.loads((not_scored / "results.json").read_text())
  del results["scores"]
  (not_scored / "results.json").write_text(json.dumps(results))
  runs["not scored"] = not_scored
  for state, steps in (("stopped", 300), ("training", 700)):
    d = root / rundir.run_name("ds_corr", "vae", 2.0, 0.0, {"stopped": 0, "training": 1}[state])
    d.mkdir(parents=True)
    (d / rundir.RUN_CONFIG).write_text("dataset.name = 'ds_corr'\nmodel.name = 'vae'\n"
                                       "model.beta = 2.0\nmodel.gamma = 0.0\ntrain.seed = 0\n")
    (d / rundir.HISTORY_FILE).write_text("".join(json.dumps({"step": s, "loss": 1.0}) + "\n"
                                                 for s in range(100, steps + 1, 100)))
    runs[state] = d
  hostile = _scored(root / "odd", "dsprites", "vae", 1.0, 0.0, 7, 0.55, 0.05)
  (hostile / rundir.RUN_CONFIG).write_text((hostile / rundir.RUN_CONFIG).read_text() +
                                           HOSTILE_GIN + "\n")
  runs["hostile"] = hostile.rename(hostile.parent / HOSTILE_DIR)
  return runs


def _report(tmp_path, monkeypatch, *extra):
  """The sweep of every state, aggregated (its training run held by this process's lock), named
  by a path relative to the working directory, as a user types it."""
  runs = sweep_of_every_state(tmp_path / "runs")
  monkeypatch.chdir(tmp_path)
  with rundir.RunLock(str(runs["training"])):
    assert aggregate.main(["runs", *extra]) == 0
  return runs, tmp_path / "runs" / aggregate.REPORT_FILE


def _rows(page):
  """The run table's rows: (attributes, [(sort value, text) per cell])."""
  body = page.split('<table id="runs">', 1)[1].split("</tbody>", 1)[0]
  out = []
  for attrs, cells in re.findall(r"<tr ([^>]*)>(.*?)</tr>", body.split("<tbody>", 1)[1]):
    values = dict(re.findall(r'data-([a-z]+)="([^"]*)"', attrs))
    values["hidden"] = " hidden" in f" {attrs}"
    out.append((values, re.findall(r'<td data-v="([^"]*)">(.*?)</td>', cells)))
  return out


def test_every_run_shows_its_state_and_only_current_scores(tmp_path, monkeypatch):
  runs, report = _report(tmp_path, monkeypatch)
  page = report.read_text(encoding="utf-8")
  rows = _rows(page)
  by_state = {}
  for values, cells in rows:
    by_state.setdefault(values["state"], []).append(cells)
  assert sorted(by_state) == sorted(report_runs.STATES)
  assert len(by_state["scored"]) == 9  # 8 runs and the hostile one, one code each
  for state in ("training", "stopped", "not scored", "stale", "refused"):
    (cells,) = by_state[state]  # one row: no code
    assert cells[9] == ("–", "–")
    assert [c for c in cells[10:]] == [("", f'<span class="state state-{state.replace(" ", "-")}">'
                                        f"{state}</span>")] * 2
  # A number that does not belong to its weights is never shown, anywhere on the page.
  for hidden in ("0.987654", "0.9877", "0.876543", "0.765432", "0.7654"):
    assert hidden not in page
  (training,) = [c for c in by_state["training"]]
  assert training[7] == ("700", "700")  # its history's step
  assert f"pid {os.getpid()}" in page
  assert "stopped at step 300 before finishing" in page
  assert "scores differ from the digest" in page and "scores are of step 5" in page
  # A scored run: its scores to 4 decimals, sortable at full precision, and its figures.
  scored = [c for v, c in rows if v["state"] == "scored" and c[4][0] == "1.0" and
            c[3][1] == "dsprites" and c[2][1] == "echo" and c[6][1] == "1"]
  assert scored == [[*scored[0][:10], ("0.71", "0.7100"), ("0.23", "0.2300")]]
  for name in model_figures.RUN_FIGURES:
    src = f'data-src="{runs["scored"].name}/figures/{name}"'  # loaded when its card opens
    assert src in page
    assert (report.parent / runs["scored"].name / "figures" / name).is_file()
  assert page.count("<img data-src=") == 9 * len(model_figures.RUN_FIGURES)


def test_hostile_text_is_shown_as_text(tmp_path, monkeypatch):
  runs, report = _report(tmp_path, monkeypatch)
  page = report.read_text(encoding="utf-8")
  assert page.count("<script>") == 1 and page.count("</script>") == 1  # the page's own
  assert "<img src=x" not in page and "onerror=\"document" not in page
  assert html.escape(HOSTILE_GIN) in page  # the setting, readable, in its card
  assert html.escape(f"odd/{HOSTILE_DIR}") in page
  assert "odd/run%27%22%3E%3Cimg%20src%3Dx%20onerror" in page  # its link, percent-encoded


def test_tables_are_the_markdown_rows_and_the_report_can_be_left_out(tmp_path, monkeypatch):
  runs, report = _report(tmp_path, monkeypatch)
  page = report.read_text(encoding="utf-8")
  markdown = (tmp_path / "runs" / "table2.md").read_text().splitlines()
  table_rows = [line for line in markdown if line.startswith("| beta=") or
                line.startswith("| 1: beta=1")]
  assert len(table_rows) == 2
  models = (tmp_path / "runs" / "models.md").read_text().splitlines()
  model_rows = [line for line in models if line.startswith(("| echo", "| vae"))]
  assert len(model_rows) == 2
  table_rows += model_rows
  for line in table_rows:
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>" in page
  for figure in aggregate.SWEEP_FIGURES:
    assert f'src="{figure}"' in page and (report.parent / figure).is_file()
  out = tmp_path / "again"
  shutil.copytree(tmp_path / "runs", out, ignore=shutil.ignore_patterns("*.png", "*.md", "*.csv",
                                                                        "report.html"))
  assert aggregate.main([str(out), "--no_report"]) == 0
  assert not (out / aggregate.REPORT_FILE).exists() and (out / "table2.md").exists()


def test_a_study_report_shows_its_claims_as_claims_md_words_them(tmp_path, capsys):
  from echo_suite.commands import table2_claims
  runs = _study(tmp_path)
  assert table2_claims.main([str(runs), "--out", str(tmp_path / "claims")]) == 0
  assert aggregate.main([str(runs), "--steps", "30000", "--out", str(tmp_path / "agg")]) == 0
  page = (tmp_path / "agg" / aggregate.REPORT_FILE).read_text(encoding="utf-8")
  claims_md = (tmp_path / "claims" / "claims.md").read_text()
  shown = 0
  for block in claims_md.split("### ")[1:]:
    title = block.splitlines()[0].replace("`", "")
    rows = [line for line in block.splitlines() if line.startswith("| ") and "---" not in line]
    if f"<h2>{html.escape(title)}</h2>" not in page:
      assert all("| – | – |" in r or "not run yet" in r for r in rows[1:]), title
      continue
    shown += 1
    for line in rows[1:]:
      cells = [c.strip() for c in line.strip("|").split("|")]
      assert "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>" in page
  assert shown >= 3  # (a) at 30,000 steps, (c) at 5,000 with either optimiser
  # Every run of the study, of every budget, is listed; Table 2 holds the 30,000-step runs.
  assert len({c[0][0] for _, c in _rows(page)}) == len(report_runs.find_run_dirs(str(runs)))
  assert "Table 2 (30,000 steps per run)" in page


def test_a_runs_folder_lists_its_runs_and_nothing_else(tmp_path):
  runs = sweep_of_every_state(tmp_path / "runs")
  (tmp_path / "runs" / "logs").mkdir()
  (tmp_path / "runs" / "logs" / "x.log").write_text("a log, not a run")
  found = report_runs.find_run_dirs(str(tmp_path / "runs"))
  assert len(found) == 14 and set(map(str, runs.values())) <= set(found)
  views = {v.name: v for v in report_runs.read_runs(str(tmp_path / "runs"))}
  assert views[runs["stale"].name].scores == {} and views[runs["refused"].name].figures == ()
  assert views[runs["scored"].name].weights == "w"
  assert provenance.departures(["model.beta = 2.0", "train.steps = 5"],
                               {"model.beta": 1.0, "train.steps": 300000}) == [
                                   "model.beta = 2.0", "train.steps = 5"]


# ---------------------------------------------------------------------------------------------
# In a real browser: Debian's Chromium, headless (`make browser` installs it).

@pytest.fixture(scope="module")
def browser_report(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("browser")
  runs = sweep_of_every_state(tmp / "runs")
  with rundir.RunLock(str(runs["training"])):
    assert aggregate.main([str(tmp / "runs")]) == 0
  return runs, tmp / "runs" / aggregate.REPORT_FILE


def _visible(dom):
  return [(v, c) for v, c in _rows(dom) if not v["hidden"]]


@pytest.mark.slow
def test_in_chromium_a_score_sorts_and_filters_narrow_the_rows(browser_report):
  _, report = browser_report
  dom = browser.dump_dom(report, "sort=mig&dir=desc")
  assert browser.ready_ms(dom) is not None  # the script ran to its end
  rows = _rows(dom)
  assert len(rows) == 14 and not any(v["hidden"] for v, _ in rows)
  mig = [c[11][0] for _, c in rows]
  numbers = [float(x) for x in mig if x]
  assert numbers == sorted(numbers, reverse=True) and len(numbers) == 9
  assert all(x == "" for x in mig[len(numbers):])  # runs without a score: last
  assert 'aria-sort="descending"' in dom and "14 of 14 rows shown" in dom
  ascending = [float(c[11][0]) for _, c in _rows(browser.dump_dom(report, "sort=mig&dir=asc"))
               if c[11][0]]
  assert ascending == sorted(numbers)
  dom = browser.dump_dom(report, "model=vae&dataset=ds_corr")
  shown = _visible(dom)
  assert {(v["model"], v["dataset"]) for v, _ in shown} == {("vae", "ds_corr")}
  assert len(shown) == 4 and "4 of 14 rows shown" in dom  # 2 seeds, stopped, training
  dom = browser.dump_dom(report, "beta=2")  # as typed, not 2.0
  assert {v["beta"] for v, _ in _visible(dom)} == {"2"} and "5 of 14 rows shown" in dom
  dom = browser.dump_dom(report, "state=stale")
  (stale,) = _visible(dom)
  assert stale[1][0][0] == rundir.run_name("dsprites", "echo", 2.0, 0.0, 0)


@pytest.mark.slow
def test_in_chromium_a_card_opens_and_hostile_text_stays_text(browser_report):
  runs, report = browser_report
  page = report.read_text(encoding="utf-8")
  names = re.findall(r'<details class="card" id="card-(\d+)"><summary>([^<]*)</summary>', page)
  (card,) = [k for k, summary in names if html.unescape(summary).startswith("odd/run'")]
  dom = browser.dump_dom(report, f"card-{card}")
  opened = re.findall(r'<details class="card" id="card-(\d+)" open="">', dom)
  assert opened == [card]
  opened_card = dom.split(f'id="card-{card}"', 1)[1].split("</details>", 1)[0]
  figures = re.findall(r'<img [^>]*\bsrc="([^"]+)"', opened_card)  # loaded as it opened
  assert len(figures) == len(model_figures.RUN_FIGURES) and "data-src" not in opened_card
  for src in figures:  # the percent-encoded link reaches the file
    assert (report.parent / urllib.parse.unquote(html.unescape(src))).is_file()
  assert dom.count("<img data-src=") == 8 * len(model_figures.RUN_FIGURES)  # the closed cards
  assert "data-pwned" not in dom.split(">", 2)[1]  # <html>: no injected script or handler ran
  assert "data-pwned" not in dom.split("<body", 1)[0]
  assert html.escape(HOSTILE_GIN, quote=False) in dom
  assert dom.count("<script>") == 1
  assert "<img src=\"x\"" not in dom


@pytest.mark.slow
def test_in_chromium_the_report_renders_something_to_read(browser_report, tmp_path):
  _, report = browser_report
  png = browser.screenshot(report, tmp_path / "report.png", width=1200, height=1600)
  grey = np.asarray(Image.open(png).convert("L"), np.float32)
  assert grey.shape == (1600, 1200)
  dark = (grey < 128).mean()
  assert 0.005 < dark < 0.5, dark  # text and figures, neither blank nor a black page
  assert grey.std() > 20


def test_a_sweep_with_no_scores_yet_gets_its_page_and_nothing_else(tmp_path, capsys):
  every = sweep_of_every_state(tmp_path / "all")
  runs = tmp_path / "runs"
  for state in ("training", "stopped", "stale"):
    shutil.copytree(every[state], runs / every[state].name)
  with rundir.RunLock(str(runs / every["training"].name)):
    assert aggregate.main([str(runs)]) == 0
  assert sorted(os.listdir(runs)) == sorted([aggregate.REPORT_FILE, *(every[s].name for s in (
      "training", "stopped", "stale"))])  # no table, no figure of no runs
  assert "no runs with current scores" in capsys.readouterr().out
  page = (runs / aggregate.REPORT_FILE).read_text(encoding="utf-8")
  assert sorted(v["state"] for v, _ in _rows(page)) == ["stale", "stopped", "training"]
  assert "Table 2" not in page
  with pytest.raises(SystemExit) as e:
    aggregate.main([str(runs), "--no_report"])
  assert e.value.code == 2
  assert "error: no runs with current scores" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["gin", "bytes", "step", "device", "model", "settings", "score",
                                  "seed"])
def test_a_file_not_as_the_suite_writes_it_is_refused_with_its_reason(tmp_path, capsys, case):
  runs = tmp_path / "runs"
  good = _scored(runs, "dsprites", "echo", 1.0, 0.0, 0, 0.7, 0.2)
  bad = _scored(runs, "dsprites", "vae", 1.0, 0.0, 0, 0.6, 0.1)
  results = json.loads((bad / "results.json").read_text())
  if case == "gin":
    (bad / rundir.RUN_CONFIG).write_text("model.name = 'vae\n")
  elif case == "bytes":
    (bad / rundir.RUN_CONFIG).write_bytes(b"\xff\xfe<!-- </script>")
  else:
    edit = {"step": lambda r: r["training"].update(step="abc"),
            "device": lambda r: r["training"].update(device="a laptop"),
            "model": lambda r: r.update(model=["vae"]),
            "settings": lambda r: r["scores"].update(settings="x"),
            "score": lambda r: r["scores"]["metrics"]["mean"]["mig"].update(discrete_mig=1e400),
            "seed": lambda r: r.update(seed=float("inf"))}[case]
    edit(results)
    if "scores" in results:  # sealed again: only its form is wrong
      results["scores"] = provenance.seal({k: v for k, v in results["scores"].items()
                                           if k != provenance.DIGEST_KEY})
    (bad / "results.json").write_text(json.dumps(results))
  assert aggregate.main([str(runs)]) == 0
  out = capsys.readouterr().out
  views = {v.name: v for v in report_runs.read_runs(str(runs))}
  assert views[good.name].state == "scored"
  assert views[bad.name].state == "refused" and views[bad.name].scores == {}
  page = (runs / aggregate.REPORT_FILE).read_text(encoding="utf-8")
  assert "(n=2)" not in page  # the table holds the good run alone
  assert f"skipped {bad}" in out


def test_links_and_runs_in_use_are_counted_once_and_never_twice(tmp_path, capsys):
  runs = tmp_path / "runs"
  for seed in (0, 1):
    _scored(runs, "dsprites", "echo", 1.0, 0.0, seed, 0.7, 0.2)
  outside = _scored(tmp_path / "elsewhere", "dsprites", "echo", 1.0, 0.0, 5, 0.1, 0.9)
  os.symlink(outside, runs / "linked_run")
  os.symlink(runs, runs / "loop")  # a link loop ends
  os.symlink(".", runs / "loop2")
  loaded, _ = aggregate.load_runs(str(runs))
  assert sorted(r["seed"] for r in loaded) == [0, 1]
  assert len(report_runs.find_run_dirs(str(runs))) == 2
  with rundir.RunLock(str(runs / rundir.run_name("dsprites", "echo", 1.0, 0.0, 1))):
    loaded, skipped = aggregate.load_runs(str(runs))  # trained on further: not in a table
  assert [r["seed"] for r in loaded] == [0] and "in use by a process" in skipped[0][1]
