#!/usr/bin/env bash
# The paper's ablation (Table IV) at a budget where the baseline works: memorynet-s with the memory off (MPRNet),
# memory feeding 1, 2, 3 stages, 3 + two-phase training (memory fitted to clean images first), that + contrastive
# regularisation, 3 + the feature-level memories with L_recon, and 3 with the memory items drawn three times larger
# than the reference's (an initialisation of the same architecture: at the reference's the reads that stages 2 and
# 3 see hardly follow the image; docs/ablation.md). Every row: the same steps, patch, batch and data
# order for a seed, and every row for each of SEEDS. Trained on the fly from DATA/clean/train; validation curves on
# pairs made from DATA/clean/val (seed 7); scored at the end (the last weights: no checkpoint is chosen) on 60
# other pairs from DATA/clean/val (seed 99), on the whole validation pairs and, for rain, on Rain100L (`y`, reported
# only).
#
#   tools/ablation.sh TASK [SECONDS]    TASK: shadow (protocol istd-full) | rain (protocol y)
#
# SECONDS bounds this invocation (default: until every run is done); running the script again resumes where it
# stopped: runs are resumable, finished runs and scores are kept. Seed-major order: every row gets its first seed
# before any gets its second.
# A finished run is recorded in RESULTS (its scores, its validation curve, its command; no weights), a folder meant
# to be committed: the full table takes more 2-core hours than one machine keeps its RUNS, so a run recorded there is
# never trained again, and the table and curves are always made from RESULTS. Each budget (task, steps, batch,
# patch, precision, EXTRA) has its own folder, so rows trained differently never share a table.
# Writes RESULTS/table.md (mean ± half the range over the seeds, and the commands) and RESULTS/curves.png
# (validation PSNR against steps for every recorded run).
# Environment: DATA (../shared/data), RUNS (/tmp/ablation: data, checkpoints), STEPS (12000), PATCH (64), BATCH (4),
#   SEEDS ("1 2"), PRECISION (fp32; bf16 is faster where the CPU has AVX512-BF16 or AMX, and its rows go to their own
#   RESULTS), ROWS (a space-separated subset of the row names), EXTRA (more train flags for every row, e.g.
#   "--val-patch 256 --synth-zoom 3" for shadows seen as whole scenes), RESULTS (docs/ablation/TASK-STEPSxBATCHxPATCH-
#   PRECISION[-EXTRA])
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
task="${1:?usage: $0 shadow|rain [SECONDS]}"
seconds="${2:-}"
data="${DATA:-$root/../shared/data}"; base="${RUNS:-/tmp/ablation}"
steps="${STEPS:-12000}"; patch="${PATCH:-64}"; batch="${BATCH:-4}"; read -r -a seeds <<<"${SEEDS:-1 2}"
read -r -a every <<<"${EXTRA:-}"
# fp32 unless asked: rows run on different machines across sessions must share their arithmetic
PRECISION="${PRECISION:-fp32}"
tag="$task-${steps}x${batch}x${patch}-$PRECISION"
[ "${#every[@]}" -gt 0 ] && tag="$tag-$(printf '%s' "${every[*]}" | tr -cs 'A-Za-z0-9.' '_' | sed 's/^_//; s/_$//')"
runs="$base/$tag"   # checkpoints and scores per budget: a finished run of one budget is never taken for another's
results="${RESULTS:-$root/docs/ablation/$tag}"
out="$results/table.md"
case "$task" in
  shadow) layout=istd; protocol=istd-full ;;
  rain) layout=paired; protocol=y ;;
  *) echo "$task: TASK is shadow or rain" >&2; exit 2 ;;
esac
[ -d "$data/clean/train" ] || { echo "$data/clean/train: no clean photos (set DATA)" >&2; exit 2; }
mn="$root/memorynet"
deadline=$(( $(date +%s) + ${seconds:-999999999} ))
mkdir -p "$runs"

val="$runs/val"; test_set="$runs/test"
[ -d "$val" ] || "$mn" synth --kind "$task" --clean "$data/clean/val" --out "$val" --count 24 --size 256 --seed 7
[ -d "$test_set" ] || "$mn" synth --kind "$task" --clean "$data/clean/val" --out "$test_set" --count 60 --size 256 \
  --seed 99
