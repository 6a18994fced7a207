#!/usr/bin/python3
"""Generate the golden parity fixtures for the C# (TorchSharp) port from the OFFICIAL PyTorch code.

Run by hand (not in CI), from the repository root:

    /usr/bin/python3 tools/make_parity_fixtures.py            # writes tests/MemoryNet.Tests/Fixtures/Parity/
    /usr/bin/python3 tools/make_parity_fixtures.py --bench    # also times a default MemoryNet 1x3x256x256 forward

Requirements:
  * Debian's python3-torch (1.13) + python3-numpy, python3-opencv: use /usr/bin/python3, not a pyenv python.
  * The fetched official code (never committed here): zhangbaijin/MemoryNet and swz30/MPRNet, as bare git
    mirrors (default /work/.mirror/zhangbaijin+MemoryNet/repo and /work/.mirror/swz30+MPRNet/repo) or plain
    checkouts; override with --ref-memorynet DIR_OR_MIRROR / --ref-mprnet DIR_OR_MIRROR. The files are read at
    run time (`git show HEAD:...`), written to a temp dir with their trailing test code commented out, and
    imported from there (see tools/parity_common.py).

Shapes: tiny MemoryNet/MPRNet input 1x3x32x48, odd input 1x3x45x61, default MemoryNet input 1x3x32x40.
Tiny config n_feat=4, scale_unetfeats=2, scale_orsnetfeats=2, num_cab=1; default 40/20/16/8. The single shared
PReLU is set to a non-default value (~0.11); everything else is the constructors' default init under
torch.manual_seed(seed). Seeds are in SEEDS below and in manifest.json.

Outputs (all float tensors float32, safetensors files written by tools/parity_common.write_safetensors):
  tiny_memorynet_wrapped.pth        {'epoch': 3, 'state_dict': {'module.'+k: v}, 'optimizer': Adam state after 1 step}
  tiny_memory_cudatag.pth           {'epoch': 3, 'state_dict': {'module.memory.*' (5 tensors)}}, storages tagged
                                    'cuda:0' like a checkpoint saved from GPU training (zip)
  tiny_memory_cudatag_legacy.pth    the same in the legacy (non-zip) format
  tiny_memorynet_plain.pth          plain state_dict (zip format)
  tiny_memorynet_legacy.pth         plain state_dict, legacy (non-zip) torch.save format
  tiny_memorynet_io.safetensors     input, stage3, stage2, stage1, mem_sem, mem_ins, mem_part (+ dbg_* memory internals)
  tiny_memorynet_odd_io.safetensors input (1x3x45x61), output (demo.py way: pad/run/[0]/clamp/crop)
  default_memorynet_int8.safetensors  <key>.q (I8) + <key>.scale (F32 [1]) for every state-dict key
  default_memorynet_io.safetensors  input, stage3, stage2, stage1, mem_sem, mem_ins, mem_part (dequantised weights)
  tiny_mprnet_derain_plain.pth      Deraining MPRNet tiny config, plain state_dict
  tiny_mprnet_derain_io.safetensors input, stage3, stage2, stage1
  manifest.json                     sizes, sha256, tensor names/shapes, seeds, configs, provenance
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_common as pc  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "MemoryNet.Tests", "Fixtures", "Parity")

SEEDS = {
    "tiny_memorynet_model": 1234,
    "tiny_memorynet_input": 1001,
    "tiny_memorynet_odd_input": 1002,
    "default_memorynet_model": 2024,
    "default_memorynet_input": 1003,
    "tiny_mprnet_model": 4321,
    "tiny_mprnet_input": 1004,
    "optimizer_step_target": 77,
    "prelu": 99,
}

# The "tiny" nets use the smallest config the architecture allows (reduction=4 needs n_feat >= 4): with
# n_feat=8/4/4/2 the tiny .pth files alone (plain, legacy, wrapped with Adam state, MPRNet) come to ~3.2 MB,
# on top of the 3.7 MB int8 default-config weights.
TINY_CFG = dict(n_feat=4, scale_unetfeats=2, scale_orsnetfeats=2, num_cab=1)
DEFAULT_CFG = dict(n_feat=40, scale_unetfeats=20, scale_orsnetfeats=16, num_cab=8)
FIXED_CFG = dict(in_c=3, out_c=3, kernel_size=3, reduction=4, bias=False)
MEMORY_CFG = dict(ptt_num=2, num_cls=10, part_num=5, fea_dim=3, shrink_thres=0.0025)

TINY_SHAPE = (1, 3, 32, 48)
ODD_SHAPE = (1, 3, 45, 61)
DEFAULT_SHAPE = (1, 3, 32, 40)
MPR_SHAPE = (1, 3, 32, 48)


def rand_input(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float32)


def prelu_value(offset):
    g = torch.Generator().manual_seed(SEEDS["prelu"] + offset)
    return float(torch.tensor(0.1, dtype=torch.float32) + 0.1 * torch.rand(1, generator=g)[0])


def shared_prelu(model):
    prelus = {id(m): m for m in model.modules() if isinstance(m, nn.PReLU)}
    assert len(prelus) == 1, f"expected one shared PReLU, found {len(prelus)}"
    return next(iter(prelus.values()))


def perturb_prelu(model, value):
    p = shared_prelu(model)
    with torch.no_grad():
        p.weight.fill_(value)
    return float(p.weight.item())


def np32(t):
    return t.detach().cpu().contiguous().numpy().astype(np.float32)


def run_outputs(model, x):
    model.eval()
    with torch.no_grad(), pc.quiet():
        outs = model(x)
    return [np32(o) for o in outs]


def memory_outputs(model, x):
    with torch.no_grad():
        sem, ins, part = model.memory(x)
        unit = model.memory.memory
        dbg = OrderedDict(dbg_part_ins_att=np32(unit.part_ins_att), dbg_sem_att=np32(unit.sem_att))
    return np32(sem), np32(ins), np32(part), dbg


def fresh_sd(model):
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())


def adam_state_after_one_step(model, x):
    """Adam (as in the official train.py: lr 2e-4, betas (0.9, 0.999), eps 1e-8, with a cosine
    scheduler attached so param_groups carry 'initial_lr') after one step on a copy of the model."""
    m = copy.deepcopy(model)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8)
    torch.optim.lr_scheduler.CosineAnnealingLR(opt, 247, eta_min=1e-6)
    g = torch.Generator().manual_seed(SEEDS["optimizer_step_target"])
    target = torch.rand(x.shape, generator=g)
    with pc.quiet():
        outs = m(x)
    eps = 1e-3
    loss = sum(torch.mean(torch.sqrt((o - target) ** 2 + eps * eps)) for o in outs)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return opt.state_dict()


class _CudaTag:
    """Temporarily make torch.save tag every storage as 'cuda:0' (what a GPU-trained checkpoint has)."""

    def __enter__(self):
        import torch.serialization as ser
        self._orig = ser.location_tag
        ser.location_tag = lambda storage: "cuda:0"

    def __exit__(self, *a):
        import torch.serialization as ser
        ser.location_tag = self._orig


def quantise_int8(t):
    w = t.detach().cpu().numpy().astype(np.float32)
    maxabs = np.float32(np.max(np.abs(w))) if w.size else np.float32(0)
    scale = np.float32(maxabs / np.float32(127.0)) if maxabs > 0 else np.float32(1.0)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    deq = (q.astype(np.float32) * scale).astype(np.float32)  # float32 * float32, one rounding
    return q, scale, deq


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref-memorynet", default=pc.DEFAULT_MEMORYNET_REF,
                    help="zhangbaijin/MemoryNet checkout dir or git (bare) mirror")
    ap.add_argument("--ref-mprnet", default=pc.DEFAULT_MPRNET_REF, help="swz30/MPRNet checkout dir or git mirror")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    ap.add_argument("--bench", action="store_true",
                    help="time a default MemoryNet 1x3x256x256 forward (median of 5 after 1 warm-up)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    off = pc.OfficialCode(args.ref_memorynet, args.ref_mprnet, mprnet_tasks=("Deraining",), verbose=True)
    MemoryNet, MPRNetDerain = off.MemoryNet, off.mprnet["Deraining"]

    common_meta = {
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "generator": "tools/make_parity_fixtures.py",
        "official_memorynet_commit": off.provenance["MemoryNet/MemoryNet.py"]["commit"],
        "official_mprnet_commit": off.provenance["MPRNet/Deraining/MPRNet.py"]["commit"],
        "memory_module": json.dumps(MEMORY_CFG),
    }
    manifest = OrderedDict(common=common_meta, seeds=SEEDS, provenance=off.provenance, files=OrderedDict())

    def out(name):
        return os.path.join(args.out, name)

    def save_st(name, tensors, meta, list_tensors=True):
        pc.write_safetensors(out(name), tensors, meta)
        back, _ = pc.read_safetensors(out(name))
        for k, v in tensors.items():
            assert back[k].dtype == v.dtype and np.array_equal(back[k], v), k
        manifest["files"][name] = OrderedDict(
            tensors=OrderedDict((k, {"dtype": str(v.dtype), "shape": list(v.shape)}) for k, v in tensors.items())
            if list_tensors else f"{len(tensors)} tensors: <state-dict key>.q (int8), <state-dict key>.scale (float32 [1])",
            metadata=meta)

    def check_loads(path, cfg_model_factory, ref_sd, x, ref_out):
        sd = pc.load_state_dict_any(path)
        m = cfg_model_factory()
        m.load_state_dict(sd, strict=True)
        for k, v in ref_sd.items():
            assert torch.equal(m.state_dict()[k], v), (path, k)
        got = run_outputs(m, x)
        for a, b in zip(got, ref_out):
            assert np.array_equal(a, b), f"{path}: reloaded model output differs"

    # ------------------------------------------------------------------ tiny MemoryNet
    tiny_factory = lambda: MemoryNet(**TINY_CFG)  # noqa: E731
    torch.manual_seed(SEEDS["tiny_memorynet_model"])
    tiny = tiny_factory().eval()
    tiny_prelu = perturb_prelu(tiny, prelu_value(0))
    tiny_sd = fresh_sd(tiny)
    x = rand_input(TINY_SHAPE, SEEDS["tiny_memorynet_input"])
    tiny_out = run_outputs(tiny, x)
    sem, ins, part, dbg = memory_outputs(tiny, x)

    opt_sd = adam_state_after_one_step(tiny, x)
    wrapped_sd = nn.DataParallel(tiny).state_dict()  # CPU: plain wrapper, gives 'module.' keys + _metadata
    assert list(wrapped_sd.keys()) == ["module." + k for k in tiny_sd.keys()]
    torch.save({"epoch": 3, "state_dict": wrapped_sd, "optimizer": opt_sd}, out("tiny_memorynet_wrapped.pth"))
    # GPU-trained checkpoints carry 'cuda:0' storage locations; a small subset (the memory module's 5 tensors)
    # saved that way, zip and legacy, to exercise the loader's location handling cheaply.
    mem_subset = OrderedDict((k, v) for k, v in wrapped_sd.items() if k.startswith("module.memory."))
    with _CudaTag():
        torch.save({"epoch": 3, "state_dict": mem_subset}, out("tiny_memory_cudatag.pth"))
        torch.save({"epoch": 3, "state_dict": mem_subset}, out("tiny_memory_cudatag_legacy.pth"),
                   _use_new_zipfile_serialization=False)
    for f in ("tiny_memory_cudatag.pth", "tiny_memory_cudatag_legacy.pth"):
        back = pc.load_state_dict_any(out(f))
        assert list(back) == [k[7:] for k in mem_subset] and all(torch.equal(back[k], tiny_sd[k]) for k in back), f
        manifest["files"][f] = OrderedDict(
            keys=list(back), layout="{'epoch': 3, 'state_dict': {'module.memory.*'}} with storages tagged 'cuda:0'"
            + (", legacy non-zip" if "legacy" in f else ", zip"), same_values_as="tiny_memorynet_plain.pth")
    torch.save(tiny.state_dict(), out("tiny_memorynet_plain.pth"))
    torch.save(tiny.state_dict(), out("tiny_memorynet_legacy.pth"), _use_new_zipfile_serialization=False)
    assert zipfile.is_zipfile(out("tiny_memorynet_wrapped.pth")) and zipfile.is_zipfile(out("tiny_memorynet_plain.pth"))
    assert not zipfile.is_zipfile(out("tiny_memorynet_legacy.pth"))
    for f in ("tiny_memorynet_wrapped.pth", "tiny_memorynet_plain.pth", "tiny_memorynet_legacy.pth"):
        check_loads(out(f), tiny_factory, tiny_sd, x, tiny_out)
    ck = torch.load(out("tiny_memorynet_wrapped.pth"), map_location="cpu")
    assert ck["epoch"] == 3 and len(ck["optimizer"]["state"]) == len(list(tiny.parameters()))
    for f in ("tiny_memorynet_wrapped.pth", "tiny_memorynet_plain.pth", "tiny_memorynet_legacy.pth"):
        manifest["files"][f] = OrderedDict(
            keys=len(tiny_sd), config=dict(TINY_CFG), prelu=tiny_prelu,
            seed=SEEDS["tiny_memorynet_model"],
            layout={"tiny_memorynet_wrapped.pth": "{'epoch': 3, 'state_dict': {'module.'+k}, 'optimizer': Adam}",
                    "tiny_memorynet_plain.pth": "plain state_dict, zip",
                    "tiny_memorynet_legacy.pth": "plain state_dict, legacy non-zip"}[f])

    tiny_meta = dict(common_meta, arch="MemoryNet", **{k: str(v) for k, v in {**FIXED_CFG, **TINY_CFG}.items()},
                     prelu=repr(tiny_prelu), model_seed=SEEDS["tiny_memorynet_model"],
                     input_seed=SEEDS["tiny_memorynet_input"], weights="tiny_memorynet_plain.pth",
                     outputs="model(input) in eval/no_grad = [stage3, stage2, stage1]; mem_* = model.memory(input)"
                             " = (sem, ins, part); dbg_* = MemoryUnit.part_ins_att [20,3], sem_att [10,3]")
    save_st("tiny_memorynet_io.safetensors", OrderedDict(
        input=np32(x), stage3=tiny_out[0], stage2=tiny_out[1], stage1=tiny_out[2],
        mem_sem=sem, mem_ins=ins, mem_part=part, **dbg), tiny_meta)

    # odd-size input, demo.py way
    x_odd = rand_input(ODD_SHAPE, SEEDS["tiny_memorynet_odd_input"])
    y_odd = pc.demo_restore(tiny, x_odd)
    save_st("tiny_memorynet_odd_io.safetensors", OrderedDict(
        input=np32(x_odd), output=np32(y_odd)),
        dict(tiny_meta, input_seed=SEEDS["tiny_memorynet_odd_input"],
             outputs="demo.py: reflect-pad bottom/right to multiple of 8 (only if needed) -> model -> [0] -> "
                     "clamp(0,1) -> crop [:h,:w]"))

    # ------------------------------------------------------------------ default MemoryNet, int8 weights
    torch.manual_seed(SEEDS["default_memorynet_model"])
    dflt = MemoryNet(**DEFAULT_CFG).eval()
    dflt_prelu_requested = perturb_prelu(dflt, prelu_value(1))
    q_tensors = OrderedDict()
    deq_sd = OrderedDict()
    for k, v in dflt.state_dict().items():
        assert v.dtype == torch.float32, k
        q, scale, deq = quantise_int8(v)
        q_tensors[k + ".q"] = q
        q_tensors[k + ".scale"] = np.array([scale], dtype=np.float32)
        deq_sd[k] = torch.from_numpy(deq)
    dflt.load_state_dict(deq_sd, strict=True)
    for k, v in dflt.state_dict().items():
        assert torch.equal(v, deq_sd[k]), k
    n_prelu_keys = sum(1 for k in deq_sd if k.endswith("body.1.weight"))
    dflt_prelu = float(shared_prelu(dflt).weight.item())
    xd = rand_input(DEFAULT_SHAPE, SEEDS["default_memorynet_input"])
    d_out = run_outputs(dflt, xd)
    dsem, dins, dpart, ddbg = memory_outputs(dflt, xd)
    dmeta = dict(common_meta, arch="MemoryNet", **{k: str(v) for k, v in {**FIXED_CFG, **DEFAULT_CFG}.items()},
                 prelu=repr(dflt_prelu), model_seed=SEEDS["default_memorynet_model"])
    save_st("default_memorynet_int8.safetensors", q_tensors, dict(
        dmeta, prelu_before_quantisation=repr(dflt_prelu_requested), shared_prelu_keys=str(n_prelu_keys),
        quantisation="per tensor: scale=float32(max|w|)/127 (1.0 if all zero), q=clip(rint(w/scale),-127,127) "
                     "int8; weight = float32(q) * scale computed in float32"), list_tensors=False)
    save_st("default_memorynet_io.safetensors", OrderedDict(
        input=np32(xd), stage3=d_out[0], stage2=d_out[1], stage1=d_out[2],
        mem_sem=dsem, mem_ins=dins, mem_part=dpart, **ddbg),
        dict(dmeta, input_seed=SEEDS["default_memorynet_input"], weights="default_memorynet_int8.safetensors "
             "(dequantised)", outputs=tiny_meta["outputs"]))

    # ------------------------------------------------------------------ tiny MPRNet (Deraining)
    mpr_factory = lambda: MPRNetDerain(**TINY_CFG)  # noqa: E731
    torch.manual_seed(SEEDS["tiny_mprnet_model"])
    mpr = mpr_factory().eval()
    mpr_prelu = perturb_prelu(mpr, prelu_value(2))
    mpr_sd = fresh_sd(mpr)
    torch.save(mpr.state_dict(), out("tiny_mprnet_derain_plain.pth"))
    xm = rand_input(MPR_SHAPE, SEEDS["tiny_mprnet_input"])
    m_out = run_outputs(mpr, xm)
    check_loads(out("tiny_mprnet_derain_plain.pth"), mpr_factory, mpr_sd, xm, m_out)
    manifest["files"]["tiny_mprnet_derain_plain.pth"] = OrderedDict(
        keys=len(mpr_sd), config=dict(TINY_CFG), prelu=mpr_prelu, seed=SEEDS["tiny_mprnet_model"],
        layout="plain state_dict, zip")
    save_st("tiny_mprnet_derain_io.safetensors", OrderedDict(
        input=np32(xm), stage3=m_out[0], stage2=m_out[1], stage1=m_out[2]),
        dict(common_meta, arch="MPRNet (Deraining/MPRNet.py)",
             **{k: str(v) for k, v in {**FIXED_CFG, **TINY_CFG}.items()}, prelu=repr(mpr_prelu),
             model_seed=SEEDS["tiny_mprnet_model"], input_seed=SEEDS["tiny_mprnet_input"],
             weights="tiny_mprnet_derain_plain.pth", outputs="model(input) in eval/no_grad = [stage3, stage2, stage1]"))

    # ------------------------------------------------------------------ manifest + summary
    for name in manifest["files"]:
        manifest["files"][name]["bytes"] = os.path.getsize(out(name))
        manifest["files"][name]["sha256"] = pc.sha256(out(name))
    with open(out("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    print("\nfixtures in", args.out)
    total = 0
    for name in sorted(os.listdir(args.out)):
        sz = os.path.getsize(out(name))
        total += sz
        extra = ""
        if name.endswith(".safetensors") and "int8" not in name:
            t, _ = pc.read_safetensors(out(name))
            extra = "  " + ", ".join(f"{k}{list(v.shape)} max|.|={np.abs(v).max():.4g}"
                                     for k, v in t.items() if not k.startswith("input"))
        print(f"  {name:40s} {sz:>10,d} B{extra}")
    print(f"  {'total':40s} {total:>10,d} B")

    if args.bench:
        torch.manual_seed(SEEDS["default_memorynet_model"])
        bm = MemoryNet(**DEFAULT_CFG).eval()
        xb = torch.rand(1, 3, 256, 256)
        times = []
        with torch.no_grad(), pc.quiet():
            bm(xb)
            for _ in range(5):
                t0 = time.perf_counter()
                bm(xb)
                times.append(time.perf_counter() - t0)
        print(f"\nbench: default MemoryNet 1x3x256x256, {torch.get_num_threads()} threads, no_grad: "
              f"median {statistics.median(times):.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
