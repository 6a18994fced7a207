#!/usr/bin/python3
"""Independent re-implementation of recipes in shared/spec/degradations.md (rain, shadow)
and an independent camera-shake blur (held-out sets for the bundled models).

Written from the spec text only (not from src/MemoryNet/Data/Synthesis), to check
that `memorynet synth` produces data that looks like the published recipes.
Uses Debian's python3 (numpy, OpenCV, scikit-image).

  /usr/bin/python3 tools/independent_synth.py rain   --clean DIR --out DIR --count 64 --seed 5 --preview sheet.png
  /usr/bin/python3 tools/independent_synth.py shadow --clean DIR --out DIR --count 64 --seed 5 --preview sheet.png
  /usr/bin/python3 tools/independent_synth.py blur   --clean DIR --out DIR --count 64 --seed 5

Layout: rain, blur -> OUT/input, OUT/target; shadow -> OUT/train_A (shadow),
OUT/train_B (mask), OUT/train_C (shadow-free); OUT/manifest.jsonl.
Images are float RGB in [0,1] internally, written as 8-bit sRGB PNG.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


# ---------------------------------------------------------------- photos / crops
def load_photos(folder, size, short_factor=1.75):
    """Load every photo, resize so the short side is ~1.75*size (only downwards)."""
    photos = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith(EXTS):
            continue
        img = cv2.imread(os.path.join(folder, name), cv2.IMREAD_COLOR)
        if img is None:
            continue
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        h, w = img.shape[:2]
        target_short = short_factor * size
        scale = min(1.0, target_short / min(h, w))
        if scale < 1.0:
            img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        if min(img.shape[:2]) < size:
            print(f"skip {name}: smaller than {size} px after resizing", file=sys.stderr)
            continue
        photos.append((name, scale, img))
    if not photos:
        sys.exit(f"no usable photos in {folder}")
    return photos


def random_crop(rng, img, size):
    h, w = img.shape[:2]
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    return img[y:y + size, x:x + size].copy(), [x, y, size, size]


# ---------------------------------------------------------------- kernels
def splat(ker, x, y):
    """Adds a unit point at (x, y) to the square kernel bilinearly (parts outside are dropped)."""
    k = ker.shape[0]
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    for yy, xx, wgt in ((y0, x0, (1 - fx) * (1 - fy)), (y0, x0 + 1, fx * (1 - fy)),
                        (y0 + 1, x0, (1 - fx) * fy), (y0 + 1, x0 + 1, fx * fy)):
        if 0 <= yy < k and 0 <= xx < k:
            ker[yy, xx] += wgt


# ---------------------------------------------------------------- rain (Rain100L)
def line_kernel(length, angle_deg):
    """Anti-aliased line of `length` px through the centre, angle measured from
    vertical (positive = top leans right), normalised to sum 1."""
    k = int(np.ceil(length)) | 1
    k += 2
    ker = np.zeros((k, k), np.float32)
    c = (k - 1) / 2.0
    th = np.deg2rad(angle_deg)
    dx, dy = np.sin(th), -np.cos(th)          # image y grows downwards
    n = max(2, int(np.ceil(length * 4)))
    for t in np.linspace(-length / 2, length / 2, n):
        splat(ker, c + t * dx, c + t * dy)
    return ker / ker.sum()


def rain_layer(rng, h, w, density, length, angle_deg):
    """Spec recipe. Interpretation notes (the spec leaves these open):
    * t_w: white point of the first levels = the (1 - density/4) quantile, so the
      brightest quarter of surviving specks are saturated.
    * The spec's line kernel is normalised to sum 1, which divides an isolated speck
      by ~L; the second levels (73..158/255) would then erase almost every streak.
      Photoshop users auto-level between the two steps; we do the equivalent by
      multiplying the blurred layer by a gain L/4 before the second levels. The gain
      was picked (from L/2, L/3, L/4, L/6) so the median input-vs-target PSNR lands
      at the published Rain100L test-set figure (~26.9 dB), not to match memorynet.
    """
    N = rng.random((h, w), dtype=np.float32)
    N = cv2.GaussianBlur(N, (0, 0), 0.5, borderType=cv2.BORDER_REFLECT)
    t = float(np.quantile(N, 1.0 - density))
    tw = float(np.quantile(N, 1.0 - density / 4.0))
    S = np.clip((N - t) / max(tw - t, 1e-6), 0, 1)
    K = line_kernel(length, angle_deg)
    S = cv2.filter2D(S, -1, K, borderType=cv2.BORDER_REFLECT)
    S = S * (length / 4.0)
    S = np.clip((S - 73 / 255) / ((158 - 73) / 255), 0, 1)
    return S


def make_rain(rng, clean):
    h, w = clean.shape[:2]
    density = float(rng.uniform(0.005, 0.03))
    # spec: L 15-50 px for ~500 px images; our crops come from photos whose short
    # side is ~448 px, so scale to the crop's pixel grid by 448/500.
    length = float(rng.uniform(15, 50)) * (1.75 * 256 / 500)
    angle = float(rng.uniform(-30, 30))
    a = float(rng.uniform(0.7, 1.0))
    S = rain_layer(rng, h, w, density, length, angle)
    out = 1 - (1 - clean) * (1 - a * S[..., None])
    return out, None, dict(density=density, length_px=length, angle_deg=angle, opacity=a)


# ---------------------------------------------------------------- motion blur (camera shake)
def shake_kernel(rng, extent):
    """A camera-shake point-spread function: a random walk with inertia (velocity
    relaxes towards a random target direction, with occasional jerks), scaled so its
    bounding box spans about `extent` px, splatted bilinearly and normalised to sum 1."""
    steps = 400
    ang = rng.uniform(0, 2 * np.pi)
    vel = np.array([np.cos(ang), np.sin(ang)])
    pos = np.zeros(2)
    pts = []
    for _ in range(steps):
        vel = 0.92 * vel + 0.25 * rng.standard_normal(2)
        if rng.random() < 0.01:
            vel = -vel + rng.standard_normal(2)
        pos = pos + vel / (np.linalg.norm(vel) + 1e-9)
        pts.append(pos.copy())
    pts = np.array(pts)
    pts -= pts.mean(axis=0)
    span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]), 1e-6)
    pts *= extent / span
    k = int(np.ceil(extent)) + 3
    k += 1 - k % 2
    ker = np.zeros((k, k), np.float32)
    c = (k - 1) / 2
    for x, y in pts + c:
        splat(ker, x, y)
    return ker / ker.sum()


def make_blur(rng, clean):
    extent = float(rng.uniform(4, 20))
    K = shake_kernel(rng, extent)
    out = np.stack([cv2.filter2D(clean[..., c], -1, K, borderType=cv2.BORDER_REFLECT) for c in range(3)], -1)
    out = np.clip(out + rng.normal(0, 0.01, out.shape).astype(np.float32), 0, 1)
    return out, None, dict(extent_px=extent, kernel=int(K.shape[0]), noise_sigma=0.01)


# ---------------------------------------------------------------- shadow (SynShadow)
def sample_darkening(rng):
    while True:
        x1 = rng.uniform(0, 0.25)
        y2 = rng.uniform(0.1, 0.9)
        a = y2 / (1 - x1)
        if a < 1:
            break
    x1r = x1 + rng.normal(0.05, 0.025)
    x1g = x1
    x1b = x1 - rng.normal(0.05, 0.025)
    return a, np.array([x1r, x1g, x1b], np.float32), y2


def polygon_matte(rng, h, w):
    m = np.zeros((h, w), np.uint8)
    n = int(rng.integers(1, 4))
    for _ in range(n):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.15, 0.45) * min(h, w)
        k = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = r * rng.uniform(0.4, 1.0, k)
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
        cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m.astype(np.float32)


def noise_matte(rng, h, w, coverage):
    small = rng.standard_normal((max(2, h // 32), max(2, w // 32))).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), 8)
    thr = np.quantile(big, 1 - coverage)
    return (big > thr).astype(np.float32)


def make_shadow(rng, clean):
    h, w = clean.shape[:2]
    # hard matte covering 5-40 % of the image
    for _ in range(50):
        kind = "polygons" if rng.random() < 0.5 else "noise"
        if kind == "polygons":
            hard = polygon_matte(rng, h, w)
        else:
            hard = noise_matte(rng, h, w, rng.uniform(0.05, 0.40))
        cov = float(hard.mean())
        if 0.05 <= cov <= 0.40:
            break
    sigma = float(rng.uniform(1, 15))
    m = cv2.GaussianBlur(hard, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    a, x1, y2 = sample_darkening(rng)
    D = np.clip(a * (clean - x1[None, None, :]), 0, 1)
    out = m[..., None] * D + (1 - m[..., None]) * clean
    mask = (m > 0.5).astype(np.float32)
    return out, mask, dict(a=float(a), x1_r=float(x1[0]), x1_g=float(x1[1]), x1_b=float(x1[2]),
                           y2=float(y2), matte=kind, coverage=cov, penumbra_sigma=sigma)


# ---------------------------------------------------------------- I/O
def to8(img):
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def save_rgb(path, img):
    cv2.imwrite(path, cv2.cvtColor(to8(img), cv2.COLOR_RGB2BGR))


def psnr(a, b):
    mse = float(np.mean((to8(a).astype(np.float64) - to8(b).astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def contact_sheet(pairs, path, cols=2, thumb=128, pad=4):
    """pairs: list of (input, target[, mask]) float images; grid of input|target(|mask)."""
    rows = (len(pairs) + cols - 1) // cols
    per = len(pairs[0])
    cw = per * thumb + (per - 1) * pad
    W = cols * cw + (cols + 1) * 3 * pad
    H = rows * (thumb + 2 * pad) + 2 * pad
    sheet = np.full((H, W, 3), 255, np.uint8)
    for i in range(len(pairs)):
        r, c = divmod(i, cols)
        y = 2 * pad + r * (thumb + 2 * pad)
        x = 3 * pad + c * (cw + 3 * pad)
        for j, im in enumerate(pairs[i]):
            if im.ndim == 2:
                im = np.repeat(im[..., None], 3, 2)
            t = cv2.resize(to8(im), (thumb, thumb), interpolation=cv2.INTER_AREA)
            xx = x + j * (thumb + pad)
            sheet[y:y + thumb, xx:xx + thumb] = t
    cv2.imwrite(path, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


# ---------------------------------------------------------------- comparison
def _read_set(folder):
    recs = [json.loads(l) for l in open(os.path.join(folder, "manifest.jsonl"))]
    for r in recs:
        inp = cv2.cvtColor(cv2.imread(os.path.join(folder, r["input"])), cv2.COLOR_BGR2RGB)
        tgt = cv2.cvtColor(cv2.imread(os.path.join(folder, r["target"])), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(os.path.join(folder, r["mask"]), cv2.IMREAD_GRAYSCALE) if r.get("mask") else None
        yield r, inp.astype(np.float64), tgt.astype(np.float64), mask


def _psnr8(a, b):
    mse = np.mean((a - b) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _mmm(v, fmt="{:.1f}"):
    v = np.asarray(v, float)
    return " / ".join(fmt.format(x) for x in (v.min(), np.median(v), v.max()))


def rain_stats(folder):
    from skimage.measure import label, regionprops
    ps, changed, bright, darkened, lens, count, wid, tilt, err = [], [], [], [], [], [], [], [], []
    for r, inp, tgt, _ in _read_set(folder):
        ps.append(_psnr8(inp, tgt))
        d = inp - tgt                                   # rain adds light
        dg = d.mean(2)
        ch = np.abs(d).max(2) >= 3
        changed.append(ch.mean())
        darkened.append((d.min(2) <= -3).mean())
        if ch.any():
            bright.append(dg[ch].mean())
        # dominant streak direction of the whole rain layer: structure tensor
        gy, gx = np.gradient(cv2.GaussianBlur(dg, (0, 0), 1))
        w_, v_ = np.linalg.eigh(np.array([[(gx * gx).sum(), (gx * gy).sum()],
                                          [(gx * gy).sum(), (gy * gy).sum()]]))
        sx, sy = -v_[1, 1], v_[0, 1]              # streak direction = perpendicular to gradient
        if sy > 0:
            sx, sy = -sx, -sy
        t_ = np.degrees(np.arctan2(sx, -sy))      # from vertical, + = top leans right
        tilt.append(t_)
        if "angle_deg" in r.get("params", {}):
            err.append(abs(t_ - r["params"]["angle_deg"]))
        # streaks = connected components of the brightening (> 8 levels)
        lab = label(dg > 8, connectivity=2)
        props = [p for p in regionprops(lab) if p.area >= 6]
        count.append(len(props))
        for p in props:
            if p.major_axis_length < 4:
                continue
            lens.append(p.major_axis_length)
            wid.append(p.minor_axis_length)
    return {
        "pairs": len(ps),
        "input-vs-target PSNR dB (min / median / max)": _mmm(ps),
        "changed pixels, % (abs diff >= 3/255; min / median / max)": _mmm(np.array(changed) * 100),
        "pixels darkened by >= 3/255, % (should be 0)": "{:.3f}".format(100 * np.mean(darkened)),
        "mean brightening of changed pixels, /255 (min / median / max)": _mmm(bright),
        "streak blobs per image (> 8/255; min / median / max)": _mmm(count, "{:.0f}"),
        "streak length px, major axis (p10 / median / p90)": " / ".join(
            "{:.1f}".format(x) for x in np.percentile(lens, [10, 50, 90])),
        "streak width px, minor axis (median)": "{:.1f}".format(np.median(wid)),
        "abs streak tilt from vertical, deg, structure tensor (median / max)": "{:.1f} / {:.1f}".format(
            np.median(np.abs(tilt)), np.max(np.abs(tilt))),
        "measured tilt vs manifest angle_deg, mean abs error deg": "{:.1f}".format(np.mean(err)) if err else "n/a",
    }


def shadow_stats(folder):
    ps, cov, changed, dk, rel, out_w, outside = [], [], [], [], [], [], []
    for r, inp, tgt, mask in _read_set(folder):
        ps.append(_psnr8(inp, tgt))
        m = mask > 127
        cov.append(m.mean())
        ch = np.abs(inp - tgt).max(2) >= 3
        changed.append(ch.mean())
        if m.any():
            dk.append((tgt[m] - inp[m]).mean(0))                         # absolute darkening per channel
            rel.append(1 - inp[m].sum(0) / np.maximum(tgt[m].sum(0), 1))  # relative darkening
        # penumbra outside the binary mask: changed pixels outside / mask perimeter
        mu8 = m.astype(np.uint8)
        cnts, _ = cv2.findContours(mu8, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        per = sum(cv2.arcLength(c, True) for c in cnts)
        if per > 0:
            out_w.append((ch & ~m).sum() / per)
        # pixels darkened that are far (> 40 px) from the mask: should be none
        far = cv2.distanceTransform((1 - mu8), cv2.DIST_L2, 5) > 40
        outside.append((ch & far).mean())
    dk, rel = np.array(dk), np.array(rel)
    ratio_br = dk[:, 2] / np.maximum(dk[:, 0], 1e-6)
    return {
        "pairs": len(ps),
        "input-vs-target PSNR dB (min / median / max)": _mmm(ps),
        "mask coverage, % (min / median / max)": _mmm(np.array(cov) * 100),
        "changed pixels, % (abs diff >= 3/255; min / median / max)": _mmm(np.array(changed) * 100),
        "mean darkening inside mask, /255, R / G / B": " / ".join("{:.1f}".format(x) for x in dk.mean(0)),
        "relative darkening inside mask, %, R / G / B": " / ".join("{:.1f}".format(100 * x) for x in rel.mean(0)),
        "blue / red darkening ratio (min / median / max over pairs)": _mmm(ratio_br, "{:.2f}"),
        "pairs with blue darkened less than red, %": "{:.0f}".format(100 * np.mean(ratio_br < 1)),
        "changed band outside mask, px = changed-outside / perimeter (p10 / median / p90)": " / ".join(
            "{:.1f}".format(x) for x in np.percentile(out_w, [10, 50, 90])),
        "changed pixels > 40 px from the mask, % (should be 0)": "{:.3f}".format(100 * np.mean(outside)),
    }


def side_by_side(left_png, right_png, out_png, left_label, right_label, limit=400_000):
    """Both sheets at the same height (no resampling when they already match), a label
    band on top; if the PNG is over `limit` bytes, a 256-colour palette (libimagequant
    with dithering where Pillow has it: no visible banding in skies)."""
    from PIL import Image, ImageDraw, features
    ims = [Image.open(p).convert("RGB") for p in (left_png, right_png)]
    height = max(im.height for im in ims)
    ims = [im if im.height == height else im.resize((round(im.width * height / im.height), height), Image.LANCZOS)
           for im in ims]
    band, gap = 28, 16
    canvas = Image.new("RGB", (ims[0].width + ims[1].width + gap, height + band), "white")
    draw = ImageDraw.Draw(canvas)
    x = 0
    for im, lab in zip(ims, (left_label, right_label)):
        canvas.paste(im, (x, band))
        draw.text((x + 6, 8), lab, fill="black")
        x += im.width + gap
    canvas.save(out_png, optimize=True)
    if os.path.getsize(out_png) > limit:
        method = Image.Quantize.LIBIMAGEQUANT if features.check_feature("libimagequant") else Image.Quantize.MAXCOVERAGE
        canvas.quantize(256, method=method, dither=Image.Dither.FLOYDSTEINBERG).save(out_png, optimize=True)
    return os.path.getsize(out_png)


def compare_main(argv):
    ap = argparse.ArgumentParser(prog="independent_synth.py compare")
    ap.add_argument("kind", choices=["rain", "shadow"])
    ap.add_argument("--ours", required=True, help="set written by memorynet synth")
    ap.add_argument("--indep", required=True, help="set written by this script")
    ap.add_argument("--ours-sheet")
    ap.add_argument("--indep-sheet")
    ap.add_argument("--sheet-out")
    a = ap.parse_args(argv)
    f = rain_stats if a.kind == "rain" else shadow_stats
    so, si = f(a.ours), f(a.indep)
    print(f"| {a.kind} | memorynet synth | independent_synth.py |")
    print("|---|---|---|")
    for k in so:
        print(f"| {k} | {so[k]} | {si[k]} |")
    if a.sheet_out:
        n = side_by_side(a.ours_sheet, a.indep_sheet, a.sheet_out,
                         f"LEFT: memorynet synth --kind {a.kind} (ours)",
                         f"RIGHT: tools/independent_synth.py {a.kind} (independent)")
        print(f"\n{a.sheet_out}: {n} bytes")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        return compare_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["rain", "shadow", "blur"])
    ap.add_argument("--clean", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preview", help="contact sheet PNG of the first 8 pairs")
    ap.add_argument("--one-each", action="store_true",
                    help="pair i uses photo i in name order (count = number of photos); with a folder "
                         "of size x size crops, e.g. another tool's targets, this degrades exactly those crops")
    args = ap.parse_args()

    photos = load_photos(args.clean, args.size)
    if args.one_each:
        args.count = len(photos)
    if args.kind in ("rain", "blur"):
        dirs = dict(input="input", target="target", mask=None)
        fn = make_rain if args.kind == "rain" else make_blur
    else:
        dirs = dict(input="train_A", target="train_C", mask="train_B")
        fn = make_shadow
    for d in dirs.values():
        if d:
            os.makedirs(os.path.join(args.out, d), exist_ok=True)

    root = np.random.SeedSequence(args.seed)
    children = root.spawn(args.count)
    sheet = []
    with open(os.path.join(args.out, "manifest.jsonl"), "w") as man:
        for i, ss in enumerate(children):
            rng = np.random.default_rng(ss)
            pick = int(rng.integers(len(photos)))
            name, scale, img = photos[i if args.one_each else pick]
            clean, crop = random_crop(rng, img, args.size)
            deg, mask, params = fn(rng, clean)
            fname = f"{i:05d}.png"
            save_rgb(os.path.join(args.out, dirs["input"], fname), deg)
            save_rgb(os.path.join(args.out, dirs["target"], fname), clean)
            rec = dict(index=i, kind=args.kind, source=name, scale=scale, crop=crop,
                       input=f"{dirs['input']}/{fname}", target=f"{dirs['target']}/{fname}",
                       psnr=round(psnr(deg, clean), 3), params=params)
            if mask is not None:
                cv2.imwrite(os.path.join(args.out, dirs["mask"], fname), to8(mask))
                rec["mask"] = f"{dirs['mask']}/{fname}"
            man.write(json.dumps(rec) + "\n")
            if len(sheet) < 8:
                sheet.append((deg, clean) if mask is None else (deg, clean, mask))
    if args.preview:
        contact_sheet(sheet, args.preview)
        print(f"contact sheet: {args.preview}")
    print(f"wrote {args.count} {args.kind} pairs to {args.out}")


if __name__ == "__main__":
    main()
