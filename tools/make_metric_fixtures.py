#!/usr/bin/python3
"""Makes the metric test fixtures and their golden values.

Run by hand with Debian's python3 (it has python3-skimage, python3-opencv, numpy):

    /usr/bin/python3 tools/make_metric_fixtures.py

Writes tests/MemoryNet.Tests/Fixtures/Metrics/{pred,gt,mask}/*.png and golden.json.
The goldens come from the reference implementations where one exists:
  * PSNR: skimage.metrics.peak_signal_noise_ratio(data_range=255)
  * SSIM (MATLAB form): skimage.metrics.structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=255), per channel mean for RGB
  * SSIM (raindrop): structural_similarity with its defaults (7x7 uniform, sample covariance),
    data_range=255, on OpenCV's Y
  * OpenCV Y: cv2.cvtColor(BGR2YCrCb)[..., 0]
  * LAB: skimage.color.rgb2lab
  * MATLAB rgb2ycbcr Y of a uint8 image: the formula (no MATLAB here), Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255
    on 8-bit R, G, B, rounded half away from zero to uint8 as MATLAB's imlincomb does for uint8 output
  * MATLAB imresize(..., 'bicubic') with antialiasing: no MATLAB here, so `imresize_matlab`
    below is a numpy re-implementation of MATLAB's algorithm (contributions(): cubic a=-0.5,
    kernel widened by 1/scale when shrinking, symmetric edge padding, dimension with the
    smaller scale first, uint8 rounded after each pass). The C# code is tested against it.
16-bit inputs are quantised to 8 bits as MATLAB's im2uint8: round(v / 257).
"""
import json
import os

import cv2
import numpy as np
from skimage.color import rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MemoryNet.Tests", "Fixtures", "Metrics")
rng = np.random.default_rng(20240601)


