#!/usr/bin/env bash
# Checks `models export` against the OFFICIAL code (by hand, not CI; needs Debian's python3-torch and the official
# MPRNet/MemoryNet sources fetched as tools/parity_common.py says):
# 1. `models export` writes a residual-head MPRNet/MemoryNet model (e.g. a memorynet-s run with --memory-branches 0 =
#    MPRNet at widths 16/8/8, 2 CABs; none of the bundled models is one now) as a plain state_dict;
# 2. the official Deraining MPRNet at those widths loads it with plain torch.load + load_state_dict(strict=True),
#    no key rewriting, and restores IMAGE the demo.py way;
# 3. our `restore` of IMAGE with the same model is compared with that output (tools/compare_output.py).
#
#   tools/check_export.sh MODEL [IMAGE]        (IMAGE defaults to samples/demo/derain.png)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:?usage: $0 MODEL.safetensors [IMAGE]}"; img="${2:-$root/samples/demo/derain.png}"
py=/usr/bin/python3; mn="$root/memorynet"
w="$(mktemp -d)"
"$mn" models export "$model" -o "$w/exported.pth"
"$py" - "$root/tools" "$w/exported.pth" "$img" "$w/official.npy" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
import parity_common as pc
path, img, out = sys.argv[2:]
sd = torch.load(path, map_location="cpu")
assert isinstance(sd, dict) and not any(k.startswith("module.") for k in sd), "expected a plain state_dict"
n_feat = sd["shallow_feat1.0.weight"].shape[0]
unet = sd["stage1_encoder.encoder_level2.0.body.0.weight"].shape[0] - n_feat
orsnet = sd["stage3_orsnet.orb1.body.0.body.0.weight"].shape[0] - n_feat
cabs = sum(1 for k in sd if k.startswith("stage1_encoder.encoder_level1.") and k.endswith(".body.0.weight"))
assert sd["tail.weight"].shape[0] == 3, "an affine-head model does not run in the official code"
off = pc.OfficialCode(need_memorynet=False, mprnet_tasks=("Deraining",))
model = off.build("mprnet-derain", n_feat=n_feat, scale_unetfeats=unet, scale_orsnetfeats=orsnet, num_cab=cabs)
model.load_state_dict(sd, strict=True)
model.eval()
x = torch.from_numpy(np.ascontiguousarray(pc.read_image_rgb01(img).transpose(2, 0, 1))).unsqueeze(0)
y = pc.demo_restore(model, x)
np.save(out, y[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32))
print(f"official MPRNet (n_feat {n_feat}, unet +{unet}, orsnet +{orsnet}, {cabs} CABs) loaded {len(sd)} tensors (strict)")
PY
"$mn" restore "$img" -o "$w/ours.png" --model "$model" --bits 16 2>/dev/null || "$mn" restore "$img" -o "$w/ours.png" --task "$model" --bits 16
"$py" "$root/tools/compare_output.py" "$w/ours.png" "$w/official.npy"
echo "work folder: $w"
