"""Shared helpers for the parity tools (make_parity_fixtures.py, reference_restore.py).

Nothing here contains network code. The official MemoryNet / MPRNet sources are
read at run time from the fetched upstream repositories (bare git mirrors or
plain checkouts), written into a temporary directory and imported from there:

  * zhangbaijin/MemoryNet : MemoryNet.py, memory.py
  * swz30/MPRNet          : Deraining/MPRNet.py, Deblurring/MPRNet.py, Denoising/MPRNet.py

The only change made to the official files is that top-level statements other
than imports / function / class definitions (the trailing "smoke test" code that
builds a model, prints it and writes a TensorBoard graph) are commented out.
`torch.utils.tensorboard` and `torchvision` are replaced by stub modules while
importing (they are only needed by that removed code). The network math is not
touched. MemoryNet.forward prints a shape on every call: use `quiet()` around it.

Needs Debian's python3-torch (run with /usr/bin/python3, not a pyenv python).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import types
from collections import OrderedDict

import numpy as np

DEFAULT_MEMORYNET_REF = "/work/.mirror/zhangbaijin+MemoryNet/repo"
DEFAULT_MPRNET_REF = "/work/.mirror/swz30+MPRNet/repo"

# constructor presets (n_feat, scale_unetfeats, scale_orsnetfeats, num_cab)
PRESETS = {
    "memorynet": ("memorynet", None, dict(n_feat=40, scale_unetfeats=20, scale_orsnetfeats=16, num_cab=8)),
    "mprnet-derain": ("mprnet", "Deraining", dict(n_feat=40, scale_unetfeats=20, scale_orsnetfeats=16, num_cab=8)),
    "mprnet-deblur": ("mprnet", "Deblurring", dict(n_feat=96, scale_unetfeats=48, scale_orsnetfeats=32, num_cab=8)),
    "mprnet-denoise": ("mprnet", "Denoising", dict(n_feat=80, scale_unetfeats=48, scale_orsnetfeats=32, num_cab=8)),
}

IMG_MULTIPLE_OF = 8

# --------------------------------------------------------------------------------------
# obtaining the official source


def _read_ref_file(ref: str, relpath: str, rev: str = "HEAD"):
    """Return (text, origin-description) of `relpath` from a checkout dir or a git dir."""
    p = os.path.join(ref, relpath)
    if os.path.isfile(p):
        with open(p, "r", encoding="utf-8") as f:
            text = f.read()
        commit = None
        try:
            commit = subprocess.run(["git", "-C", ref, "rev-parse", "HEAD"], capture_output=True,
                                    text=True, check=True).stdout.strip()
        except Exception:
            pass
        return text, {"path": p, "commit": commit}
    try:
        text = subprocess.run(["git", "-C", ref, "show", f"{rev}:{relpath}"], capture_output=True,
                              text=True, check=True).stdout
        commit = subprocess.run(["git", "-C", ref, "rev-parse", rev], capture_output=True,
                                text=True, check=True).stdout.strip()
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"cannot read {relpath} from {ref} (neither a file in a checkout nor "
                         f"`git show {rev}:{relpath}` works): {e.stderr.strip()}")
    return text, {"path": f"{ref}:{rev}:{relpath}", "commit": commit}


_KEEP_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)


def strip_module_level_code(src: str):
    """Comment out every top-level statement that is not an import, def or class
    (keeps a leading docstring). Line numbers are preserved. Returns (src, removed_lines)."""
    tree = ast.parse(src)
    lines = src.splitlines()
    removed = []
    for i, node in enumerate(tree.body):
        if isinstance(node, _KEEP_NODES):
            continue
        if i == 0 and isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) \
                and isinstance(node.value.value, str):
            continue  # module docstring
        for ln in range(node.lineno, node.end_lineno + 1):
            removed.append(lines[ln - 1])
            lines[ln - 1] = "# [parity tools: removed module-level test code] " + lines[ln - 1]
    return "\n".join(lines) + "\n", removed


def _stub_modules():
    """Stub modules for imports that only the removed test code needs."""
    stubs = {}

    class SummaryWriter:  # noqa: D401 - stub
        def __init__(self, *a, **k):
            pass

        def __getattr__(self, name):
            return lambda *a, **k: None

    tb = types.ModuleType("torch.utils.tensorboard")
    tb.SummaryWriter = SummaryWriter
    stubs["torch.utils.tensorboard"] = tb
    tv = types.ModuleType("torchvision")
    tv.__path__ = []
    tv_ds = types.ModuleType("torchvision.datasets")
    tv_tf = types.ModuleType("torchvision.transforms")
    tv.datasets, tv.transforms = tv_ds, tv_tf
    stubs["torchvision"] = tv
    stubs["torchvision.datasets"] = tv_ds
    stubs["torchvision.transforms"] = tv_tf
    return stubs


@contextlib.contextmanager
def _stubbed_imports():
    import torch.utils  # noqa: F401  (make sure the real package is there first)
    stubs = _stub_modules()
    saved = {k: sys.modules.get(k) for k in stubs}
    saved_tb_attr = getattr(sys.modules["torch.utils"], "tensorboard", None)
    sys.modules.update(stubs)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
        if saved_tb_attr is None and hasattr(sys.modules["torch.utils"], "tensorboard"):
            try:
                delattr(sys.modules["torch.utils"], "tensorboard")
            except AttributeError:
                pass


def _import_file(modname: str, path: str):
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod


class OfficialCode:
    """Loads the official classes into a temp dir. Attributes: MemoryNet, MemModule, mprnet[task]."""

    def __init__(self, ref_memorynet: str = DEFAULT_MEMORYNET_REF, ref_mprnet: str = DEFAULT_MPRNET_REF,
                 need_memorynet: bool = True, mprnet_tasks=("Deraining", "Deblurring", "Denoising"),
                 verbose: bool = False):
        self.tmp = tempfile.TemporaryDirectory(prefix="memorynet_official_")
        self.provenance = {}
        self.mprnet = {}
        d = self.tmp.name
        with _stubbed_imports():
            if need_memorynet:
                for rel in ("memory.py", "MemoryNet.py"):
                    src, origin = _read_ref_file(ref_memorynet, rel)
                    fixed, removed = strip_module_level_code(src)
                    if verbose:
                        print(f"[official] {rel}: commented out {len(removed)} top-level line(s)", file=sys.stderr)
                    with open(os.path.join(d, rel), "w", encoding="utf-8") as f:
                        f.write(fixed)
                    origin["sha256"] = hashlib.sha256(src.encode()).hexdigest()
                    self.provenance["MemoryNet/" + rel] = origin
                # MemoryNet.py does `import memory`
                sys.modules.pop("memory", None)
                sys.path.insert(0, d)
                try:
                    self.memory_mod = _import_file("memory", os.path.join(d, "memory.py"))
                    self.memorynet_mod = _import_file("official_MemoryNet", os.path.join(d, "MemoryNet.py"))
                finally:
                    sys.path.remove(d)
                self.MemoryNet = self.memorynet_mod.MemoryNet
                self.MemModule = self.memory_mod.MemModule
            for task in mprnet_tasks:
                rel = f"{task}/MPRNet.py"
                src, origin = _read_ref_file(ref_mprnet, rel)
                fixed, removed = strip_module_level_code(src)
                if verbose:
                    print(f"[official] {rel}: commented out {len(removed)} top-level line(s)", file=sys.stderr)
                path = os.path.join(d, f"MPRNet_{task}.py")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(fixed)
                origin["sha256"] = hashlib.sha256(src.encode()).hexdigest()
                self.provenance["MPRNet/" + rel] = origin
                self.mprnet[task] = _import_file(f"official_MPRNet_{task}", path).MPRNet

    def build(self, arch: str, **overrides):
        kind, task, cfg = PRESETS[arch]
        cfg = dict(cfg, **overrides)
        if kind == "memorynet":
            return self.MemoryNet(**cfg)
        return self.mprnet[task](**cfg)


@contextlib.contextmanager
def quiet():
    """Swallow stdout (MemoryNet.forward prints a shape on every call)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# --------------------------------------------------------------------------------------
