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
# 3. the choice: three candidates (best.safetensors by the validation crops, the last weights, the mean of the last
#    half of the kept checkpoints) scored on the whole validation pairs and on the clean clean/val photos through them
#    (input = target). The chosen one has the best validation score among those whose worst clean photo stays at or
#    above the task's floor (35 dB for derain, 30 dB for the others); for derain it is then scored on Rain100L and
#    Rain12 under `y` (reported, not used to choose). Exit 1 when no candidate passes the floor.
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
# a model must leave photos without the degradation alone: the clean clean/val photos as input and target
clean="$runs/clean-val"
if [ ! -d "$clean" ]; then
  photos="$(cd "$data/clean/val" && pwd)"
  mkdir -p "$clean" && ln -s "$photos" "$clean/input" && ln -s "$photos" "$clean/target"
fi
clean_protocol="$protocol"; case "$protocol" in istd*) clean_protocol=rgb ;; esac   # clean photos have no masks
floor=30; [ "$task" = derain ] && floor=35

# The candidates the shipping rule compares: the best checkpoint by the validation crops, the last weights, and the
# mean of the last half of the kept checkpoints (steadier than any one of them when a run ends noisy).
candidates=("$run/best.safetensors" "$run/latest.safetensors")
mapfile -t kept < <(ls "$run/steps"/step-*.safetensors 2>/dev/null | sort)
if [ "${#kept[@]}" -ge 2 ]; then
  half=("${kept[@]:$(( ${#kept[@]} / 2 ))}")
  [ "${#half[@]}" -ge 2 ] || half=("${kept[@]: -2}")
  "$mn" models average "${half[@]}" -o "$run/mean-last.safetensors" >/dev/null
  candidates+=("$run/mean-last.safetensors")
fi
chosen=""; chosen_psnr=""
for model in "${candidates[@]}"; do
  id="$(basename "$model" .safetensors)"
  "$mn" eval --model "$model" --data "$val" --layout "$format" --protocol "$protocol" --json "$run/eval-val.$id.json" >/dev/null
  "$mn" eval --model "$model" --data "$clean" --layout paired --protocol "$clean_protocol" \
    --json "$run/eval-clean.$id.json" >/dev/null
  psnr=$(sed -n 's/^  "psnr": *\([0-9][0-9.]*\).*/\1/p' "$run/eval-val.$id.json")
  # every "psnr" in the file: the mean and each photo's; the least is the worst photo
  worst=$(sed -n 's/.*"psnr": *\([0-9][0-9.]*\).*/\1/p' "$run/eval-clean.$id.json" | sort -g | head -1)
  ok=$(awk -v w="$worst" -v f="$floor" 'BEGIN { print (w >= f) ? "yes" : "no" }')
  printf '== %s: %-16s validation %.3f dB (%s, whole pairs); worst clean photo %.2f dB, floor %s: %s\n' \
    "$task" "$id" "$psnr" "$protocol" "$worst" "$floor" "$([ "$ok" = yes ] && echo passes || echo FAILS)"
  if [ "$ok" = yes ] && { [ -z "$chosen" ] || awk -v a="$psnr" -v b="$chosen_psnr" 'BEGIN { exit !(a > b) }'; }; then
    chosen="$model"; chosen_psnr="$psnr"
  fi
done
[ -n "$chosen" ] || { echo "not shippable: every candidate damages a clean photo (see $run/eval-clean.*.json)"; exit 1; }
printf "== %s: chosen %s (%.3f dB on the validation pairs)\n" "$task" "$(basename "$chosen")" "$chosen_psnr"
if [ "$task" = derain ]; then
  for set in rain100l rain12; do
    echo "== derain: $set (y), reported only"
    "$mn" eval --model "$chosen" --data "$data/$set" --layout paired --protocol y --json "$run/eval-$set.json" | tail -4
  done
fi
echo "ship it: $mn models import $chosen --task $task -o $root/models/$task.safetensors (then update models/$task.md)"
