#!/usr/bin/env bash
# The Table 2 study (docs/table2_study/): Echo against beta-VAE at 30,000 steps (the paper's row 1)
# and the paper's claims (b) larger beta hurts on ds_corr and (c) the FactorVAE discriminator raises
# MIG on dSprites, at 5,000 steps; paper.gin (public f, disentanglement_lib's networks, batch 64).
#
#   scripts/table2_study.sh RUNS_DIR [train|score|all|status] [PHASE ...]   (default all, every phase)
#
# PHASE names limit the study to those phases (names below; in the study's order whatever order
# they are given in), e.g. to finish the round-2 cells before round 1's: an unknown name is an
# `error:` line before any work.
# Resumable: every sweep skips finished runs and resumes the others from their checkpoint
# (train.checkpoint_every = 1000). Stop it with SIGTERM to its process group (setsid ... ; kill --
# -PGID): the trainers checkpoint at a step boundary. Rerun the same command to continue. Phases
# run in the order below (seed-major inside each); 'train' only trains, 'score' only scores (mean
# and sampled codes on the full dSprites, the paper's metric settings); 'status' prints where each
# run stands (done = trained and scored; trained; at step N; not started), then which phases
# (cells) are complete, and changes nothing.
# PYTHON selects the interpreter (default: this checkout's .venv); it must import echo_suite from
# this checkout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:?usage: scripts/table2_study.sh RUNS_DIR [train|score|all|status] [PHASE ...]}
stage=${2:-all}
shift $(( $# < 2 ? $# : 2 ))
chosen=("$@")
case "$stage" in train|score|all|status) ;; *)
  echo "error: stage '$stage' is not one of train, score, all, status" >&2; exit 2 ;;
esac
PY=${PYTHON:-$root/.venv/bin/python}
# The study runs this checkout's code: its Python must import echo_suite from here (a frozen
# worktree gets its own environment: make -C WORKTREE install), not from the clone it came from.
pkg=$("$PY" -c 'import echo_suite, os; print(os.path.realpath(echo_suite.ROOT))' 2>/dev/null) || pkg=""
if [ "$pkg" != "$(realpath "$root")" ]; then
  echo "error: $PY imports echo_suite from '${pkg:-nowhere}', not from this checkout $root;" \
       "run 'make -C $root install' and use its .venv (the default), or set PYTHON" >&2
  exit 2
fi
common=(--gin_file "$root/gin_configs/paper.gin" --gin_param "train.checkpoint_every = 1000")

# name, sweep arguments: one phase per line (the study's order). Round 2 first: claim (c) with the
# public code's discriminator optimiser (Adam beta2 left at its default, 0.999; paper.gin has
# disentanglement_lib's 0.9), at 5,000 steps in its own runs directory (cheap; the 0.9 cell keeps
# its own) and at 30,000 steps with its gamma-0 baseline (row 1); then n = 4 a side for row 1,
# claim (c) seed 2 and claim (b) at 30,000 steps; last the round-1 5,000-step cells (beta2 0.9).
adam=model.disc_beta_2=0.999
phases=(
  "claim_c_5k_adam|--runs_dir $runs/steps5000_adam0999 --datasets dsprites --models echo vae --grid product --betas 1 --gammas 0 20 --seeds 0-1 --steps 5000 --gin_param $adam"
  "claim_c_30k_echo|--runs_dir $runs/steps30000 --datasets dsprites --models echo --grid product --betas 1 --gammas 5 20 --seeds 0-1 --steps 30000 --gin_param $adam"
  "claim_c_30k_vae|--runs_dir $runs/steps30000 --datasets dsprites --models vae --grid product --betas 1 --gammas 20 --seeds 0-1 --steps 30000 --gin_param $adam"
  "row1_dsprites|--runs_dir $runs/steps30000 --datasets dsprites --models echo vae --betas 1 --seeds 0-1 --steps 30000"
  "row1_ds_corr|--runs_dir $runs/steps30000 --datasets ds_corr --models echo vae --betas 1 --seeds 0-1 --steps 30000"
  "row1_seeds2_3|--runs_dir $runs/steps30000 --datasets dsprites ds_corr --models echo vae --betas 1 --seeds 2-3 --steps 30000"
  "claim_c_30k_seed2_echo|--runs_dir $runs/steps30000 --datasets dsprites --models echo --grid product --betas 1 --gammas 5 20 --seeds 2 --steps 30000 --gin_param $adam"
  "claim_c_30k_seed2_vae|--runs_dir $runs/steps30000 --datasets dsprites --models vae --grid product --betas 1 --gammas 20 --seeds 2 --steps 30000 --gin_param $adam"
  "claim_b_30k|--runs_dir $runs/steps30000 --datasets ds_corr --models echo vae --grid product --betas 4 --gammas 0 --seeds 0-2 --steps 30000"
  "claim_c_dsprites|--runs_dir $runs/steps5000 --datasets dsprites --models echo vae --betas 1 --gammas 0 20 --seeds 0-2 --steps 5000"
  "claim_b_ds_corr|--runs_dir $runs/steps5000 --datasets ds_corr --models echo vae --betas 1 4 --seeds 0-1 --steps 5000"
)

names=()
for phase in "${phases[@]}"; do names+=("${phase%%|*}"); done
for name in "${chosen[@]}"; do
  if [[ " ${names[*]} " != *" $name "* ]]; then
    echo "error: phase '$name' is not one of ${names[*]}" >&2; exit 2
  fi
done
if [ ${#chosen[@]} -gt 0 ]; then
  kept=()
  for phase in "${phases[@]}"; do
    [[ " ${chosen[*]} " == *" ${phase%%|*} "* ]] && kept+=("$phase")
  done
  phases=("${kept[@]}")
fi

sweep() {
  local name=${1%%|*} rest=${1#*|}
  shift
  echo "== $(date -u +%FT%TZ) $name: $rest $*"
  # shellcheck disable=SC2086  # the phase's arguments are words without spaces
  "$PY" "$root/scripts/sweep.py" "${common[@]}" $rest "$@"
}

# Each phase trains, then scores its runs with mean and sampled codes in one pass over one code
# table (the paper's metric settings), so a partial study has scores of its first cells.
scored=(--gin_param "evaluation.representation = ['mean', 'sample']")
cells=()  # status: one line per phase (a claim's cell group), complete or how far
failed=()
for phase in "${phases[@]}"; do
  if [ "$stage" = status ]; then
    out=$(sweep "$phase" "${scored[@]}" --status)
    echo "$out"
    if [[ $out =~ ([0-9]+)\ runs?,\ ([0-9]+)\ done ]]; then
      total=${BASH_REMATCH[1]} finished=${BASH_REMATCH[2]}
      if [ "$finished" = "$total" ]; then word=complete; else word="$finished of $total runs done"; fi
    else
      word="status unreadable"
    fi
    cells+=("${phase%%|*}: $word")
    continue
  fi
  # A run that fails (its log says why) does not stop the study: the next phases still run, and
  # the study ends with the failed phases named and a non-zero status.
  if [ "$stage" != score ]; then sweep "$phase" --no_eval || failed+=("${phase%%|*} (train)"); fi
  if [ "$stage" != train ]; then
    sweep "$phase" "${scored[@]}" || failed+=("${phase%%|*} (score)")
  fi
done
if [ "$stage" = status ]; then
  echo "== cells (done = trained and scored, both codes)"
  printf '%s\n' "${cells[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "== phases with a failed run (each run's log is in RUNS_DIR/.../logs/):" >&2
  printf '%s\n' "${failed[@]}" >&2
  exit 1
fi
