#!/usr/bin/env bash
# Ours vs the official PyTorch code, same model, same input size, same machine, ALTERNATING runs in one go.
# Usage: bench/compare.sh [ARCH] [SIZE] [ROUNDS]     (defaults: memorynet 256 3)
# Needs Debian's python3-torch (/usr/bin/python3) and the fetched official code (see tools/parity_common.py);
# without them it times ours only. Prints medians and ratios; writes bench/results-<arch>-<size>.json.
# TRAIN=1 [BATCH=B]: one optimiser step of a batch instead (ours in fp32 and bf16 mixed precision, each also with
# --data-parallel (fp32-dp, bf16-dp); writes bench/results-train-<arch>-<size>.json).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:-memorynet}"; size="${2:-256}"; rounds="${3:-3}"; iters="${ITERS:-5}"
threads="${THREADS:-$(nproc)}"; train="${TRAIN:-0}"; batch="${BATCH:-1}"
precs=(fp32 bf16); mode=(); key=seconds_per_image; tag=""
if [ "$train" = 1 ]; then
  precs=(fp32 bf16 fp32-dp bf16-dp); mode=(--train --batch "$batch"); key=seconds_per_step; tag="train-"
fi
py=/usr/bin/python3
have_ref=1
"$py" -c "import torch" 2>/dev/null || { echo "python3-torch missing: timing ours only" >&2; have_ref=0; }
"$root/memorynet" --help >/dev/null   # build first, outside the timings
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$rounds"); do
  for prec in "${precs[@]}"; do
    dp=(); [ "${prec%-dp}" != "$prec" ] && dp=(--data-parallel)
    "$root/memorynet" bench --arch "$arch" --size "$size" --iters "$iters" --threads "$threads" --precision "${prec%-dp}" "${mode[@]}" "${dp[@]}" --json "$tmp/ours-$prec-r$r.json" >/dev/null
  done
  if [ $have_ref = 1 ]; then
    "$py" "$root/bench/official_bench.py" --arch "$arch" --size "$size" --iters "$iters" --threads "$threads" "${mode[@]}" > "$tmp/official-$r.json" || have_ref=0
  fi
done
"$py" - "$tmp" "$rounds" "$have_ref" "$arch" "$size" "$root/bench/results-$tag$arch-$size.json" "$key" "${precs[@]}" <<'PY'
import json, statistics, sys, glob, os, platform
tmp, rounds, have_ref, arch, size, out, key, *precs = sys.argv[1:]
rounds, have_ref, size = int(rounds), have_ref == "1", int(size)
def med(pattern):
    vals = [json.load(open(f))[key] for f in sorted(glob.glob(os.path.join(tmp, pattern)))]
    return statistics.median(vals), vals
res = {"arch": arch, "size": size, "rounds": rounds, "cpu": platform.processor() or platform.machine()}
for prec in precs:
    m, v = med(f"ours-{prec}-r*.json"); res[f"ours_{prec}"] = {"median_s": m, "rounds": v}
    res[f"ours_{prec}_peak_rss_mb"] = max(json.load(open(f))["peak_rss_mb"] for f in glob.glob(os.path.join(tmp, f"ours-{prec}-r*.json")))
if have_ref:
    vals = [json.loads(open(f).read().strip().splitlines()[-1])[key] for f in sorted(glob.glob(os.path.join(tmp, "official-*.json")))]
    res["official"] = {"median_s": statistics.median(vals), "rounds": vals}
    for prec in precs:
        res[f"speedup_{prec}"] = round(res["official"]["median_s"] / res[f"ours_{prec}"]["median_s"], 3)
json.dump(res, open(out, "w"), indent=2)
print(f"{arch} {size}x{size}, {rounds} alternating rounds (medians, {key.replace('seconds_per_', 's/')}):")
if have_ref: print(f"  official PyTorch : {res['official']['median_s']:.3f}   {res['official']['rounds']}")
for prec in precs:
    line = f"  ours {prec:4s}        : {res[f'ours_{prec}']['median_s']:.3f}   {res[f'ours_{prec}']['rounds']}"
    if have_ref: line += f"   speed-up {res[f'speedup_{prec}']:.2f}x"
    print(line)
print(f"results: {out}")
PY
