#!/usr/bin/env bash
# Scores the bundled models (models/TASK.safetensors) on held-out pairs that OTHER code made:
# tools/independent_synth.py (written from the spec only, not from src/MemoryNet/Data/Synthesis) degrades the
# TEST photos (never seen in training) with rain, shadows and camera-shake blur. Also: raindrops (only our synth
# has them), --task derain on CLEAN test crops (must stay > 30 dB), and the bf16-vs-fp32 PSNR change.
# Writes a Markdown table and the exact commands to OUT (default WORK/heldout.md); its table and commands are the
# held-out section of docs/bundled-models.md.
#
#   tools/heldout.sh            Environment: PHOTOS (/tmp/photos), WORK (/tmp/heldout), COUNT (60), OUT (WORK/heldout.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
photos="${PHOTOS:-/tmp/photos}"; work="${WORK:-/tmp/heldout}"; count="${COUNT:-60}"; out="${OUT:-$work/heldout.md}"
mn="$root/memorynet"; py=/usr/bin/python3
[ -d "$photos/test" ] || bash "$root/tools/get-photos.sh" "$photos"
mkdir -p "$work"
cmds=()
run() { cmds+=("$*"); "$@"; }

# task | who made the set | kind | layout | protocol | degraded folder | clean folder | mask folder
rows=("derain|independent_synth.py|rain|paired|y|input|target|"
      "deshadow|independent_synth.py|shadow|istd|istd-full|train_A|train_C|train_B"
      "deblur|independent_synth.py|blur|paired|rgb|input|target|"
      "deraindrop|memorynet synth|raindrop|raindrop|raindrop|data|gt|")
for row in "${rows[@]}"; do
  IFS='|' read -r task maker kind format protocol degraded clean mask <<<"$row"
  set_dir="$work/$task"
  if [ "$maker" = "memorynet synth" ]; then
    make=("$mn" synth --kind "$kind" --clean "$photos/test" --out "$set_dir" --count "$count" --size 256 --seed 5)
  else
    make=("$py" "$root/tools/independent_synth.py" "$kind" --clean "$photos/test" --out "$set_dir" --count "$count" --size 256 --seed 5)
  fi
  # an existing set is reused (same seed, same bytes); its command is listed either way
  if [ -d "$set_dir" ]; then cmds+=("${make[*]}"); else run "${make[@]}"; fi
  maskarg=(); [ -n "$mask" ] && maskarg=(--mask "$set_dir/$mask")
  run "$mn" eval --pred "$set_dir/$degraded" --gt "$set_dir/$clean" "${maskarg[@]}" --protocol "$protocol" --json "$work/$task-before.json"
  run "$mn" eval --task "$task" --data "$set_dir" --layout "$format" --protocol "$protocol" --json "$work/$task-after.json"
  run "$mn" eval --task "$task" --data "$set_dir" --layout "$format" --protocol "$protocol" --precision bf16 --json "$work/$task-bf16.json"
done

# clean photos through the derain model: input = target = the clean crops of the rain set
clean_set="$work/clean"
if [ ! -d "$clean_set" ]; then
  mkdir -p "$clean_set"; cp -r "$work/derain/target" "$clean_set/input"; cp -r "$work/derain/target" "$clean_set/target"
fi
run "$mn" eval --task derain --data "$clean_set" --layout paired --protocol y --json "$work/clean-after.json"

"$py" - "$work" "$out" "$count" "$root" "${cmds[@]}" <<'PY'
import json, sys
work, out, count, root, *cmds = sys.argv[1:]
J = lambda n: json.load(open(f"{work}/{n}.json"))
lines = ["# Bundled models: held-out scores", "",
         f"{count} pairs per task, 256×256 crops of the TEST photos (tools/get-photos.sh; never in training), "
         "degraded by `tools/independent_synth.py` (rain, shadow, blur: written from the spec, independently of "
         "`memorynet synth`) or by `memorynet synth` (raindrops, which the independent script does not make). "
         "Produced by `tools/heldout.sh`; protocols in docs/protocols.md.", "",
         "| task | made by | protocol | PSNR input | PSNR restored | gain | SSIM input → restored | bf16 PSNR | bf16 − fp32 |",
         "|---|---|---|---|---|---|---|---|---|"]
makers = {"derain": "independent_synth.py rain", "deshadow": "independent_synth.py shadow",
          "deblur": "independent_synth.py blur", "deraindrop": "memorynet synth raindrop"}
for t in ["derain", "deraindrop", "deshadow", "deblur"]:
    b, a, h = J(f"{t}-before"), J(f"{t}-after"), J(f"{t}-bf16")
    lines.append(f"| {t} | {makers[t]} | `{a['protocol']}` | {b['psnr']:.2f} | {a['psnr']:.2f} | {a['psnr'] - b['psnr']:+.2f} | "
                 f"{b['ssim']:.4f} → {a['ssim']:.4f} | {h['psnr']:.3f} | {h['psnr'] - a['psnr']:+.3f} |")
c = J("clean-after")
worst = min(r["psnr"] for r in c["per_image"])
lines += ["", f"Clean photos through `--task derain` (the model must not damage them): mean PSNR {c['psnr']:.2f} dB, "
          f"worst image {worst:.2f} dB, SSIM {c['ssim']:.4f} (protocol `{c['protocol']}`, the {count} clean crops of the rain set).", "",
          "Commands:", "", "```"] + [x.replace(root + "/", "") for x in cmds] + ["```", ""]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
