#!/usr/bin/env bash
# Equal-budget `darp tune` studies for the robosuite low-dim cells: TRIALS trials per policy
# on the first DEMOS scripted demonstrations of TASK (the same demonstrations `darp
# benchmark` trains on: `darp collect` with its default seed, noise and style), the z-scoring
# floor of the scale_floor table, and inside every trial the benchmark's closed-loop
# selection (about 20 scored checkpoints on the tuning episodes 50000..50009). Each trial is
# then scored on SCORE_EPISODES further tuning episodes (50010 on), which picked no
# checkpoint: scored on the selection's own ten, a trial's score is the best of ~20 noisy
# success rates and the study would chase luck. Never on the reporting seeds. DARP's space gets the learning rate too (`--search-lr`), as
# BC's and MCNN's have it: on Walker2d a DARP search without it lost to BC's for that reason.
# Each study writes its best trial to recipe.json, for `darp benchmark --recipe`. With
# FINALISTS=N the best N trials of the budget are trained again and scored on CONFIRM_EPISODES
# fresh tuning episodes (after the score's), and the best of them is written to
# recipe_finalists.json (recipe_finalists_seedsM.json, below) instead: a study's best score
# is the maximum of many noisy ones and overstates; the fresh episodes did not pick the
# finalists. Give every policy the same N.
# CONFIRM_SEEDS=M trains each finalist with training seeds 0..M-1 and keeps the best mean:
# a recipe kept on seed 0's model alone wins partly on that seed's draw (a study confirmed
# on one seed keeps those scores and trains only the other seeds).
# DEFAULTS=1 adds each policy's defaults as one more trial, outside the TRIALS budget, a
# candidate for the recipe and the finalists: 20 draws need not come near them.
# STOP_AFTER=MINUTES (whole minutes from this script's start, across its policies): start
# no trial or finalist that, at its study's pace, would end later (`darp tune
# --stop-after`); for sittings that end at a set time: a worker killed mid-trial loses its
# time (the trial's parameters run again first when a worker next starts).
# 1-NN has nothing to tune. Resumable: run it again and a study continues where it stopped;
# run it twice, a few seconds apart, and the two processes share each study's trials.
# Usage: [DEMOS=10 TRIALS=20 MAX_EPOCHS=300 SCORE_EPISODES=20 FINALISTS=0 CONFIRM_EPISODES=50
#         CONFIRM_SEEDS=1 DEFAULTS=0 STOP_AFTER=]
#        bash docs/results/robosuite/tune.sh TASK POLICY...
set -euo pipefail
cd "$(dirname "$0")/../../.."
DARP=${DARP:-.venv/bin/darp}
DEMOS=${DEMOS:-10}
TRIALS=${TRIALS:-20}
MAX_EPOCHS=${MAX_EPOCHS:-300}
SCORE_EPISODES=${SCORE_EPISODES:-20}
FINALISTS=${FINALISTS:-0}
CONFIRM_EPISODES=${CONFIRM_EPISODES:-50}
CONFIRM_SEEDS=${CONFIRM_SEEDS:-1}
DEFAULTS=${DEFAULTS:-0}
STOP_AFTER=${STOP_AFTER:-}
started=$(date +%s)
WORK=${WORK:-/tmp/darp_robosuite_tune}
OUT=${OUT:-docs/results/robosuite/tune}
export OMP_NUM_THREADS=1
task=$1; shift
mkdir -p "$WORK" "$OUT"

data=$WORK/${task}_${DEMOS}.hdf5
[ -f "$data" ] || $DARP -q collect --task "$task" --episodes "$DEMOS" --out "$data" --no-progress
# A trial scores about 20 checkpoints at most, as the benchmark's selection does.
every=$(( MAX_EPOCHS / 20 > 0 ? MAX_EPOCHS / 20 : 1 ))

for policy in "$@"; do
  case $policy in
    darp) extra=(--search-lr) ;;
    bc|mcnn|vinn) extra=() ;;
    *) echo "nothing to tune for $policy" >&2; exit 2 ;;
  esac
  if [ "$policy" != vinn ]; then
    extra+=(--train-set batch_size=64 --train-set keep=closed_loop --train-set "select_every=$every")
  fi
  study=$OUT/${task}_n${DEMOS}_${policy}
  [ "$DEFAULTS" = 1 ] && extra+=(--defaults-trial)
  if [ "$FINALISTS" -gt 0 ]; then
    recipe=recipe_finalists.json
    [ "$CONFIRM_SEEDS" -gt 1 ] && recipe=recipe_finalists_seeds$CONFIRM_SEEDS.json
    extra+=(--finalists "$FINALISTS" --confirm-episodes "$CONFIRM_EPISODES"
            --confirm-train-seeds "$CONFIRM_SEEDS" --recipe "$study/$recipe")
  fi
  if [ -n "$STOP_AFTER" ]; then
    left=$(( STOP_AFTER * 60 - ($(date +%s) - started) ))      # seconds
    extra+=(--stop-after "$(awk -v s="$left" 'BEGIN { print (s > 0 ? s : 0) / 60 }')")
  fi
  $DARP tune --policy "$policy" --study "$study" --dataset "$data" \
    --obs-keys robot0_eef_pos,robot0_eef_quat,robot0_gripper_qpos,object \
    --trials "$TRIALS" --max-epochs "$MAX_EPOCHS" --score-episodes "$SCORE_EPISODES" \
    --train-set state_scale_floor=1.0 \
    "${extra[@]}" --no-progress
done