# checkpoints (same convention as the official utils.load_checkpoint / demo.py)


def load_state_dict_any(path: str):
    import torch
    ckpt = torch.load(path, map_location="cpu")
    sd = ckpt["state_dict"] if isinstance(ckpt, dict) and "state_dict" in ckpt else ckpt
    out = OrderedDict()
    for k, v in sd.items():
        out[k[7:] if k.startswith("module.") else k] = v
    return out


def wrap_state_dict(sd):
    return OrderedDict(("module." + k, v) for k, v in sd.items())


# --------------------------------------------------------------------------------------
# demo.py-style inference


def demo_restore(model, input_):
    """Exactly the official demo.py: reflect-pad bottom/right to a multiple of 8 (only when
    not already one), run, take output[0], clamp to [0,1], crop. Returns NCHW tensor."""
    import torch
    import torch.nn.functional as F
    h, w = input_.shape[2], input_.shape[3]
    H = ((h + IMG_MULTIPLE_OF) // IMG_MULTIPLE_OF) * IMG_MULTIPLE_OF
    W = ((w + IMG_MULTIPLE_OF) // IMG_MULTIPLE_OF) * IMG_MULTIPLE_OF
    padh = H - h if h % IMG_MULTIPLE_OF != 0 else 0
    padw = W - w if w % IMG_MULTIPLE_OF != 0 else 0
    input_ = F.pad(input_, (0, padw, 0, padh), "reflect")
    with torch.no_grad(), quiet():
        restored = model(input_)
    restored = restored[0]
    restored = torch.clamp(restored, 0, 1)
    return restored[:, :, :h, :w]


# --------------------------------------------------------------------------------------
# minimal safetensors writer / reader (https://github.com/huggingface/safetensors format)

_ST_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8",
              np.dtype(np.int32): "I32", np.dtype(np.int64): "I64", np.dtype(np.float64): "F64",
              np.dtype(np.float16): "F16"}
_ST_NP = {v: k for k, v in _ST_DTYPES.items()}


def write_safetensors(path: str, tensors: "OrderedDict[str, np.ndarray]", metadata: dict | None = None):
    """8-byte LE header length, JSON header (space padded to a multiple of 8), raw LE C-order bytes."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    blobs = []
    off = 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in _ST_DTYPES:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        b = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = OrderedDict(dtype=_ST_DTYPES[arr.dtype], shape=list(arr.shape),
                                   data_offsets=[off, off + len(b)])
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read_safetensors(path: str):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = OrderedDict()
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = _ST_NP[info["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(data[base + b:base + e], dtype=dt).reshape(info["shape"]).astype(
            _ST_NP[info["dtype"]])
    return out, meta


# --------------------------------------------------------------------------------------
# images


def read_image_rgb01(path: str) -> np.ndarray:
    """HxWx3 float32 RGB in [0,1]: uint8/255 (like TF.to_tensor in demo.py), uint16/65535."""
    import cv2
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit(f"cannot read image {path}")
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)          # like PIL .convert('RGB') for L
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)  # PIL .convert('RGB') drops alpha
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.dtype == np.uint8:
        return img.astype(np.float32) / np.float32(255.0)
    if img.dtype == np.uint16:
        return img.astype(np.float32) / np.float32(65535.0)
    raise SystemExit(f"unsupported image dtype {img.dtype} in {path}")


def sha256(path: str) -> str:
    """Hex sha256 of a file (for the fixture manifests)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
