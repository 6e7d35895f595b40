#!/usr/bin/env bash
# The equal-budget rows of docs/RESULTS.md: every trained policy of TASK with the recipe its
# tune.sh study chose (docs/results/robosuite/tune/TASK_nDEMOS_POLICY/recipe.json), 1-NN as
# it is, all under the benchmark's protocol: the z-scoring floor, closed-loop selection of 20
# checkpoints on tuning episodes 50000..50009, SEEDS training seeds, 100 reporting episodes
# from seed 100000, nominal and placement x1.5. Resumable (`darp benchmark` skips finished
# cells). For two cores, run it twice with different POLICY lists, the second once the first
# has collected the demonstrations (OUT/TASK/demos.hdf5).
# A study's recipe.json is the best of its first TRIALS trials: to compare studies that ran
# to different lengths at one budget, first run `TRIALS=N bash tune.sh TASK POLICY...`,
# which runs nothing more and rewrites each recipe from the first N trials.
# RECIPE names the recipe file of each study (recipe_finalists.json for tune.sh's FINALISTS
# stage); give each RECIPE its own OUT, since finished cells are skipped whatever the recipe.
# EXTRA passes further flags to `darp benchmark`, e.g. EXTRA="--select-finalists 5
# --confirm-episodes 30" to confirm the five best checkpoints on 30 more tuning episodes.
# Usage: [DEMOS=10 SEEDS=0,1,2 RECIPE=recipe.json OUT=... EXTRA=...] bash docs/results/robosuite/tuned.sh TASK [POLICY...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
DARP=${DARP:-.venv/bin/darp}
DEMOS=${DEMOS:-10}
SEEDS=${SEEDS:-0,1,2}
STUDIES=${STUDIES:-docs/results/robosuite/tune}
OUT=${OUT:-docs/results/robosuite/tuned}
RECIPE=${RECIPE:-recipe.json}
read -r -a extra <<< "${EXTRA:-}"
export OMP_NUM_THREADS=1
task=$1; shift
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(bc darp mcnn vinn nn1)

recipes=()
for policy in "${policies[@]}"; do
  [ "$policy" = nn1 ] && continue
  recipe=$STUDIES/${task}_n${DEMOS}_${policy}/$RECIPE
  if [ ! -f "$recipe" ]; then
    echo "no recipe for $policy: run tune.sh $task $policy first ($recipe)" >&2
    exit 2
  fi
  recipes+=(--recipe "$recipe")
done

$DARP benchmark --out "$OUT" --results "$OUT/README.md" --tasks "$task" --demos "$DEMOS" \
  --policies "$(IFS=,; echo "${policies[*]}")" --train-seeds "$SEEDS" "${recipes[@]}" \
  --keep closed_loop --select-scored 20 --select-episodes 10 --episodes 100 --workers 1 \
  --state-scale-floor 1.0 ${extra[@]+"${extra[@]}"}
