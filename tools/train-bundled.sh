#!/usr/bin/env bash
# Trains one bundled model (models/TASK.safetensors) from the photo corpus and writes its model card.
#
#   tools/train-bundled.sh TASK [SECONDS]        TASK: derain | deraindrop | deshadow | deblur
#
# 1. photos: tools/get-photos.sh (train/test split by photograph) into $PHOTOS (default /tmp/photos)
# 2. held-out test set: `synth` from the TEST photos only (seed 99), never seen in training
# 3. training: `train --synth KIND --clean $PHOTOS/train` (degradations made on the fly), memorynet-s,
#    stopped cleanly after SECONDS (default 3600) and resumable (run again with the same TASK to continue)
# 4. held-out scores: `eval --model best --data test set` under the task's protocol, before (input vs target)
#    and after, written into models/TASK.md with the exact commands.
# Environment: PHOTOS, RUNS (default /tmp/runs), ARCH (memorynet-s), PATCH (96), BATCH (4), STEPS (1200), LR (5e-4),
#   EXTRA (more train flags, e.g. "--memory-branches 0"; docs/ablation.md says which), EMA (0 = ship the last weights;
#   with runs this short an EMA lags the fast-moving weights: 0.995 cost 1 dB on derain).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
task="${1:?usage: $0 derain|deraindrop|deshadow|deblur [SECONDS]}"
seconds="${2:-3600}"
photos="${PHOTOS:-/tmp/photos}"; runs="${RUNS:-/tmp/runs}"
arch="${ARCH:-memorynet-s}"; patch="${PATCH:-96}"; batch="${BATCH:-4}"; steps="${STEPS:-1200}"; ema="${EMA:-0}"; lr="${LR:-5e-4}"
read -r -a extra <<<"${EXTRA:-}"
weights=latest; [ "$ema" != 0 ] && weights=ema
case "$task" in   # kind, layout, protocol, and the (degraded, clean[, mask]) folders synth writes
  derain) kind=rain; format=paired; protocol=y; before=(--pred input --gt target) ;;
  deraindrop) kind=raindrop; format=raindrop; protocol=raindrop; before=(--pred data --gt gt) ;;
  deshadow) kind=shadow; format=istd; protocol=istd-full; before=(--pred train_A --gt train_C --mask train_B) ;;
  deblur) kind=blur; format=paired; protocol=rgb; before=(--pred input --gt target) ;;
  *) echo "unknown task '$task'" >&2; exit 2 ;;
esac
mn="$root/memorynet"
[ -d "$photos/train" ] || bash "$root/tools/get-photos.sh" "$photos"
test_set="$runs/$task-test"
[ -d "$test_set" ] || "$mn" synth --kind "$kind" --clean "$photos/test" --out "$test_set" --count 60 --size 256 --seed 99
run="$runs/$task"
train_cmd=("$mn" train --synth "$kind" --clean "$photos/train" --synth-size 256 --arch "$arch" --patch "$patch" --batch "$batch"
  --steps "$steps" --lr "$lr" --warmup-epochs 1 --ema "$ema" "${extra[@]}" --save-every 250 --log-every 50 --out "$run" --max-seconds "$seconds")
if [ -f "$run/state.json" ]; then "${train_cmd[@]}" --resume; else "${train_cmd[@]}"; fi

(cd "$test_set" && "$mn" eval "${before[@]}" --protocol "$protocol" --json "$run/eval-before.json")
"$mn" eval --model "$run/$weights.safetensors" --data "$test_set" --layout "$format" --protocol "$protocol" --json "$run/eval-after.json"
"$mn" models import "$run/$weights.safetensors" --task "$task" -o "$root/models/$task.safetensors"
/usr/bin/env python3 - "$run" "$task" "$arch" "$protocol" "$test_set" "$root/models/$task.md" "${train_cmd[*]}" "$weights" <<'PY'
import json, struct, sys
run, task, arch, protocol, test_set, card, cmd, weights = sys.argv[1:]
state = json.load(open(f"{run}/state.json"))
with open(card[:-3] + ".safetensors", "rb") as f:   # the shipped file's own architecture record
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
branches = json.loads(header["__metadata__"]["arch"])["memory_branches"]
arch_line = f"`{arch}`, {branches} memory branches"
if branches == 0:
    arch_line += (" (the MPRNet backbone without the input memory: in runs this short the memory branches cost "
                  "quality, docs/ablation.md)")
after = json.load(open(f"{run}/eval-after.json"))
before = json.load(open(f"{run}/eval-before.json"))
cmd = cmd.replace(card.rsplit('/models/', 1)[0] + '/memorynet', './memorynet')
open(card, "w").write(f"""# {task}

* architecture: {arch_line} (models info {task} prints the numbers)
* training data: synthetic `{task}` degradations made on the fly from the TRAIN split of the photo corpus
  (tools/get-photos.sh; split by photograph); never the test photos
* recipe: `{cmd.replace(run, 'RUN')}`
* steps: {state['step']}, training time: {state['seconds'] / 3600:.2f} h on 2 CPU cores ({weights} weights)
* held-out: {after['count']} pairs synthesised from the TEST photos (seed 99), protocol `{after['protocol']}`:
  degraded input PSNR {before['psnr']:.2f} dB / SSIM {before['ssim']:.4f} → restored PSNR {after['psnr']:.2f} dB / SSIM {after['ssim']:.4f}
* held-out pairs made by OTHER code (tools/independent_synth.py), clean-photo check and bf16 vs fp32:
  [docs/bundled-models.md](../docs/bundled-models.md) (tools/heldout.sh)
""")
PY
echo "wrote models/$task.safetensors and models/$task.md"
