#!/usr/bin/python3
"""Acceptance helper: restore one image with the OFFICIAL PyTorch MemoryNet / MPRNet, exactly the demo.py way.

Run by hand (not in CI) with Debian's python3-torch (/usr/bin/python3) and the fetched official code
(see tools/parity_common.py; override with --ref-memorynet / --ref-mprnet):

    /usr/bin/python3 tools/reference_restore.py --arch memorynet --weights model.pth \
        --input in.png --out ref.npy
    # no weights: random init with a seed, and save those weights (wrapped {'state_dict': {'module.'+k}} form)
    /usr/bin/python3 tools/reference_restore.py --arch mprnet-deblur --init-seed 7 \
        --save-weights /tmp/deblur_seed7.pth --input in.png --out ref.npy

Presets: memorynet (MemoryNet defaults 40/20/16/8), mprnet-derain (Deraining/MPRNet.py, 40/20/16/8),
mprnet-deblur (Deblurring, 96/48/32/8), mprnet-denoise (Denoising, 80/48/32/8).

Image: read with OpenCV (BGR->RGB; grey -> 3 channels, alpha dropped), float32 = uint8/255 or uint16/65535.
Inference (demo.py): reflect-pad bottom/right to the next multiple of 8 only when not already one, run in eval mode
under no_grad, take output[0] (stage 3), clamp to [0,1], crop to the original size.
--out gets a float32 HxWx3 .npy of that (RGB). Compare with tools/compare_output.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_common as pc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(pc.PRESETS))
    ap.add_argument("--weights", help=".pth: plain state_dict or {'state_dict': ...}, 'module.' prefix optional")
    ap.add_argument("--init-seed", type=int, help="random init with torch.manual_seed(S) when --weights is missing")
    ap.add_argument("--save-weights", help="with --init-seed: where to save the random weights "
                                           "({'epoch': 0, 'state_dict': {'module.'+k: v}})")
    ap.add_argument("--input", required=True, help="input image (8- or 16-bit PNG, JPG, ...)")
    ap.add_argument("--out", required=True, help="output .npy, float32 HxWx3 RGB in [0,1]")
    ap.add_argument("--ref-memorynet", default=pc.DEFAULT_MEMORYNET_REF)
    ap.add_argument("--ref-mprnet", default=pc.DEFAULT_MPRNET_REF)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    kind, task, _ = pc.PRESETS[args.arch]
    off = pc.OfficialCode(args.ref_memorynet, args.ref_mprnet, need_memorynet=(kind == "memorynet"),
                          mprnet_tasks=(task,) if task else ())

    if args.weights and os.path.exists(args.weights):
        model = off.build(args.arch)
        model.load_state_dict(pc.load_state_dict_any(args.weights), strict=True)
        src = args.weights
    elif args.init_seed is not None:
        torch.manual_seed(args.init_seed)
        model = off.build(args.arch)
        src = f"random init, seed {args.init_seed}"
        if args.save_weights:
            os.makedirs(os.path.dirname(os.path.abspath(args.save_weights)), exist_ok=True)
            torch.save({"epoch": 0, "state_dict": pc.wrap_state_dict(model.state_dict())}, args.save_weights)
            src += f" (saved to {args.save_weights})"
    else:
        ap.error("--weights missing (or not found) and no --init-seed given")
    model.eval()

    img = pc.read_image_rgb01(args.input)                                  # HxWx3 float32
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).unsqueeze(0)
    t0 = time.perf_counter()
    y = pc.demo_restore(model, x)
    dt = time.perf_counter() - t0
    out = y[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32)   # HxWx3
    np.save(args.out, out)
    print(f"{args.arch}: weights {src}; input {args.input} {img.shape[1]}x{img.shape[0]}; "
          f"forward {dt:.2f} s; wrote {args.out} {out.shape} min {out.min():.6f} max {out.max():.6f} "
          f"mean {out.mean():.6f}")


if __name__ == "__main__":
    main()
