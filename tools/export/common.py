"""Shared helpers for the export scripts in tools/export/.

Every script turns one seed's checkpoint (or, for tests, randomly initialised weights of the same
architecture) into a Loupe model package: a folder with model.pt (TorchScript) and loupe-model.json
(schema 1, see docs/model-packages.md). What lives here:

- the command-line options every script shares (--checkpoint/--random/--seed/--small/--out/--reference);
- loading a checkpoint the user named explicitly, and matching its state-dict keys strictly;
- tracing/freezing a module and checking the exported program against the eager one;
- writing the package (sha256 of every file) and, on request, a reference: a fixed input tensor and a
  synthetic image with the outputs Python gets for them, as raw little-endian float32 + JSON, so other
  runtimes (Loupe's C++ tests) can check they compute the same thing.

Only Debian's python3-torch (1.13) and python3-torchvision (0.14) are needed.
"""

import argparse
import hashlib
import inspect
import json
import os
import sys
import warnings
import zipfile

import torch
import torch.nn.functional as F

SCHEMA = 1
MANIFEST = "loupe-model.json"
ENTRY = "model.pt"

TRUST_NOTE = (
    "Checkpoints: a .pth/.tar/.ckpt file is a Python pickle, and unpickling runs whatever code the file "
    "carries. This script only reads the checkpoint you name with --checkpoint, with "
    "torch.load(map_location='cpu') (torch 1.13 has no weights_only=True; newer torch gets it), so use it "
    "only on files from a source you trust (the seed's official release). Loupe itself never unpickles: it "
    "reads the TorchScript package this script writes, and refuses pickled checkpoints."
)


def fail(message):
    """Stops with a one-line message a user can act on (exit status 2)."""
    sys.stderr.write(f"{os.path.basename(sys.argv[0])}: error: {message}\n")
    sys.exit(2)


# ----------------------------------------------------------------------------------------------------------
# Command line


def make_parser(description, extra_checkpoints=()):
    """The options every export script shares. `extra_checkpoints`: names of further checkpoint options
    (e.g. "hrnet-checkpoint") for seeds that combine several separately trained networks."""
    p = argparse.ArgumentParser(description=description, epilog=TRUST_NOTE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("weights (one of)")
    src.add_argument("--checkpoint", metavar="PATH",
                     help="the official checkpoint to export (trusted file; see the note below)")
    for name in extra_checkpoints:
        src.add_argument(f"--{name}", metavar="PATH", help=f"checkpoint for the {name.split('-')[0]} part")
    src.add_argument("--random", action="store_true",
                     help="no checkpoint: randomly initialised weights of the same architecture (for tests "
                          "and benchmarks; the package says so in its provenance)")
    p.add_argument("--seed", type=int, default=0, help="random seed for --random and the reference input (0)")
    p.add_argument("--small", action="store_true",
                   help="reduced width/depth: same code paths, fast enough for tests (with --checkpoint only "
                        "for reduced checkpoints that --save-upstream-checkpoint wrote)")
    p.add_argument("--out", required=True, metavar="DIR", help="package folder to write (created if missing)")
    p.add_argument("--id", help="package id (default: the script's)")
    p.add_argument("--version", default="1.0.0", help="package version (1.0.0)")
    p.add_argument("--licence", help="licence of the weights (default: the upstream repository's)")
    p.add_argument("--no-freeze", action="store_true",
                   help="keep the traced module unfrozen (default: torch.jit.freeze, which folds batch norms)")
    p.add_argument("--save-upstream-checkpoint", metavar="PATH",
                   help="with --random: also save the weights in the upstream repository's checkpoint layout "
                        "(key names and nesting), so the --checkpoint path can be tested without the real file")
    p.add_argument("--reference", metavar="DIR",
                   help="also write a fixed input tensor, a synthetic image and this package's outputs for "
                        "both (raw float32 + reference.json) for cross-checking another runtime")
    return p


def check_source_args(args, parser, needed=("checkpoint",)):
    """--random xor the checkpoint options in `needed` (attribute names)."""
    given = [n for n in needed if getattr(args, n, None)]
    if args.random and given:
        parser.error("--random and --checkpoint exclude each other")
    if not args.random and len(given) != len(needed):
        missing = ", ".join("--" + n.replace("_", "-") for n in needed if not getattr(args, n, None))
        parser.error(f"give {missing} (a trusted official checkpoint) or --random")
    if args.save_upstream_checkpoint and not args.random:
        parser.error("--save-upstream-checkpoint goes with --random")


# ----------------------------------------------------------------------------------------------------------
# Checkpoints


def load_checkpoint(path):
    """torch.load of a file the user named explicitly, onto the CPU. weights_only=True where this torch
    has it (>= 1.13.1 upstream; Debian's 1.13 build does not), so nothing but tensors is unpickled there."""
    if not path or not os.path.isfile(path):
        fail(f"checkpoint '{path}' does not exist")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names):
            fail(f"'{path}' is already TorchScript: write its loupe-model.json by hand or load it with "
                 "torch.jit.load and pass the module through tools/export/common.py:write_package")
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True
    try:
        return torch.load(path, **kwargs)
    except Exception as e:  # pickle errors, truncated files, weights_only refusals
        fail(f"cannot read checkpoint '{path}': {e}")


