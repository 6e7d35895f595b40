#!/usr/bin/env bash
# Does MCNN's output bound lift DARP as it lifted BC (RESULTS, clip probe)? POLICY's kept
# Stack/50 recipe with output_bound 1.0 (recipe_POLICY_bound1.json here), under the tuned
# rows' protocol (tuned.sh with the checkpoint finalists), into bounded_stack50/. Every
# trained policy gets the bound or none: BC's row is the fair comparison, MCNN has it built in.
# Usage: [SEEDS=0,1,2] bash docs/results/robosuite/bounded.sh POLICY
set -euo pipefail
cd "$(dirname "$0")/../../.."
P=docs/results/robosuite/bounded_stack50
export OMP_NUM_THREADS=1
${DARP:-.venv/bin/darp} benchmark --out $P --results $P/README.md --tasks Stack --demos 50 \
  --policies "$1" --train-seeds "${SEEDS:-0,1,2}" --recipe "$P/recipe_$1_bound1.json" \
  --keep closed_loop --select-scored 20 --select-episodes 10 --episodes 100 --workers 1 \
  --state-scale-floor 1.0 --select-finalists 5 --confirm-episodes 30
