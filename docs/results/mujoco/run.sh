#!/usr/bin/env bash
# The MuJoCo table of docs/RESULTS.md: train each policy on the DARP authors' expert data
# with their recipe, keep the checkpoint that scored best on tuning seeds 50000..50009
# (every policy gets about the same number of scored checkpoints: 24, or SCORED),
# then report 100 episodes on the held-out seeds 100000..100099. Resumable: a cell whose
# JSON exists is skipped. OUT: where the JSON files go. FINALISTS=N: score the N best
# checkpoints again on CONFIRM (default 30) fresh tuning episodes and keep the best of those.
# RECIPE=file.json: train from that recipe (a `darp tune` study's best trial) instead of the
# authors' recipe below, with its epochs scored every epochs/24 (or /SCORED) epochs.
# Usage: [SCORED=50 FINALISTS=5 OUT=dir RECIPE=file] bash docs/results/mujoco/run.sh TASK POLICY SEED...
set -euo pipefail
cd "$(dirname "$0")/../../.."
DARP=${DARP:-.venv/bin/darp}
DATA=${DATA:-../shared/data/mujoco_experts}
OUT=${OUT:-docs/results/mujoco}
SCORED=${SCORED:-}
FINALISTS=${FINALISTS:-}
CONFIRM=${CONFIRM:-30}
BUNDLES=${BUNDLES:-/tmp/darp_mujoco_bundles}
export OMP_NUM_THREADS=1
RECIPE=${RECIPE:-}
task=$1; policy=$2; shift 2

case "$task/$policy" in
  hopper/bc) args=(--epochs 120 --lr 1e-3 --weight-decay 1e-5 --set 'hidden=[128,128,128]' --select-every 5) ;;
  hopper/darp) args=(--epochs 237 --lr 1e-3 --weight-decay 1e-5 --set 'hidden=[128,128,128]' --k 246 --set history_len=13 --set history_decay=-0.736 --set history_keep_ratio=0.593 --select-every 10) ;;
  hopper/mcnn) args=(--epochs 120 --lr 1e-3 --weight-decay 1e-5 --set 'hidden=[128,128,128]' --select-every 5) ;;
  walker2d/bc) args=(--epochs 190 --lr 1e-2 --weight-decay 1e-6 --set 'hidden=[256,256,256]' --select-every 8) ;;
  walker2d/darp) args=(--epochs 100 --lr 1e-2 --weight-decay 1e-6 --set 'hidden=[256,256,256]' --k 474 --set history_len=48 --set history_decay=-0.0667 --set history_keep_ratio=0.118 --select-every 4) ;;
  walker2d/mcnn) args=(--epochs 190 --lr 1e-2 --weight-decay 1e-6 --set 'hidden=[256,256,256]' --select-every 8) ;;
  halfcheetah/bc) args=(--epochs 55 --lr 1e-2 --weight-decay 1e-6 --set 'hidden=[256,256,256]' --select-every 2) ;;
  halfcheetah/mcnn) args=(--epochs 55 --lr 1e-2 --weight-decay 1e-6 --set 'hidden=[256,256,256]' --select-every 2) ;;
  halfcheetah/darp) args=(--epochs 35 --lr 1e-2 --weight-decay 1e-6 --set 'hidden=[256,256,256]' --k 368 --set history_len=26 --set history_decay=-3.0 --set history_keep_ratio=0.65 --select-every 2) ;;
  */vinn|*/nn1) args=() ;;
  *) echo "no recipe for $task/$policy" >&2; exit 2 ;;
esac
if [ -n "$RECIPE" ]; then
  args=(--recipe "$RECIPE")
  epochs=$(.venv/bin/python -c "import json, sys
print(json.load(open(sys.argv[1]))['train'].get('epochs', ''))" "$RECIPE")
  # VINN and 1-NN recipes have no epochs: nothing to score.
  [ -n "$epochs" ] && args+=(--epochs "$epochs" --select-every $(( epochs / 24 > 0 ? epochs / 24 : 1 )))
fi

# The recipes above score every epochs/24 epochs; SCORED rescales that to about SCORED.
for i in "${!args[@]}"; do
  if [ -n "$SCORED" ] && [ "${args[$i]}" = --select-every ]; then
    epochs=$(printf '%s\n' "${args[@]}" | grep -A1 -x -- --epochs | tail -1)
    every=$(( epochs / SCORED )); [ "$every" -lt 1 ] && every=1
    args[$((i + 1))]=$every
  fi
done
mkdir -p "$OUT"

for seed in "$@"; do
  json=$OUT/${task}_${policy}_seed${seed}.json
  [ -f "$json" ] && { echo "skip $json"; continue; }
  bundle=$BUNDLES/${task}_${policy}_seed${seed}
  if [ "$policy" = vinn ] || [ "$policy" = nn1 ]; then
    train=(--val-fraction 0)
  else
    # The authors trained on 2 GPUs with 32 per GPU: batches of 64, 16 steps per epoch.
    train=(--batch-size 64 --val-fraction 0 --keep closed_loop --select-episodes 10)
    [ -n "$FINALISTS" ] && train+=(--select-finalists "$FINALISTS" --confirm-episodes "$CONFIRM")
  fi
  $DARP -q train --policy "$policy" --dataset "$DATA/$task.hdf5" --obs-keys obs \
    --out "$bundle" --overwrite --seed "$seed" --device cpu --no-progress \
    "${train[@]}" "${args[@]}"
  $DARP -q eval --model "$bundle" --episodes 100 --seed 100000 --no-progress \
    --json "$json.part"
  mv "$json.part" "$json"
  cp "$bundle/bundle.json" "$OUT/${task}_${policy}_seed${seed}.bundle.json"
done
