#!/usr/bin/python3
"""Statistics of the rain layer (input - target) of paired rain sets, to compare our synthetic rain with a benchmark's.

    /usr/bin/python3 tools/rain_stats.py NAME INPUT_DIR TARGET_DIR [NAME INPUT_DIR TARGET_DIR ...]

Pairs are matched by file stem. Per image, on the mean of the three channels of R = input - target:
  dens   fraction of pixels brightened by more than 0.04 (10/255)
  meanR  mean brightening over those pixels
  p99    99.5th percentile of R (how bright the brightest streaks are)
  L, W   median length (bounding-box diagonal) and width (area / length) of connected streaks of >= 5 px
  ncc    connected streaks per 10,000 px
  coh    coherence of the structure tensor of R (1 = all streaks parallel)
Printed: the median over images and, in brackets, the 10th and 90th percentiles. Needs Debian's python3-opencv.
"""
import glob
import os
import sys

import cv2
import numpy as np


def image_stats(inp, tgt):
    I = cv2.imread(inp).astype(np.float32) / 255
    T = cv2.imread(tgt).astype(np.float32) / 255
    R = (I - T).mean(2)
    m = R > 0.04
    gx = cv2.Sobel(R, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(R, cv2.CV_32F, 0, 1)
    j11, j22, j12 = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    coh = np.sqrt((j22 - j11) ** 2 + 4 * j12 ** 2) / (j11 + j22 + 1e-9)
    n, _, st, _ = cv2.connectedComponentsWithStats(m.astype(np.uint8), connectivity=8)
    big = st[1:, 4] >= 5
    if big.any():
        diag = np.hypot(st[1:, 2][big], st[1:, 3][big])
        length, width = np.median(diag), np.median(st[1:, 4][big] / np.maximum(diag, 1))
    else:
        length = width = 0.0
    return dict(dens=m.mean(), meanR=R[m].mean() if m.any() else 0.0, p99=np.percentile(R, 99.5),
                L=length, W=width, ncc=(n - 1) / R.size * 1e4, coh=coh)


def main(args):
    if not args or len(args) % 3:
        sys.exit(__doc__)
    for name, idir, tdir in zip(args[0::3], args[1::3], args[2::3]):
        rows = []
        for f in sorted(glob.glob(os.path.join(idir, "*"))):
            stem = os.path.splitext(os.path.basename(f))[0]
            t = glob.glob(os.path.join(tdir, stem + ".*"))
            if t:
                rows.append(image_stats(f, t[0]))
        if not rows:
            sys.exit(f"{idir}: no pairs with {tdir}")
        cols = []
        for k in rows[0]:
            v = np.array([r[k] for r in rows])
            cols.append(f"{k} {np.median(v):.3f} [{np.percentile(v, 10):.3f}, {np.percentile(v, 90):.3f}]")
        print(f"{name} ({len(rows)}): " + "; ".join(cols))


if __name__ == "__main__":
    main(sys.argv[1:])
