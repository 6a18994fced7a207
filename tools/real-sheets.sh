#!/usr/bin/env bash
# Restores every photograph in DATA/real/ with each task's bundled model and writes before|after sheets.
# These photos have no ground truth: the sheets are for looking (model cards say where the models fail).
#
#   tools/real-sheets.sh OUT [TASK...]       TASK: derain deraindrop deshadow deblur (default: all four)
#
# OUT/TASK/NAME.jpg is the restored photo, OUT/TASK/NAME.side.jpg the input|output sheet.
# Environment: DATA (default ../shared/data beside the repository), MODEL_DIR (use OUT-of-tree weights:
#   MODEL_DIR/TASK.safetensors instead of the bundled model).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: $0 OUT [TASK...]}"; shift
data="${DATA:-$root/../shared/data}"
tasks=("$@"); [ ${#tasks[@]} -gt 0 ] || tasks=(derain deraindrop deshadow deblur)
for task in "${tasks[@]}"; do
  case "$task" in
    derain) dir=rain ;; deraindrop) dir=raindrop ;; deshadow) dir=shadow ;; deblur) dir=blur ;;
    *) echo "unknown task '$task'" >&2; exit 2 ;;
  esac
  [ -d "$data/real/$dir" ] || { echo "$data/real/$dir: missing (set DATA)" >&2; exit 2; }
  model=(--task "$task"); [ -n "${MODEL_DIR:-}" ] && model=(--model "$MODEL_DIR/$task.safetensors")
  mkdir -p "$out/$task"
  "$root/memorynet" restore "$data/real/$dir" -o "$out/$task" "${model[@]}" --side-by-side --format jpg --skip-existing
done
