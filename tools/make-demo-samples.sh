#!/usr/bin/env bash
# Makes the demo's degraded samples (samples/demo/TASK.png + TASK-clean.png) from the CC0/public-domain
# photos in samples/ with `memorynet synth` (seeded, so re-running gives the same files).
#
#   tools/make-demo-samples.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mn="$root/memorynet"; out="$root/samples/demo"; work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
# task | synth kind | photo | degraded folder | clean folder
for row in "derain|rain|rocket.jpg|input|target" "deraindrop|raindrop|coffee.jpg|data|gt" \
           "deshadow|shadow|chelsea.jpg|train_A|train_C" "deblur|blur|astronaut.jpg|input|target"; do
  IFS='|' read -r task kind photo degraded clean <<<"$row"
  mkdir -p "$work/$task/photo"; cp "$root/samples/$photo" "$work/$task/photo/"
  "$mn" synth --kind "$kind" --clean "$work/$task/photo" --out "$work/$task/set" --count 1 --size 288 --seed 7 >/dev/null
  cp "$(ls "$work/$task/set/$degraded"/* | head -1)" "$out/$task.png"
  cp "$(ls "$work/$task/set/$clean"/* | head -1)" "$out/$task-clean.png"
  echo "samples/demo/$task.png  ($kind from $photo)"
done
