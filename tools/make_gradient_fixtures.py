#!/usr/bin/python3
"""Golden gradients of one official training step, for the C# training path (forward parity does not prove the
backward: a custom kernel with a wrong or missing gradient trains badly and still matches every forward fixture).

Run by hand (not in CI), from the repository root, after tools/make_parity_fixtures.py:

    /usr/bin/python3 tools/make_gradient_fixtures.py

For the tiny MemoryNet and the tiny Deraining MPRNet of the parity fixtures (their committed .pth weights), on a
seeded input/target pair, the loss of the official train.py (zhangbaijin/MemoryNet, swz30/MPRNet: Charbonnier over
the three stage outputs + 0.05 x EdgeLoss, from the official losses.py) and its gradient for every parameter.
Writes tests/MemoryNet.Tests/Fixtures/Parity/tiny_{memorynet,mprnet_derain}_grad.safetensors with tensors `input`,
`target`, `loss` [1] and `grad.<state_dict key>` (float32), metadata with seeds and provenance.

Needs Debian's python3-torch (1.13) and the official code as for make_parity_fixtures.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_common as pc  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO_ROOT, "tests", "MemoryNet.Tests", "Fixtures", "Parity")
TINY_CFG = dict(n_feat=4, scale_unetfeats=2, scale_orsnetfeats=2, num_cab=1)
SHAPE = (2, 3, 32, 48)
SEEDS = {"input": 3001, "target": 3002}


def official_losses(ref_memorynet):
    src, origin = pc._read_ref_file(ref_memorynet, "losses.py")
    ns = {}
    exec(compile(src, "official_losses.py", "exec"), ns)  # the official file defines classes only
    return ns["CharbonnierLoss"](), ns["EdgeLoss"](), origin


def pair():
    g = torch.Generator().manual_seed(SEEDS["target"])
    target = torch.rand(*SHAPE, generator=g)
    g = torch.Generator().manual_seed(SEEDS["input"])
    # a degraded input: the target plus bright streak-like noise, clipped (the exact form does not matter)
    x = (target + 0.4 * torch.rand(*SHAPE, generator=g) ** 4).clamp(0, 1)
    return x, target


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref-memorynet", default=pc.DEFAULT_MEMORYNET_REF)
    ap.add_argument("--ref-mprnet", default=pc.DEFAULT_MPRNET_REF)
    args = ap.parse_args()
    torch.set_num_threads(2)
    off = pc.OfficialCode(args.ref_memorynet, args.ref_mprnet, mprnet_tasks=("Deraining",))
    char, edge, losses_origin = official_losses(args.ref_memorynet)
    x, target = pair()
    nets = {
        "tiny_memorynet": (lambda: off.MemoryNet(**TINY_CFG), "tiny_memorynet_plain.pth"),
        "tiny_mprnet_derain": (lambda: off.mprnet["Deraining"](**TINY_CFG), "tiny_mprnet_derain_plain.pth"),
    }
    for name, (factory, weights) in nets.items():
        model = factory()
        model.load_state_dict(pc.load_state_dict_any(os.path.join(FIXTURES, weights)))
        model.train()
        with pc.quiet():
            restored = model(x)
        loss = sum(char(r, target) for r in restored) + 0.05 * sum(edge(r, target) for r in restored)
        model.zero_grad()
        loss.backward()
        tensors = OrderedDict(input=x.numpy(), target=target.numpy(),
                              loss=np.array([loss.item()], dtype=np.float32))
        for key, p in model.named_parameters():
            tensors["grad." + key] = p.grad.detach().numpy().astype(np.float32)
        path = os.path.join(FIXTURES, f"{name}_grad.safetensors")
        pc.write_safetensors(path, tensors, {
            "generator": "tools/make_gradient_fixtures.py", "torch_version": torch.__version__,
            "weights": weights, "seeds": str(SEEDS), "loss": "sum_stages Charbonnier(eps 1e-3) + 0.05 sum_stages "
            "EdgeLoss, official losses.py", "losses_commit": str(losses_origin.get("commit")),
            "provenance": str(off.provenance)})
        print(f"{path}: loss {loss.item():.6f}, {len(tensors) - 3} gradients")


if __name__ == "__main__":
    main()