# ---------------------------------------------------------------- images
def structured(h, w, seed):
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    img[..., 0] = 255 * (xx / max(w - 1, 1))
    img[..., 1] = 255 * (yy / max(h - 1, 1))
    img[..., 2] = 128 + 100 * np.sin(xx / 3.0 + yy / 5.0)
    for _ in range(4):  # rectangles and a disc
        y0, x0 = r.integers(0, h // 2), r.integers(0, w // 2)
        img[y0:y0 + h // 3, x0:x0 + w // 3] = r.integers(0, 256, 3)
    cy, cx, rad = h / 2, w / 2, min(h, w) / 4
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < rad ** 2] = r.integers(0, 256, 3)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def degrade(gt, seed, amp=12.0, blocky=1):
    r = np.random.default_rng(seed)
    h, w, _ = gt.shape
    n = r.normal(0, amp, ((h + blocky - 1) // blocky, (w + blocky - 1) // blocky, 3))
    n = np.repeat(np.repeat(n, blocky, 0), blocky, 1)[:h, :w]
    out = gt.astype(np.float64) * 0.9 + 10 + n
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def shadow_mask(h, w, seed):
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    m = ((yy - r.uniform(0, h)) ** 2 / (h / 3) ** 2 + (xx - r.uniform(0, w)) ** 2 / (w / 3) ** 2) < 1
    m |= (xx + yy) < min(h, w) / 3
    return (m * 255).astype(np.uint8)


def write_rgb(path, rgb):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.ascontiguousarray(rgb[..., ::-1]))


# ---------------------------------------------------------------- MATLAB imresize (bicubic)
def cubic(x):
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def contributions(in_len, out_len, scale, antialias=True):
    """MATLAB imresize.m contributions() as a dense (out_len, in_len) matrix."""
    if scale < 1 and antialias:
        h = lambda x: scale * cubic(scale * x)
        kw = 4.0 / scale
    else:
        h = cubic
        kw = 4.0
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kw / 2)
    p = int(np.ceil(kw)) + 2
    ind = left[:, None] + np.arange(p)[None, :]
    wts = h(u[:, None] - ind)
    wts = wts / wts.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    ind = aux[np.mod(ind - 1, len(aux)).astype(int)] - 1
    m = np.zeros((out_len, in_len))
    for i in range(out_len):
        for j in range(p):
            m[i, ind[i, j]] += wts[i, j]
    return m


def imresize_matlab(img, out_h, out_w, uint8=False):
    """img (H, W[, C]) float64 (or uint8 values when uint8=True: rounded after each pass)."""
    h, w = img.shape[:2]
    sh, sw = out_h / h, out_w / w
    x = img.astype(np.float64)
    order = [0, 1] if sh <= sw else [1, 0]  # MATLAB: sort(scale), smallest first (stable)
    for dim in order:
        if dim == 0:
            m = contributions(h, out_h, sh)
            x = np.tensordot(m, x, axes=([1], [0]))
        else:
            m = contributions(w, out_w, sw)
            x = np.moveaxis(np.tensordot(m, x, axes=([1], [1])), 0, 1)
        if uint8:
            x = np.clip(np.floor(x + 0.5), 0, 255)
    return x


# ---------------------------------------------------------------- protocol references
def y_matlab(rgb8):
    r, g, b = [rgb8[..., i].astype(np.float64) for i in range(3)]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    return np.floor(y + 0.5)   # uint8 result: round half away from zero (all values are positive)


def y_opencv(rgb8):
    return cv2.cvtColor(np.ascontiguousarray(rgb8[..., ::-1]), cv2.COLOR_BGR2YCrCb)[..., 0]


def ssim_matlab(a, b, channel=True):
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    if channel:
        return structural_similarity(a, b, channel_axis=2, **kw)
    return structural_similarity(a, b, **kw)


def crop(x, border):
    return x[border:x.shape[0] - border, border:x.shape[1] - border] if border > 0 else x


def score_rgb(p, g, border=0):
    p, g = crop(p, border), crop(g, border)
    return {"psnr": float(peak_signal_noise_ratio(g, p, data_range=255)), "ssim": float(ssim_matlab(g.astype(np.float64), p.astype(np.float64)))}


def score_y(p, g, border=0):
    yp, yg = crop(y_matlab(p), border), crop(y_matlab(g), border)
    return {"psnr": float(peak_signal_noise_ratio(yg, yp, data_range=255)), "ssim": float(ssim_matlab(yg, yp, channel=False))}


def score_raindrop(p, g, border=0):
    h, w = (p.shape[0] // 4) * 4, (p.shape[1] // 4) * 4
    yp, yg = crop(y_opencv(p[:h, :w]), border), crop(y_opencv(g[:h, :w]), border)
    return {"psnr": float(peak_signal_noise_ratio(yg, yp, data_range=255)),
            "ssim": float(structural_similarity(yg, yp, data_range=255))}


def lab_stats(p01, g01, shadow):
    dist = np.abs(rgb2lab(g01) - rgb2lab(p01)).sum(axis=2)
    s = {"all_sum": float(dist.sum()), "all_pixels": int(dist.size),
         "shadow_sum": float(dist[shadow].sum()), "shadow_pixels": int(shadow.sum()),
         "non_shadow_sum": float(dist[~shadow].sum()), "non_shadow_pixels": int((~shadow).sum())}
    return s


def score_istd(p, g, m, resize):
    if resize:
        p = imresize_matlab(p.astype(np.float64), 256, 256)
        g = imresize_matlab(g.astype(np.float64), 256, 256)
        m = imresize_matlab(m.astype(np.float64), 256, 256, uint8=True)
    else:
        p, g = p.astype(np.float64), g.astype(np.float64)
    shadow = m > 0
    r = {"psnr": float(peak_signal_noise_ratio(g, p, data_range=255)), "ssim": float(ssim_matlab(g, p))}
    r.update(lab_stats(p / 255.0, g / 255.0, shadow))
    return r


# ---------------------------------------------------------------- main
def main():
    pairs = []
    specs = [("a", 40, 48, 1), ("b", 29, 37, 1), ("c16", 33, 41, 1), ("big", 128, 276, 8)]
    for i, (name, h, w, blocky) in enumerate(specs):
        g = structured(h, w, 100 + i)
        p = degrade(g, 200 + i, blocky=blocky)
        m = shadow_mask(h, w, 300 + i)
        write_rgb(os.path.join(ROOT, "gt", name + ".png"), g)
        os.makedirs(os.path.join(ROOT, "mask"), exist_ok=True)
        cv2.imwrite(os.path.join(ROOT, "mask", name + ".png"), m)
        if name == "c16":
            # 16-bit prediction: fine detail below 8 bits, quantised as round(v / 257)
            p16 = np.clip(p.astype(np.float64) * 257 + rng.integers(-120, 121, p.shape), 0, 65535).astype(np.uint16)
            write_rgb(os.path.join(ROOT, "pred", name + ".png"), p16)
            p = np.clip(np.floor(p16.astype(np.float64) / 257 + 0.5), 0, 255).astype(np.uint8)
        else:
            write_rgb(os.path.join(ROOT, "pred", name + ".png"), p)
        pairs.append((name, p, g, m))

    gold = {"generator": "tools/make_metric_fixtures.py", "pairs": [n for n, *_ in pairs], "protocols": {}}
    for proto in ["rgb", "y", "raindrop", "istd", "istd-full"]:
        per = {}
        for name, p, g, m in pairs:
            if proto == "rgb": per[name] = score_rgb(p, g)
            elif proto == "y": per[name] = score_y(p, g)
            elif proto == "raindrop": per[name] = score_raindrop(p, g)
            elif proto == "istd": per[name] = score_istd(p, g, m, True)
            else: per[name] = score_istd(p, g, m, False)
        gold["protocols"][proto] = per
    gold["border4"] = {"rgb": {n: score_rgb(p, g, 4) for n, p, g, _ in pairs},
                       "y": {n: score_y(p, g, 4) for n, p, g, _ in pairs}}

    # colour conversions on pair 'a' (all pixels)
    _, pa, ga, _ = pairs[0]
    gold["ycrcb_y_a_gt"] = y_opencv(ga).astype(int).ravel().tolist()
    idx = rng.choice(ga.shape[0] * ga.shape[1], 64, replace=False)
    gold["lab_a_gt_index"] = sorted(int(i) for i in idx)
    gold["lab_a_gt"] = rgb2lab(ga / 255.0).reshape(-1, 3)[sorted(idx)].ravel().tolist()
    # extreme colours for LAB
    ext = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 10, 10], [1, 2, 3], [128, 64, 200]]], dtype=np.uint8)
    gold["lab_extremes_rgb"] = ext.ravel().tolist()
    gold["lab_extremes"] = rgb2lab(ext / 255.0).ravel().tolist()
    # imresize on pair 'a' gt, channel 0: downscale (antialiased), upscale, mixed, uint8 mask
    g0 = ga[..., 0].astype(np.float64)
    gold["resize_src_shape"] = list(g0.shape)
    gold["resize"] = {
        "17x20": imresize_matlab(g0, 17, 20).ravel().tolist(),
        "43x50": imresize_matlab(g0, 43, 50).ravel().tolist(),
        "13x61": imresize_matlab(g0, 13, 61).ravel().tolist(),
        "mask_23x19": imresize_matlab(pairs[0][3].astype(np.float64), 23, 19, uint8=True).ravel().tolist(),
    }
    def rounded(o):  # 12 significant digits keeps the file small and far below the tolerances
        if isinstance(o, float): return float(f"{o:.12g}")
        if isinstance(o, list): return [rounded(v) for v in o]
        if isinstance(o, dict): return {k: rounded(v) for k, v in o.items()}
        return o
    with open(os.path.join(ROOT, "golden.json"), "w") as f:
        json.dump(rounded(gold), f, separators=(",", ":"))
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(ROOT) for fn in fns)
    print(f"wrote {ROOT} ({total / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
