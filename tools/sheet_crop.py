#!/usr/bin/python3
"""Cut the same window out of both halves of an input|output sheet (restore --side-by-side) for the docs.

    /usr/bin/python3 tools/sheet_crop.py SHEET.side.jpg OUT.jpg [--box X Y W H] [--width 720]

--box is in the input photo's pixels (default: the whole photo). The two windows are placed side by side with a
4 px white gap, scaled to at most --width px wide, and written as JPEG quality 85.
"""
import argparse

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sheet")
    ap.add_argument("out")
    ap.add_argument("--box", type=int, nargs=4, metavar=("X", "Y", "W", "H"))
    ap.add_argument("--width", type=int, default=720)
    a = ap.parse_args()
    img = cv2.imread(a.sheet, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"{a.sheet}: cannot read")
    half = img.shape[1] // 2
    x, y, w, h = a.box or (0, 0, half, img.shape[0])
    left, right = img[y:y + h, x:x + w], img[y:y + h, half + x:half + x + w]
    gap = np.full((left.shape[0], 4, 3), 255, np.uint8)
    pair = np.hstack([left, gap, right])
    if pair.shape[1] > a.width:
        s = a.width / pair.shape[1]
        pair = cv2.resize(pair, (a.width, round(pair.shape[0] * s)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(a.out, pair, [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
