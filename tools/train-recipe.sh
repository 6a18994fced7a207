#!/usr/bin/env bash
# Trains a bundled model from its recipe (models/recipes/TASK.yml) on the clean photo corpus, resumably.
#
#   tools/train-recipe.sh RECIPE [SECONDS]     RECIPE: derain | deraindrop | deshadow | deblur, or a later phase of one
#                                              (derain-2, deshadow-nafnet: the task is the name before the first "-")
#
# 1. validation pairs: `synth` of the recipe's kind from DATA/clean/val (photos never trained on), seed 7, 48 pairs of
#    256 px; the run keeps best.safetensors by their PSNR under the recipe's val-protocol. Checkpoints are chosen on
#    these alone: never on Rain100L, Rain12 or real/ (evaluation only).
# 2. training: `train --config models/recipes/TASK.yml --clean DATA/clean/train` (degradations made on the fly), stopped
#    cleanly after SECONDS (default 3600); running the script again resumes the run.
# 3. scores of best.safetensors: the validation pairs, the clean clean/val photos through it (input = target: a model
#    whose worst clean photo scores below the task's floor, 35 dB for derain and 30 dB for the others, is not shipped)
#    and, for derain, Rain100L and Rain12 under `y` (reported, not used to choose).
# Environment: DATA (default ../shared/data beside the repository), RUNS (/tmp/runs), INIT (weights to start from),
#   EXTRA (more train flags).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${1:?usage: $0 derain|deraindrop|deshadow|deblur[-PHASE] [SECONDS]}"
task="${name%%-*}"   # the task is the name before its first "-": derain-2, deshadow-nafnet
seconds="${2:-3600}"
data="${DATA:-$root/../shared/data}"; runs="${RUNS:-/tmp/runs}"
recipe="$root/models/recipes/$name.yml"
[ -f "$recipe" ] || { echo "$recipe: no recipe named '$name'" >&2; exit 2; }
[ -d "$data/clean/train" ] || { echo "$data/clean/train: no clean photos (set DATA)" >&2; exit 2; }
kind=$(sed -n 's/^ *synth: *\([a-z-]*\).*/\1/p' "$recipe")
protocol=$(sed -n 's/^ *val-protocol: *\([a-z-]*\).*/\1/p' "$recipe")
case "$kind" in   # layout of the validation pairs synth writes
  shadow) format=istd ;; raindrop) format=raindrop ;; *) format=paired ;;
esac
read -r -a extra <<<"${EXTRA:-}"
kernels=()
if [ "$kind" = blur ] && [ -d "$data/kernels" ]; then extra+=(--synth-kernels "$data/kernels"); kernels=(--kernels "$data/kernels"); fi
mn="$root/memorynet"
val="$runs/val-$task"
[ -d "$val" ] || "$mn" synth --kind "$kind" --clean "$data/clean/val" --out "$val" --count 48 --size 256 --seed 7 "${kernels[@]}"
run="$runs/$name"
cmd=("$mn" train --config "$recipe" --clean "$data/clean/train" --val "$val" --val-layout "$format" --layout "$format"
  --out "$run" --max-seconds "$seconds" "${extra[@]}")
if [ -f "$run/state.json" ]; then "${cmd[@]}" --resume
else
  [ -n "${INIT:-}" ] && cmd+=(--init "$INIT")
  "${cmd[@]}"
fi
echo "== $task: best.safetensors on the validation pairs ($protocol)"
"$mn" eval --model "$run/best.safetensors" --data "$val" --layout "$format" --protocol "$protocol" --json "$run/eval-val.json" | tail -4
# a model must leave photos without the degradation alone: the clean clean/val photos as input and target
clean="$runs/clean-val"
if [ ! -d "$clean" ]; then
  photos="$(cd "$data/clean/val" && pwd)"
  mkdir -p "$clean" && ln -s "$photos" "$clean/input" && ln -s "$photos" "$clean/target"
fi
clean_protocol="$protocol"; case "$protocol" in istd*) clean_protocol=rgb ;; esac   # clean photos have no masks
echo "== $task: the clean clean/val photos through best.safetensors ($clean_protocol; the worst image matters)"
"$mn" eval --model "$run/best.safetensors" --data "$clean" --layout paired --protocol "$clean_protocol" \
  --json "$run/eval-clean.json"
floor=30; [ "$task" = derain ] && floor=35
worst=$(sed -n 's/.*"psnr": *\([0-9][0-9.]*\).*/\1/p' "$run/eval-clean.json" | sort -g | head -1)
clean_ok=$(awk -v w="$worst" -v f="$floor" 'BEGIN { print (w >= f) ? "yes" : "no" }')
echo "== $task: worst clean photo $worst dB, floor $floor dB: $([ "$clean_ok" = yes ] && echo passes || echo FAILS)"
if [ "$task" = derain ]; then
  for set in rain100l rain12; do
    echo "== derain: $set (y), reported only"
    "$mn" eval --model "$run/best.safetensors" --data "$data/$set" --layout paired --protocol y --json "$run/eval-$set.json" | tail -4
  done
fi
[ "$clean_ok" = yes ] || { echo "not shippable: a clean photo is damaged (see $run/eval-clean.json)"; exit 1; }
echo "ship it: $mn models import $run/best.safetensors --task $task -o $root/models/$task.safetensors (then update models/$task.md)"
