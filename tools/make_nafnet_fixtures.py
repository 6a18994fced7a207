#!/usr/bin/python3
"""Generate golden parity fixtures for the C# (TorchSharp) NAFNet port from the OFFICIAL PyTorch code.

Run by hand (not in CI), from the repository root:

    /usr/bin/python3 tools/make_nafnet_fixtures.py              # writes tests/MemoryNet.Tests/Fixtures/Parity/
    /usr/bin/python3 tools/make_nafnet_fixtures.py --ref DIR    # official code from another mirror / checkout

Requirements:
  * Debian's python3-torch (1.13) + python3-numpy: use /usr/bin/python3, not a pyenv python.
  * The fetched official code (never committed here): megvii-research/NAFNet as a bare git mirror (default
    /work/.mirror/megvii-research+NAFNet/repo) or a plain checkout; override with --ref DIR_OR_MIRROR.
    basicsr/models/archs/{NAFNet_arch,arch_util,local_arch}.py are read at run time (`git show HEAD:...`),
    written into a temp dir as a minimal `basicsr.models.archs` package with their module-level test code
    commented out (tools/parity_common.strip_module_level_code) and imported from there. The package
    __init__ files are empty and `basicsr.utils` is a stub that only provides `get_root_logger` (arch_util
    imports it; nothing used here calls it). The network math is not touched.

Configs (NAFNet(img_channel=3, width, middle_blk_num, enc_blk_nums, dec_blk_nums), see CONFIGS below):
  nafnet_a  width 8,  middle 1, enc [1,1],     dec [1,1],     input 1x3x37x53 (padder 4: zero pad to 40x56 + crop)
  nafnet_b  width 8,  middle 2, enc [1,2,1],   dec [1,1,1],   input 2x3x45x61 (padder 8: zero pad to 48x64 + crop)
  nafnet_c  width 4,  middle 1, enc [1,1,1,1], dec [1,1,1,1], input 1x3x40x56 (padder 16: zero pad to 48x64 + crop)
Each model: torch.manual_seed(model seed) before construction (constructors' default init); then, because the
official init sets every NAFBlock's beta/gamma to zero (every block would be the identity), every parameter
named *.beta, *.gamma, *.norm1.bias, *.norm2.bias is overwritten with normal(0, 0.5) and every *.norm1.weight,
*.norm2.weight with 1 + normal(0, 0.2), drawn in state_dict order from a torch.Generator seeded with the
"perturb" seed. Inputs: torch.rand from a generator seeded with the input seed. Forward in model.eval() under
torch.no_grad(), CPU, float32. Seeds are in CONFIGS below and in nafnet_manifest.json.

Outputs (tests/MemoryNet.Tests/Fixtures/Parity/):
  nafnet_{a,b,c}.pth              plain state_dict (torch.save zip format)
  nafnet_a_wrapped.pth            {'params': state_dict} (as the official model-zoo checkpoints)
  nafnet_{a,b,c}_io.safetensors   `input` and `output` (float32 NCHW; output = model(input), already cropped
                                  to the input size by the official forward), written by
                                  tools/parity_common.write_safetensors
  nafnet_{b,c}_tlc{32,16}_io.safetensors  the same weights in the official NAFNetLocal (TLC, train_size 32 / 16) on
                                  a larger input (TLC above)
  nafnet_manifest.json            configs, seeds, files (bytes, sha256), state_dict key names/shapes, io shapes,
                                  provenance (official commit + sha256 of the official files), torch version
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
import tempfile
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_common as pc  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "MemoryNet.Tests", "Fixtures", "Parity")
DEFAULT_NAFNET_REF = "/work/.mirror/megvii-research+NAFNet/repo"

ARCH_DIR = "basicsr/models/archs"
OFFICIAL_FILES = ("arch_util.py", "local_arch.py", "NAFNet_arch.py")

CONFIGS = OrderedDict([
    ("nafnet_a", dict(cfg=dict(img_channel=3, width=8, middle_blk_num=1, enc_blk_nums=[1, 1], dec_blk_nums=[1, 1]),
                      input_shape=[1, 3, 37, 53], seeds=dict(model=3101, perturb=3201, input=3301))),
    ("nafnet_b", dict(cfg=dict(img_channel=3, width=8, middle_blk_num=2, enc_blk_nums=[1, 2, 1],
                               dec_blk_nums=[1, 1, 1]),
                      input_shape=[2, 3, 45, 61], seeds=dict(model=3102, perturb=3202, input=3302))),
    ("nafnet_c", dict(cfg=dict(img_channel=3, width=4, middle_blk_num=1, enc_blk_nums=[1, 1, 1, 1],
                               dec_blk_nums=[1, 1, 1, 1]),
                      input_shape=[1, 3, 40, 56], seeds=dict(model=3103, perturb=3203, input=3303))),
])

# the test-time local converter (NAFNetLocal, local_arch.py): the same weights, channel-attention means over windows
# of 1.5x a training patch, on an input larger than the window
TLC = OrderedDict([
    ("nafnet_b", dict(train_size=32, input_shape=[1, 3, 70, 90], input_seed=3402)),
    ("nafnet_c", dict(train_size=16, input_shape=[1, 3, 75, 101], input_seed=3403)),
])

PERTURB = dict(beta_gamma_std=0.5, norm_bias_std=0.5, norm_weight_std=0.2)

_BASICSR_UTILS_STUB = '''"""[parity tools] stub: arch_util.py does `from basicsr.utils import get_root_logger`."""
import logging


def get_root_logger(*args, **kwargs):
    return logging.getLogger("basicsr")
'''


class OfficialNAFNet:
    """Loads the official NAFNet / LayerNorm2d from `ref` (bare git mirror or checkout) via a temp package."""

    def __init__(self, ref: str = DEFAULT_NAFNET_REF, verbose: bool = False):
        self.tmp = tempfile.TemporaryDirectory(prefix="nafnet_official_")
        self.provenance = OrderedDict()
        d = self.tmp.name
        pkg = os.path.join(d, *ARCH_DIR.split("/"))
        os.makedirs(pkg)
        os.makedirs(os.path.join(d, "basicsr", "utils"))
        for p in ("basicsr", "basicsr/models", ARCH_DIR):
            with open(os.path.join(d, p, "__init__.py"), "w", encoding="utf-8") as f:
                f.write("# [parity tools] empty package marker (the official __init__ imports every arch)\n")
        with open(os.path.join(d, "basicsr", "utils", "__init__.py"), "w", encoding="utf-8") as f:
            f.write(_BASICSR_UTILS_STUB)
        for name in OFFICIAL_FILES:
            rel = f"{ARCH_DIR}/{name}"
            src, origin = pc._read_ref_file(ref, rel)
            fixed, removed = pc.strip_module_level_code(src)
            if verbose:
                print(f"[official] {rel}: commented out {len(removed)} top-level line(s)", file=sys.stderr)
            with open(os.path.join(pkg, name), "w", encoding="utf-8") as f:
                f.write(fixed)
            origin["sha256"] = hashlib.sha256(src.encode()).hexdigest()
            origin["removed_top_level_lines"] = len(removed)
            self.provenance["NAFNet/" + rel] = origin

        saved = {k: v for k, v in sys.modules.items() if k == "basicsr" or k.startswith("basicsr.")}
        for k in saved:
            del sys.modules[k]
        sys.path.insert(0, d)
        try:
            self.arch_mod = importlib.import_module("basicsr.models.archs.NAFNet_arch")
            self.util_mod = importlib.import_module("basicsr.models.archs.arch_util")
        finally:
            sys.path.remove(d)
        assert os.path.dirname(os.path.abspath(self.arch_mod.__file__)) == os.path.abspath(pkg), \
            f"imported {self.arch_mod.__file__}, not the temp copy"
        self.NAFNet = self.arch_mod.NAFNet
        self.LayerNorm2d = self.util_mod.LayerNorm2d
        self.commit = self.provenance[f"NAFNet/{ARCH_DIR}/NAFNet_arch.py"]["commit"]


PERTURB_SUFFIXES = (".beta", ".gamma", ".norm1.weight", ".norm1.bias", ".norm2.weight", ".norm2.bias")


def perturb_block_params(model, seed):
    """Overwrite beta/gamma (official init: zeros) and the LayerNorm2d affine params with random values."""
    g = torch.Generator().manual_seed(seed)
    names = []
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k in model.state_dict().keys():
            if not k.endswith(PERTURB_SUFFIXES):
                continue
            p = params[k]
            if k.endswith((".beta", ".gamma")):
                v = PERTURB["beta_gamma_std"] * torch.randn(p.shape, generator=g)
            elif k.endswith(".weight"):
                v = 1.0 + PERTURB["norm_weight_std"] * torch.randn(p.shape, generator=g)
            else:
                v = PERTURB["norm_bias_std"] * torch.randn(p.shape, generator=g)
            p.copy_(v)
            names.append(k)
    return names


def np32(t):
    return t.detach().cpu().contiguous().numpy().astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", default=DEFAULT_NAFNET_REF, help="megvii-research/NAFNet bare git dir or checkout")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    torch.set_grad_enabled(False)
    off = OfficialNAFNet(args.ref, verbose=args.verbose)
    os.makedirs(args.out, exist_ok=True)

    def out(name):
        return os.path.join(args.out, name)

    manifest = OrderedDict(
        generator="tools/make_nafnet_fixtures.py",
        torch=torch.__version__,
        official_nafnet_commit=off.commit,
        perturbation=OrderedDict(
            params=list(PERTURB_SUFFIXES),
            rule="in state_dict order, one torch.Generator(perturb seed): beta/gamma ~ N(0,0.5), "
                 "norm*.bias ~ N(0,0.5), norm*.weight ~ 1 + N(0,0.2) (torch.randn)",
            **PERTURB),
        provenance=off.provenance,
        configs=OrderedDict(),
        files=OrderedDict(),
    )

    for name, spec in CONFIGS.items():
        cfg, shape, seeds = spec["cfg"], spec["input_shape"], spec["seeds"]
        torch.manual_seed(seeds["model"])
        model = off.NAFNet(**cfg)
        perturbed = perturb_block_params(model, seeds["perturb"])
        model.eval()
        x = torch.rand(*shape, generator=torch.Generator().manual_seed(seeds["input"]), dtype=torch.float32)
        with torch.no_grad():
            y = model(x)
        assert tuple(y.shape) == tuple(shape), (y.shape, shape)

        sd = OrderedDict((k, v.detach().clone().contiguous()) for k, v in model.state_dict().items())
        assert all(v.dtype == torch.float32 for v in sd.values())
        torch.save(sd, out(f"{name}.pth"))
        files = [f"{name}.pth"]
        if name == "nafnet_a":
            torch.save({"params": sd}, out(f"{name}_wrapped.pth"))
            files.append(f"{name}_wrapped.pth")

        # self-check: a fresh model loaded from the saved file reproduces the output bit for bit
        torch.manual_seed(0)
        m2 = off.NAFNet(**cfg)
        m2.load_state_dict(torch.load(out(f"{name}.pth"), map_location="cpu"), strict=True)
        m2.eval()
        with torch.no_grad():
            y2 = m2(x)
        assert torch.equal(y, y2), "reloaded model differs"

        meta = OrderedDict(config=json.dumps(cfg), seeds=json.dumps(seeds), torch=torch.__version__,
                           official_nafnet_commit=off.commit, generator="tools/make_nafnet_fixtures.py")
        io_name = f"{name}_io.safetensors"
        pc.write_safetensors(out(io_name), OrderedDict(input=np32(x), output=np32(y)), metadata=meta)
        files.append(io_name)

        if name in TLC:
            t = TLC[name]
            local = off.arch_mod.NAFNetLocal(**cfg, train_size=(1, 3, t["train_size"], t["train_size"]))
            local.load_state_dict(sd, strict=True)
            local.eval()
            xt = torch.rand(*t["input_shape"], generator=torch.Generator().manual_seed(t["input_seed"]),
                            dtype=torch.float32)
            with torch.no_grad():
                yt = local(xt)
            kernels = [list(m.kernel_size) for m in local.modules() if type(m).__name__ == "AvgPool2d"]
            tlc_name = f"{name}_tlc{t['train_size']}_io.safetensors"
            pc.write_safetensors(out(tlc_name), OrderedDict(input=np32(xt), output=np32(yt)),
                                 metadata=OrderedDict(meta, tlc_train_size=str(t["train_size"])))
            files.append(tlc_name)
            manifest.setdefault("tlc", OrderedDict())[name] = OrderedDict(t, kernel_sizes=kernels)

        manifest["configs"][name] = OrderedDict(
            config=cfg,
            padder_size=model.padder_size,
            input_shape=shape,
            padded_hw=[-(-shape[2] // model.padder_size) * model.padder_size,
                       -(-shape[3] // model.padder_size) * model.padder_size],
            seeds=seeds,
            num_params=int(sum(v.numel() for v in sd.values())),
            perturbed_params=perturbed,
            state_dict=OrderedDict((k, list(v.shape)) for k, v in sd.items()),
            io=OrderedDict(input=list(x.shape), output=list(y.shape)),
            stats=OrderedDict(output_mean=float(y.mean()), output_std=float(y.std()),
                              max_abs_output_minus_input=float((y - x).abs().max()),
                              mean_abs_output_minus_input=float((y - x).abs().mean())),
            files=files,
        )
        for f in files:
            manifest["files"][f] = OrderedDict(config=name)
        print(f"{name}: {cfg} input {shape} params {manifest['configs'][name]['num_params']} "
              f"mean|y-x| {manifest['configs'][name]['stats']['mean_abs_output_minus_input']:.4f}")

    for f in manifest["files"]:
        manifest["files"][f]["bytes"] = os.path.getsize(out(f))
        manifest["files"][f]["sha256"] = pc.sha256(out(f))
    with open(out("nafnet_manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(v["bytes"] for v in manifest["files"].values()) + os.path.getsize(out("nafnet_manifest.json"))
    for f, v in manifest["files"].items():
        print(f"  {f:32s} {v['bytes']:>9d} B")
    print(f"  nafnet_manifest.json             {os.path.getsize(out('nafnet_manifest.json')):>9d} B")
    print(f"total {total} B -> {args.out}")


if __name__ == "__main__":
    main()
