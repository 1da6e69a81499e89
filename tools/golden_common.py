"""Shared helpers for tools/make_golden.py: deterministic random weights, float16 fixture files,
golden-file writing. See make_golden.py for how to run."""
import json
import os

import torch
from safetensors.torch import load_file, save_file

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO_ROOT, "fixtures")
MODELS_DIR = os.path.join(FIXTURES, "models")
GOLDEN_DIR = os.path.join(FIXTURES, "golden")

written = []  # (path, bytes) of every file this run wrote, printed at the end


def record(path):
    written.append((os.path.relpath(path, REPO_ROOT), os.path.getsize(path)))


def normal(gen, shape, std):
    return torch.randn(shape, generator=gen, dtype=torch.float32) * std


def uniform(gen, shape, low, high):
    return low + (high - low) * torch.rand(shape, generator=gen, dtype=torch.float32)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    record(path)


def write_safetensors(path, tensors, dtype=None):
    """Writes tensors (optionally cast to dtype) with the same metadata save_pretrained uses."""
    out = {}
    for name in sorted(tensors):
        t = tensors[name].detach()
        out[name] = (t.to(dtype) if dtype is not None else t).contiguous()
    save_file(out, path, metadata={"format": "pt"})
    record(path)


def save_float16_checkpoint(model, out_dir):
    """save_pretrained (config.json + model.safetensors), then rewrite the weights as float16.

    The golden values must be computed from a model reloaded from this folder, so that the
    reference sees exactly the (rounded) weights the Node side reads."""
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    extra = os.path.join(out_dir, "generation_config.json")
    if os.path.exists(extra):
        os.remove(extra)  # the fixture contract is config.json + model.safetensors only
    weights = os.path.join(out_dir, "model.safetensors")
    write_safetensors(weights, load_file(weights), torch.float16)
    record(os.path.join(out_dir, "config.json"))


def write_golden(name, tensors, settings):
    """fixtures/golden/<name>.safetensors (float -> F32, int -> I32) + <name>.json."""
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    converted = {}
    for key, t in tensors.items():
        t = torch.as_tensor(t)
        converted[key] = t.to(torch.float32) if t.is_floating_point() else t.to(torch.int32)
    write_safetensors(os.path.join(GOLDEN_DIR, f"{name}.safetensors"), converted)
    write_json(os.path.join(GOLDEN_DIR, f"{name}.json"), settings)


def assert_close(label, a, b, atol):
    diff = (torch.as_tensor(a).double() - torch.as_tensor(b).double()).abs().max().item()
    if not diff <= atol:
        raise AssertionError(f"sanity check failed: {label}: max abs diff {diff:.3g} > {atol:g}")
    print(f"  ok  {label}: max abs diff {diff:.3g}")
    return diff
