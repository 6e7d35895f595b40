#!/usr/bin/env bash
# Every trained policy with MCNN's output bound (RESULTS, equal-budget section): POLICY's kept
# recipe for TASK with DEMOS demonstrations (its tune.sh study's RECIPE file) with
# output_bound 1.0 added, written once as OUT/recipe_POLICY_bound1.json, under the tuned
# rows' protocol (tuned.sh with the checkpoint finalists), into OUT. Every trained policy
# gets the bound or none: BC's row is the fair comparison, MCNN has it built in.
# The benchmark collects OUT/TASK/demos.hdf5 unless it is there: copy the tuned rows' to
# skip that (the same seeds give the same demonstrations).
# NutAssemblySquare's BC: RECIPE=recipe_finalists_seeds3.json (the recipe its rows use).
# Usage: [DEMOS=50 SEEDS=0,1,2 RECIPE=recipe_finalists.json
#         OUT=docs/results/robosuite/bounded_<task>DEMOS]
#        bash docs/results/robosuite/bounded.sh TASK POLICY
set -euo pipefail
cd "$(dirname "$0")/../../.."
task=$1 policy=$2
DEMOS=${DEMOS:-50}
lower=$(echo "$task" | tr '[:upper:]' '[:lower:]')
OUT=${OUT:-docs/results/robosuite/bounded_${lower}${DEMOS}}
recipe=$OUT/recipe_${policy}_bound1.json
if [ ! -f "$recipe" ]; then
  mkdir -p "$OUT"
  .venv/bin/python - "docs/results/robosuite/tune/${task}_n${DEMOS}_${policy}/${RECIPE:-recipe_finalists.json}" \
      "$recipe" <<'PY'
import json, sys
kept, out = sys.argv[1:]
recipe = json.load(open(kept))
recipe['policy_config']['output_bound'] = 1.0
recipe['source']['note'] = f'{kept} with output_bound 1.0, the bound MCNN carries'
open(out, 'w').write(json.dumps(recipe, indent=2) + '\n')
PY
fi
export OMP_NUM_THREADS=1
${DARP:-.venv/bin/darp} benchmark --out "$OUT" --results "$OUT/README.md" --tasks "$task" \
  --demos "$DEMOS" --policies "$policy" --train-seeds "${SEEDS:-0,1,2}" --recipe "$recipe" \
  --keep closed_loop --select-scored 20 --select-episodes 10 --episodes 100 --workers 1 \
  --state-scale-floor 1.0 --select-finalists 5 --confirm-episodes 30
