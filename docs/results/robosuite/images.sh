#!/usr/bin/env bash
# The image rows of docs/RESULTS.md, on CPU: agentview + wrist camera at 84x84 plus
# proprioception (no object state), DEMOS scripted demonstrations of TASK. The ResNet-18
# trunk is either pretrained on those demonstrations (`darp pretrain-encoder`) or left at
# random initialisation (the floor); either way it is frozen. Each policy keeps its last
# epoch (closed-loop selection with rendering is too slow on 2 cores) and is reported on
# EPISODES episodes from seed 100000. Resumable: a cell whose JSON exists is skipped.
# VINN holds out a fifth of the episodes to choose its k, as in `darp benchmark` (its
# training seed picks the split); every other policy trains on all of them.
# Usage: [DEMOS=50 EPISODES=50 SEEDS="0 1 2" POLICIES="bc darp nn1" PRETRAIN_SEED=0]
#        bash images.sh TASK
# PRETRAIN_SEED pretrains another trunk (its own weights file), for results across trunks.
# POLICIES may also name vinn and mcnn.
# The Lift rows were made with EPOCHS=73 PRETRAIN_EPOCHS=10: pass them to reproduce those
# rows (the defaults below, sized from the data, would give 131 and 10 for its 1950 samples).
set -euo pipefail
cd "$(dirname "$0")/../../.."
DARP=${DARP:-.venv/bin/darp}
OUT=${OUT:-docs/results/robosuite/images}
WORK=${WORK:-/tmp/darp_images}
DEMOS=${DEMOS:-50}
EPISODES=${EPISODES:-50}
SEEDS=${SEEDS:-0 1 2}
POLICIES=${POLICIES:-bc darp nn1}
ENCODERS=${ENCODERS:-pretrained random}
export OMP_NUM_THREADS=1
task=$1
low_dim=robot0_eef_pos,robot0_eef_quat,robot0_gripper_qpos
images=agentview_image,robot0_eye_in_hand_image
mkdir -p "$OUT" "$WORK"

data=$WORK/${task}_${DEMOS}.hdf5
[ -f "$data" ] || $DARP -q collect --task "$task" --episodes "$DEMOS" --out "$data" \
  --cameras agentview,robot0_eye_in_hand --image-size 84 --no-progress
# Training lengths follow the data, so a task with longer demonstrations costs no more:
# pretraining sees about 19500 samples (Lift's 10 epochs of 1950), each policy about 4000
# batches of 64.
rows=$(.venv/bin/python -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r')
print(sum(d['actions'].shape[0] for d in f['data'].values()))" "$data")
pretrain=$(( (19500 + rows / 2) / rows )); (( pretrain >= 2 )) || pretrain=2
PRETRAIN_EPOCHS=${PRETRAIN_EPOCHS:-$pretrain}
EPOCHS=${EPOCHS:-$(( (4000 * 64 + rows / 2) / rows ))}
echo "$task: $rows samples, pretraining $PRETRAIN_EPOCHS epochs, training $EPOCHS"
PRETRAIN_SEED=${PRETRAIN_SEED:-0}
weights=$WORK/${task}_${DEMOS}_encoder.safetensors
(( PRETRAIN_SEED == 0 )) || weights=$WORK/${task}_${DEMOS}_encoder_seed${PRETRAIN_SEED}.safetensors
# Only the pretrained rows need the trunk (16 minutes for Stack): ENCODERS=random skips it.
if [[ " $ENCODERS " == *" pretrained "* && ! -f "$weights" ]]; then
  $DARP pretrain-encoder --dataset "$data" --image-keys "$images" \
    --low-dim-keys "$low_dim" --out "$weights" --epochs "$PRETRAIN_EPOCHS" --image-size 84 \
    --seed "$PRETRAIN_SEED" --device cpu --no-progress
fi

# Pretraining the trunk again (a session whose /tmp was emptied, another machine) need not
# give the same weights: it did not for Stack (RESULTS). Runs on two trunks must not share a
# row, and a run on one must not be skipped as done for another, so each result names its
# trunk by the first 8 hex digits of the weights file's sha256 (the bundle records it whole).
for encoder in $ENCODERS; do
  if [ "$encoder" = pretrained ]; then
    enc=(--encoder-weights "$weights")
    tag=pretrained-$(sha256sum "$weights" | cut -c1-8)
  else
    enc=(--random-encoder)
    tag=random
  fi
  for policy in $POLICIES; do
    for seed in $SEEDS; do
      json=$OUT/${task}_${DEMOS}_${tag}_${policy}_seed${seed}.json
      [ -f "$json" ] && { echo "skip $json"; continue; }
      bundle=$WORK/${task}_${DEMOS}_${tag}_${policy}_seed${seed}
      val=0; [ "$policy" = vinn ] && val=0.2
      $DARP -q train --policy "$policy" --dataset "$data" --obs-keys "$low_dim,$images" \
        --out "$bundle" --overwrite --seed "$seed" --device cpu --no-progress \
        --epochs "$EPOCHS" --batch-size 64 --val-fraction "$val" --keep last --image-size 84 "${enc[@]}"
      $DARP -q eval --model "$bundle" --episodes "$EPISODES" --seed 100000 --no-progress \
        --json "$json.part"
      mv "$json.part" "$json"
      cp "$bundle/bundle.json" "${json%.json}.bundle.json"
      # 1-NN has no training seed: its one run stands for all.
      [ "$policy" = nn1 ] && break
    done
  done
done