# clean pairs: the validation pairs' clean targets as both input and target. What a row does to a photo without the
# degradation: the first shadow rows changed shadow-free content by up to 29 dB, enough to flip a mean over crops
# (docs/ablation.md)
clean="$runs/clean"
if [ ! -d "$clean" ]; then
  case "$layout" in istd) targets="$val/train_C" ;; *) targets="$val/target" ;; esac
  mkdir -p "$clean.tmp/input" "$clean.tmp/target"
  cp "$targets"/* "$clean.tmp/input/"; cp "$targets"/* "$clean.tmp/target/"
  mv "$clean.tmp" "$clean"
fi
score() {   # score MODEL|input NAME: the held-out pairs, the whole validation pairs, the clean pairs (and Rain100L
  # for rain) into $runs/NAME.*.json. The validation curve is taken on 128² centre crops; the whole 256² validation
  # pairs tell whether a row's ranking on crops holds on whole scenes (it did not in the first shadow rows)
  local model="$1" name="$2" sets=("test|$test_set|$layout|$protocol" "val|$val|$layout|$protocol")
  [ "$model" != input ] && sets+=("clean|$clean|paired|rgb")   # the input is its own target there
  [ "$task" = rain ] && [ -d "$data/rain100l" ] && sets+=("rain100l|$data/rain100l|paired|y")
  for s in "${sets[@]}"; do
    IFS='|' read -r set dir lay prot <<<"$s"
    local json="$runs/$name.$set.json"
    [ -f "$json" ] && continue
    if [ "$model" = input ]; then
      # the degraded input scored as if it were the output: the bar every row must clear
      case "$lay" in
        istd) (cd "$dir" && "$mn" eval --pred train_A --gt train_C --mask train_B --protocol "$prot" --json "$json.tmp") ;;
        *) (cd "$dir" && "$mn" eval --pred input --gt target --protocol "$prot" --json "$json.tmp") ;;
      esac
    else
      "$mn" eval --model "$model" --data "$dir" --layout "$lay" --protocol "$prot" --json "$json.tmp"
    fi >/dev/null
    mv "$json.tmp" "$json"
  done
  # the held-out pairs are larger than the training patches: channel attention then averages over more than it was
  # trained on, so the rows are also scored with test-time local statistics over the training patch (--tlc)
  local tlc="$runs/$name.test-tlc.json"
  if [ "$model" != input ] && [ ! -f "$tlc" ]; then
    "$mn" eval --model "$model" --data "$test_set" --layout "$layout" --protocol "$protocol" --tlc "$patch" \
      --json "$tlc.tmp" >/dev/null
    mv "$tlc.tmp" "$tlc"
  fi
}
record() {   # record NAME RUN: copy a scored run's results into $results/NAME (RUN empty for the input)
  local name="$1" run="$2" dest="$results/$1"
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  [ -d "$dest" ] && cp -r "$dest/." "$dest.tmp/"   # keep what another machine recorded; add and refresh the rest
  for set in test test-tlc val clean rain100l; do
    [ -f "$runs/$name.$set.json" ] && cp "$runs/$name.$set.json" "$dest.tmp/$set.json"
  done
  if [ -n "$run" ]; then
    cp "$run/log.jsonl" "$dest.tmp/log.jsonl"   # the loss and validation curves (about 50 KB a run)
    local cmd="${3//$root\/memorynet/./memorynet}"
    printf '%s\n' "${cmd//$root\/..\/shared\/data/../shared/data}" > "$dest.tmp/command.txt"
  fi
  rm -rf "$dest"; mv "$dest.tmp" "$dest"
}
mkdir -p "$results"
if [ ! -f "$results/input/test.json" ] || [ ! -f "$results/input/val.json" ] ||
    { [ "$task" = rain ] && [ -d "$data/rain100l" ] && [ ! -f "$results/input/rain100l.json" ]; }; then
  score input input; record input ""
fi

pre=$((steps / 5))   # two-phase: the first fifth of the same budget fits the memory to clean images
rows=("mprnet|--memory-branches 0"
      "memory-1|--memory-branches 1"
      "memory-2|--memory-branches 2"
      "memory-3|--memory-branches 3"
      "memory-3+two-phase|--memory-branches 3 --memory-pretrain-steps $pre"
      "memory-3+two-phase+contrastive|--memory-branches 3 --memory-pretrain-steps $pre --contrastive-weight 0.1"
      "memory-3+feature-memory|--memory-branches 3 --feature-memory both --recon-weight 0.1"
      "memory-3+init-3|--memory-branches 3 --memory-init-scale 3")
allrows=(); for r in "${rows[@]}"; do allrows+=("${r%%|*}"); done
if [ -n "${ROWS:-}" ]; then
  kept=(); for r in "${rows[@]}"; do [[ " $ROWS " == *" ${r%%|*} "* ]] && kept+=("$r"); done; rows=("${kept[@]}")
fi

done_all=1
for seed in "${seeds[@]}"; do
  for r in "${rows[@]}"; do
    name="${r%%|*}"; read -r -a extra <<<"${r#*|}"
    run="$runs/$name.seed$seed"
    cmd=("$mn" train --synth "$task" --clean "$data/clean/train" --arch memorynet-s "${extra[@]}" --patch "$patch"
      --batch "$batch" --steps "$steps" --seed "$seed" --precision "$PRECISION" --data-parallel
      --val "$val" --val-layout "$layout" --val-protocol "$protocol" --val-every 500 --log-every 50
      --save-every 500 "${every[@]}" --out "$run")
    if [ -f "$results/$name.seed$seed/test.json" ]; then   # recorded: scored, on this or another machine
      # a score the script has gained since is added where this machine still has the finished run's weights
      if grep -qs "\"step\":$steps," "$run/state.json" && [ -f "$run/latest.safetensors" ]; then
        missing=0; for set in val clean; do [ -f "$results/$name.seed$seed/$set.json" ] || missing=1; done
        [ "$missing" = 1 ] && score "$run/latest.safetensors" "$name.seed$seed" && record "$name.seed$seed" "$run" "$(cat "$results/$name.seed$seed/command.txt")"
      fi
      continue
    fi
    if ! grep -qs "\"step\":$steps," "$run/state.json"; then
      left=$(( deadline - $(date +%s) ))
      if [ "$left" -le 60 ]; then done_all=0; break 2; fi
      if [ -f "$run/state.json" ]; then "${cmd[@]}" --max-seconds "$left" --resume; else "${cmd[@]}" --max-seconds "$left"; fi
      grep -qs "\"step\":$steps," "$run/state.json" || { done_all=0; break 2; }
    fi
    score "$run/latest.safetensors" "$name.seed$seed"
    record "$name.seed$seed" "$run" "${cmd[*]}"
  done
done

# the table and the curves: every recorded run of this budget, whichever invocation or machine trained it
curves=(); for name in "${allrows[@]}"; do for d in "$results/$name".seed*; do
  [[ ${d##*.seed} =~ ^[0-9]+$ ]] && [ -f "$d/log.jsonl" ] && curves+=("$name/${d##*.seed}=$d"); done; done
[ "${#curves[@]}" -gt 0 ] && "$mn" curves "${curves[@]}" -o "$results/curves.png" >/dev/null

/usr/bin/env python3 - "$results" "$out" "$task" "$steps" "$patch" "$batch" "$PRECISION" \
  "${allrows[@]}" <<'PY'
import json, os, re, sys
results, out, task, steps, patch, batch, precision, *allrows = sys.argv[1:]
recorded = {name: sorted((int(m.group(1)) for d in os.listdir(results) if (m := re.fullmatch(re.escape(name) + r"\.seed(\d+)", d))
                          and os.path.exists(f"{results}/{d}/test.json"))) for name in allrows}
names = [n for n in allrows if recorded[n]]
seeds = sorted({s for n in names for s in recorded[n]})
def load(name, s):
    p = f"{results}/{name}/{s}.json"
    return json.load(open(p)) if os.path.exists(p) else None
def stat(values):
    v = [x for x in values if x is not None]
    if not v: return "–"
    mean = sum(v) / len(v)
    return f"{mean:.3f}" if len(v) == 1 else f"{mean:.3f} ± {(max(v) - min(v)) / 2:.3f}"
def lab(r, region):
    return ((r.get("regions") or {}).get(region) or {}).get("rmse_lab")
def last_val(r):   # the validation score (128² centre crops) at the last step
    return r[-1]["psnr"] if r else None
# "crops" is the training's validation curve (log.jsonl), "val" the same 24 pairs scored whole: the two ranked the
# first shadow rows oppositely (docs/ablation.md), so both are shown
cols = [("test", "PSNR", lambda r: r["psnr"]), ("test", "SSIM", lambda r: r["ssim"]),
        ("test-tlc", "PSNR, `--tlc`", lambda r: r["psnr"])]
if task == "shadow":
    cols += [("test", "LAB error (all)", lambda r: r.get("rmse_lab")), ("test", "shadow", lambda r: lab(r, "shadow")),
             ("test", "non-shadow", lambda r: lab(r, "non_shadow"))]
else:
    cols += [("rain100l", "Rain100L PSNR", lambda r: r["psnr"]), ("rain100l", "Rain100L SSIM", lambda r: r["ssim"])]
cols += [("val", "validation, whole pairs", lambda r: r["psnr"]), ("crops", "validation crops, last", last_val),
         ("clean", "clean pairs", lambda r: r["psnr"])]
sets = sorted({c[0] for c in cols})
runs_read = {}
def load_run(name):   # every score and the validation curve of a recorded run, read once
    if name in runs_read: return runs_read[name]
    run = runs_read[name] = {k: load(name, k) for k in sets if k != "crops"}
    log = f"{results}/{name}/log.jsonl"
    run["crops"] = [e for e in map(json.loads, open(log)) if e.get("event") == "val"] if os.path.exists(log) else None
    return run
def wins(run, base):   # held-out pairs on which a run beats the baseline of its own seed (same data order)
    if not run["test"] or not base or not base["test"]: return None
    b = {p["name"]: p["psnr"] for p in base["test"]["per_image"]}
    return sum(p["psnr"] > b[p["name"]] for p in run["test"]["per_image"]), len(b)
lines = [f"# Ablation on {task}: memory branches, two-phase training, contrastive and feature memory", "",
         f"`memorynet-s`, {steps} steps of {batch} × {patch}², the paper's schedule (lr 2e-4, warm-up, cosine), {precision}, seeds {', '.join(map(str, seeds)) or 'none yet'} "
         f"(mean ± half the range over the seeds done; n = seeds). Held-out: 60 pairs from clean/val (seed 99); "
         "the last weights of each run, no checkpoint chosen.", "",
         "Pairs above MPRNet: the held-out pairs on which a run's PSNR beats MPRNet's of the same seed, per seed. "
         "Validation crops: the 128² centre crops the training validated on, at the last step. Clean pairs: the 24 "
         "validation targets through the network (`rgb`): what a row does to a photo without the degradation.", "",
         "| configuration | n | " + " | ".join(c[1] for c in cols) + " | pairs above MPRNet |",
         "|---|---|" + "---|" * (len(cols) + 1)]
inp = load_run("input")
inp["test-tlc"] = inp["test"]   # the input does not go through a network
crops_input = next((e["input_psnr"] for n in names for s in recorded[n]
                    for e in (load_run(f"{n}.seed{s}")["crops"] or []) if "input_psnr" in e), None)
inp["crops"] = [{"psnr": crops_input}] if crops_input is not None else None
lines.append("| degraded input | – | " + " | ".join(stat([f(inp[s])] if inp[s] else []) for s, _, f in cols) + " | – |")
for name in names:
    per = {seed: load_run(f"{name}.seed{seed}") for seed in recorded[name]}
    n = sum(1 for p in per.values() if p["test"])
    above = [w for seed, p in per.items() if name != "mprnet" and recorded.get("mprnet") and seed in recorded["mprnet"]
             and (w := wins(p, load_run(f"mprnet.seed{seed}"))) is not None]
    lines.append(f"| {name} | {n} | " + " | ".join(stat([f(p[s]) for p in per.values() if p[s]]) for s, _, f in cols)
                 + " | " + (", ".join(f"{a} of {b}" for a, b in above) or "–") + " |")
lines += ["", "Curves: curves.png. Commands (`tools/ablation.sh` ran them, resumably; the paths are that machine's):", "", "```"]
for name in names:
    for seed in recorded[name]:
        lines.append(open(f"{results}/{name}.seed{seed}/command.txt").read().strip())
lines += ["```", ""]
tmp = out + ".tmp"
open(tmp, "w").write("\n".join(lines))
os.replace(tmp, out)
print("\n".join(lines[:len(names) + 8]))
PY
[ "$done_all" = 1 ] && echo "all runs done: $out" || echo "time budget spent: run the same command again to continue"