def state_dict_of(obj, containers=("state_dict", "model", "net", "network", "module")):
    """The tensor dict inside a checkpoint: the object itself, or one level of the usual wrappers."""
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj)
        for key in containers:
            if key in obj and isinstance(obj[key], dict):
                return state_dict_of(obj[key], containers)
    fail("the checkpoint holds no state dict (expected a dict of tensors, or one under "
         + "/".join(containers) + ")")


def select(sd, keep_prefix="", strip=("module.",), drop=()):
    """Keys under `keep_prefix` (removed), after stripping wrapper prefixes such as DataParallel's
    'module.'; keys starting with anything in `drop` (parts the export does not need) are left out."""
    out = {}
    for k, v in sd.items():
        for s in strip:
            if k.startswith(s):
                k = k[len(s):]
        if keep_prefix:
            if not k.startswith(keep_prefix):
                continue
            k = k[len(keep_prefix):]
        if any(k.startswith(d) for d in drop):
            continue
        out[k] = v
    return out


def load_strict(module, sd, what):
    """load_state_dict(strict=True) with a message that names the mismatching keys."""
    own = module.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    wrong = [f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}" for k in own
             if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        def show(items):
            return ", ".join(items[:6]) + (f" ... ({len(items)} in all)" if len(items) > 6 else "")
        parts = []
        if missing:
            parts.append("missing " + show(missing))
        if unexpected:
            parts.append("unexpected " + show(unexpected))
        if wrong:
            parts.append("wrong shape " + show(wrong))
        fail(f"{what}: the checkpoint does not match the architecture: " + "; ".join(parts))
    module.load_state_dict(sd, strict=True)


@torch.no_grad()
def calibrate_batch_norm(module, make_batch, steps=2):
    """Random weights only: sets every batch norm's running statistics to the statistics of its input on
    random data (cumulative average), so activations stay O(1) through deep nets as with trained weights;
    otherwise they grow layer by layer and output comparisons lose their meaning."""
    bns = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    module.train()
    for _ in range(steps):
        module(make_batch())
    module.eval()
    for m in bns:
        m.momentum = 0.1


# ----------------------------------------------------------------------------------------------------------
# Export


def flatten_outputs(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for t in out]
    if isinstance(out, dict):
        return list(out.values())
    raise TypeError(f"unsupported output type {type(out)}")


def max_abs(a, b):
    return max(float((x.float() - y.float()).abs().max()) for x, y in zip(a, b))


@torch.no_grad()
def export_module(model, example, freeze=True, check_input=None, tolerance=1e-3):
    """Traces `model` (eval mode) on `example` (a tensor, or a tuple of tensors for several inputs),
    optionally freezes it, and checks the exported program against the eager model on `check_input`
    (another input of the same shape). Returns the module."""
    model.eval()
    with warnings.catch_warnings():
        # Shape arithmetic becomes constants in the trace: right for the fixed input size packages declare.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, example, check_trace=False)
    if freeze:
        traced = torch.jit.freeze(traced)
    x = check_input if check_input is not None else example
    args = x if isinstance(x, tuple) else (x,)  # a tuple example = several inputs
    eager = flatten_outputs(model(*args))
    exported = flatten_outputs(traced(*args))
    if len(eager) != len(exported):
        fail(f"the traced program returns {len(exported)} outputs, the model {len(eager)}")
    scale = max(float(t.abs().max()) for t in eager) or 1.0
    diff = max_abs(eager, exported)
    print(f"export check: max |eager - torchscript| = {diff:.3g} (output scale {scale:.3g})")
    if diff > tolerance * max(scale, 1.0):
        fail(f"the exported program differs from the eager model by {diff:.3g}; refusing to write it")
    return traced


