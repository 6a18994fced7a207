#!/usr/bin/python3
"""Times the OFFICIAL PyTorch MemoryNet/MPRNet forward (inference) or one optimiser step (--train).

Run by hand or from bench/compare.sh with Debian's python3-torch (/usr/bin/python3) and the fetched official
code (tools/parity_common.py finds it; --ref-memorynet/--ref-mprnet override). Prints one JSON line:
{"impl": "official", "arch", "size", "batch", "threads", "seconds_per_image" | "seconds_per_step", "runs": [...]}
"""
import argparse, json, os, statistics, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import torch  # noqa: E402
import parity_common as pc  # noqa: E402

PRESETS = {
    "memorynet": ("memorynet", dict(n_feat=40, scale_unetfeats=20, scale_orsnetfeats=16, num_cab=8)),
    "memorynet-s": ("memorynet", dict(n_feat=16, scale_unetfeats=8, scale_orsnetfeats=8, num_cab=2)),
    "mprnet-derain": ("Deraining", dict(n_feat=40, scale_unetfeats=20, scale_orsnetfeats=16, num_cab=8)),
    "mprnet-deblur": ("Deblurring", dict(n_feat=96, scale_unetfeats=48, scale_orsnetfeats=32, num_cab=8)),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="memorynet", choices=sorted(PRESETS))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--train", action="store_true", help="time one Adam step on Charbonnier loss of the 3 stages")
    ap.add_argument("--ref-memorynet", default=pc.DEFAULT_MEMORYNET_REF)
    ap.add_argument("--ref-mprnet", default=pc.DEFAULT_MPRNET_REF)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1234)
    kind, cfg = PRESETS[a.arch]
    code = pc.OfficialCode(a.ref_memorynet, a.ref_mprnet, need_memorynet=kind == "memorynet",
                           mprnet_tasks=() if kind == "memorynet" else (kind,))
    model = (code.MemoryNet(**cfg) if kind == "memorynet" else code.mprnet[kind](**cfg))
    x = torch.rand(a.batch, 3, a.size, a.size)
    y = torch.rand(a.batch, 3, a.size, a.size)
    times = []
    if a.train:
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8)

        def step():
            out = model(x)
            loss = sum(torch.sqrt((o - y) ** 2 + 1e-6).mean() for o in out)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    with pc.quiet():
        step()  # warm-up
        for _ in range(a.iters):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    key = "seconds_per_step" if a.train else "seconds_per_image"
    med = statistics.median(times)
    print(json.dumps({"impl": "official", "torch": torch.__version__, "arch": a.arch, "size": a.size, "batch": a.batch,
                      "threads": a.threads, key: round(med if a.train else med / a.batch, 4),
                      "runs": [round(t, 4) for t in times]}))


if __name__ == "__main__":
    main()
