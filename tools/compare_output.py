#!/usr/bin/python3
"""Compare our 16-bit PNG output with a reference .npy from tools/reference_restore.py.

    /usr/bin/python3 tools/compare_output.py OUR.png REF.npy [--tol 2e-4]

OUR.png is read with cv2.IMREAD_UNCHANGED, BGR->RGB, /65535 (an 8-bit PNG is accepted with a warning, /255).
Prints max and mean |difference|; exit code 1 if max > tol (default 2e-4), 2 on a shape mismatch.
"""

import argparse
import sys

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ours")
    ap.add_argument("ref")
    ap.add_argument("--tol", type=float, default=2e-4)
    args = ap.parse_args()

    img = cv2.imread(args.ours, cv2.IMREAD_UNCHANGED)
    if img is None:
        print(f"cannot read {args.ours}", file=sys.stderr)
        return 2
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.dtype == np.uint16:
        ours = img.astype(np.float64) / 65535.0
    elif img.dtype == np.uint8:
        print("warning: 8-bit PNG, comparing /255 (quantisation alone is up to 2e-3)", file=sys.stderr)
        ours = img.astype(np.float64) / 255.0
    else:
        print(f"unsupported dtype {img.dtype}", file=sys.stderr)
        return 2

    ref = np.load(args.ref).astype(np.float64)
    if ref.shape != ours.shape:
        print(f"shape mismatch: ours {ours.shape} vs ref {ref.shape}", file=sys.stderr)
        return 2
    d = np.abs(ours - ref)
    worst = np.unravel_index(np.argmax(d), d.shape)
    print(f"max |diff| = {d.max():.3e} at (y={worst[0]}, x={worst[1]}, c={worst[2]}), mean |diff| = {d.mean():.3e}, "
          f"tol {args.tol:g}: {'OK' if d.max() <= args.tol else 'FAIL'}")
    return 0 if d.max() <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