def save_checkpoint(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(obj, path)
    print(f"wrote upstream-layout checkpoint {path}")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def image_input(channels=3, color_order="rgb", size=None, scale=1.0 / 255.0, mean=None, std=None):
    """An input spec (docs/model-packages.md). `size`: None (any), ("fixed", w, h) or ("multiple_of", m)."""
    spec = {"layout": "NCHW", "channels": channels, "color_order": color_order, "dtype": "float32"}
    if size is None:
        spec["size"] = {"policy": "any"}
    elif size[0] == "fixed":
        spec["size"] = {"policy": "fixed", "width": int(size[1]), "height": int(size[2])}
    elif size[0] == "multiple_of":
        spec["size"] = {"policy": "multiple_of", "multiple": int(size[1])}
    else:
        raise ValueError(size)
    spec["scale"] = float(scale)
    spec["mean"] = [float(v) for v in (mean if mean is not None else [0.0] * channels)]
    spec["std"] = [float(v) for v in (std if std is not None else [1.0] * channels)]
    return spec


def write_package(out_dir, module, *, id, name, version, task, input_spec, outputs, licence, provenance,
                  citation="", description="", labels=(), precisions=("float32",)):
    """Writes module (a ScriptModule) as model.pt and the manifest; returns the manifest dict.
    outputs: [{"name", "kind", "shape"}] in the order the module returns them."""
    os.makedirs(out_dir, exist_ok=True)
    entry = os.path.join(out_dir, ENTRY)
    module.save(entry)
    manifest = {
        "schema": SCHEMA,
        "id": id,
        "name": name,
        "version": version,
        "task": task,
        "format": "torchscript",
        "entry": ENTRY,
        "files": {ENTRY: sha256_of(entry)},
        "input": input_spec,
        "outputs": [{"name": o["name"], "kind": o["kind"], "shape": [int(d) for d in o["shape"]]} for o in outputs],
        "labels": list(labels),
        "precisions": list(precisions),
        "licence": licence,
        "citation": citation,
        "provenance": provenance,
    }
    if description:
        manifest["description"] = description
    tmp = os.path.join(out_dir, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, os.path.join(out_dir, MANIFEST))
    print(f"wrote {out_dir} ({os.path.getsize(entry) / 1e6:.1f} MB model.pt)")
    return manifest


def write_onnx_package(out_dir, model, example, manifest):
    """Also writes `model` (eager, eval mode) as ONNX (opset 11, batch dimension dynamic: what OpenCV 4.6's
    DNN importer reads) into `out_dir`/model.onnx with a copy of `manifest` switched to format onnx.
    Returns that manifest."""
    os.makedirs(out_dir, exist_ok=True)
    entry = os.path.join(out_dir, "model.onnx")
    names = [o["name"] for o in manifest["outputs"]]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), example, entry, opset_version=11, input_names=["input"], output_names=names,
                          dynamic_axes={n: {0: "batch"} for n in ["input"] + names})
    onnx_manifest = dict(manifest, format="onnx", entry="model.onnx", files={"model.onnx": sha256_of(entry)},
                         precisions=["float32"])
    onnx_manifest["provenance"] = manifest["provenance"] + "; ONNX by torch.onnx.export (opset 11)"
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(onnx_manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out_dir} ({os.path.getsize(entry) / 1e6:.1f} MB model.onnx)")
    return onnx_manifest


def provenance_text(script, args, upstream, extra=""):
    """Where the weights came from, in words."""
    if args.random:
        what = (f"randomly initialised weights (seed {args.seed}{', reduced width' if args.small else ''}), "
                "NOT a trained model")
    else:
        digests = []
        for key, value in sorted(vars(args).items()):
            if key.endswith("checkpoint") and value:
                digests.append(f"{os.path.basename(value)} (sha256 {sha256_of(value)})")
        what = "checkpoint " + ", ".join(digests)
    text = f"exported by tools/export/{script} with torch {torch.__version__} from {what}; architecture of {upstream}"
    return text + (f"; {extra}" if extra else "")


# ----------------------------------------------------------------------------------------------------------
# Reference outputs for other runtimes


def _write_f32(path, t):
    t.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tofile(path)


def synthetic_image(width, height, seed):
    """A deterministic RGB uint8 image with smooth structure and noise (not constant, not pure noise)."""
    g = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, height).view(height, 1)
    xs = torch.linspace(0, 1, width).view(1, width)
    base = torch.stack([xs.expand(height, width), ys.expand(height, width),
                        0.5 + 0.5 * torch.sin(12 * xs) * torch.cos(9 * ys)], dim=2)
    noise = torch.rand(height, width, 3, generator=g) * 0.3
    return ((base * 0.7 + noise).clamp(0, 1) * 255).round().to(torch.uint8)


def preprocess_like_loupe(hwc_u8, spec):
    """The package's input spec applied as Loupe's ImageModel does: RGB -> float NCHW, x * scale, then
    (x - mean) / std, then the size policy (fixed: bilinear resize, align_corners=False; multiple_of: pad
    right/bottom by replicating the edge; outputs at the input's resolution are cropped back by Loupe,
    so the reference only supports models whose outputs are at another resolution then)."""
    x = hwc_u8.permute(2, 0, 1).unsqueeze(0).to(torch.float32).contiguous()
    if spec.get("color_order") == "bgr":
        x = x.flip(1)
    x = x * float(spec["scale"])
    c = x.shape[1]
    mean = torch.tensor(spec.get("mean") or [0.0] * c, dtype=torch.float32).view(1, c, 1, 1)
    std = torch.tensor(spec.get("std") or [1.0] * c, dtype=torch.float32).view(1, c, 1, 1)
    x = (x - mean) / std
    size = spec.get("size", {"policy": "any"})
    if size["policy"] == "fixed":
        if x.shape[2] != size["height"] or x.shape[3] != size["width"]:
            x = F.interpolate(x, size=(size["height"], size["width"]), mode="bilinear", align_corners=False)
    elif size["policy"] == "multiple_of":
        m = int(size["multiple"])
        ph, pw = (m - x.shape[2] % m) % m, (m - x.shape[3] % m) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    elif size["policy"] != "any":
        raise ValueError(f"reference images support fixed/multiple_of/any size policies, not {size['policy']}")
    return x


@torch.no_grad()
def write_reference(ref_dir, package_dir, manifest, example_input, seed, image_size=(300, 200)):
    """Runs the written package from Python exactly as a user would (torch.jit.load) on (1) a fixed input
    tensor and (2) a synthetic PNG image preprocessed per the manifest (skipped when image_size is None,
    for inputs that are not one RGB image), and writes inputs and outputs."""
    from PIL import Image  # python3-pil comes with python3-torchvision

    os.makedirs(ref_dir, exist_ok=True)
    module = torch.jit.load(os.path.join(package_dir, manifest["entry"]), map_location="cpu")
    module.eval()
    ref = {"package": os.path.abspath(package_dir), "torch": torch.__version__}

    def run(x, prefix):
        with torch.inference_mode():
            outs = flatten_outputs(module(x))
        entries = []
        for spec, t in zip(manifest["outputs"], outs):
            fname = f"{prefix}_{spec['name']}.bin"
            _write_f32(os.path.join(ref_dir, fname), t)
            entries.append({"name": spec["name"], "file": fname, "shape": list(t.shape)})
        return entries

    _write_f32(os.path.join(ref_dir, "input.bin"), example_input)
    ref["tensor"] = {"input": {"file": "input.bin", "shape": list(example_input.shape)},
                     "outputs": run(example_input, "tensor")}

    if image_size is None:
        with open(os.path.join(ref_dir, "reference.json"), "w", encoding="utf-8") as f:
            json.dump(ref, f, indent=2)
        print(f"wrote reference outputs to {ref_dir}")
        return ref
    w, h = image_size
    img = synthetic_image(w, h, seed)
    Image.fromarray(img.numpy(), "RGB").save(os.path.join(ref_dir, "image.png"))
    x = preprocess_like_loupe(img, manifest["input"])
    ref["image"] = {"file": "image.png", "width": w, "height": h, "outputs": run(x, "image")}

    with open(os.path.join(ref_dir, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=2)
    print(f"wrote reference outputs to {ref_dir}")
    return ref


def reference_input(shape, seed):
    """The fixed input tensor of the reference: image-like values in the normalised range."""
    g = torch.Generator().manual_seed(seed + 1)
    return torch.randn(*shape, generator=g)
