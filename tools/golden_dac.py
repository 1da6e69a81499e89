"""DAC fixtures for tools/make_golden.py: dac-tiny (transformers layout, folded weights) and
dac-tiny-orig (the same weights under the original descript names with weight_g/weight_v)."""
import math
import os
import re

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import DacConfig, DacModel

import golden_common as common

DAC_FIXTURES = {"dac-tiny": dict(seed=5005), "dac-tiny-orig": dict(seed=6006)}
SAMPLE_RATE = 44100
HOP = 512
CODE_FRAMES = 40
WAVE_FRAMES = 24
CONV_GAIN = 1.0  # He-like scale for every conv
RESIDUAL_GAIN = 0.3  # last conv of each residual unit: keeps the residual stack from growing
CODEBOOK_STD = 0.5
OUTPUT_GAIN = 0.15  # last conv: pre-tanh std about 0.4, so tanh bends but rarely saturates


def make_config():
    return DacConfig(encoder_hidden_size=4, downsampling_ratios=[2, 4, 8, 8], decoder_hidden_size=32,
                     n_codebooks=9, codebook_size=1024, codebook_dim=8, sampling_rate=SAMPLE_RATE)


def randomize_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith(".alpha"):
                p.copy_(common.uniform(gen, p.shape, 0.5, 1.5))
            elif name.endswith(".bias"):
                p.copy_(common.normal(gen, p.shape, 0.02))
            elif name.endswith("codebook.weight"):
                p.copy_(common.normal(gen, p.shape, CODEBOOK_STD))
            elif ".conv_t1." in name:  # [in, out, 2s]: each output sums in * 2 taps
                p.copy_(common.normal(gen, p.shape, CONV_GAIN / math.sqrt(2 * p.shape[0])))
            else:
                gain = CONV_GAIN
                if name == "decoder.conv2.weight":
                    gain = OUTPUT_GAIN
                elif ".res_unit" in name and ".conv2." in name:
                    gain = RESIDUAL_GAIN
                p.copy_(common.normal(gen, p.shape, gain / math.sqrt(p.shape[1] * p.shape[2])))


def test_wave():
    """A chirp (60 Hz -> 6 kHz, exponential) plus seeded noise, WAVE_FRAMES * 512 samples."""
    n = WAVE_FRAMES * HOP
    t = torch.arange(n, dtype=torch.float64) / SAMPLE_RATE
    duration = n / SAMPLE_RATE
    f0, f1 = 60.0, 6000.0
    k = math.log(f1 / f0) / duration
    phase = 2 * math.pi * f0 * (torch.exp(k * t) - 1) / k
    noise = torch.randn(n, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    return (0.5 * torch.sin(phase) + 0.05 * noise).to(torch.float32)[None]


# ---- original descript names (dac-codec.md §4.1) ------------------------------------------------

def original_name(hf_name, n_blocks=4):
    """transformers DacModel parameter name -> original descript state-dict name (weights as-is)."""
    rules = [
        (r"decoder\.conv1\.", "decoder.model.0."),
        (r"decoder\.block\.(\d+)\.snake1\.", lambda m: f"decoder.model.{int(m[1]) + 1}.block.0."),
        (r"decoder\.block\.(\d+)\.conv_t1\.", lambda m: f"decoder.model.{int(m[1]) + 1}.block.1."),
        (r"decoder\.block\.(\d+)\.res_unit(\d)\.", lambda m: f"decoder.model.{int(m[1]) + 1}.block.{int(m[2]) + 1}."),
        (r"decoder\.snake1\.", f"decoder.model.{n_blocks + 1}."),
        (r"decoder\.conv2\.", f"decoder.model.{n_blocks + 2}."),
        (r"encoder\.conv1\.", "encoder.block.0."),
        (r"encoder\.block\.(\d+)\.res_unit(\d)\.", lambda m: f"encoder.block.{int(m[1]) + 1}.block.{int(m[2]) - 1}."),
        (r"encoder\.block\.(\d+)\.snake1\.", lambda m: f"encoder.block.{int(m[1]) + 1}.block.3."),
        (r"encoder\.block\.(\d+)\.conv1\.", lambda m: f"encoder.block.{int(m[1]) + 1}.block.4."),
        (r"encoder\.snake1\.", f"encoder.block.{n_blocks + 1}."),
        (r"encoder\.conv2\.", f"encoder.block.{n_blocks + 2}."),
    ]
    name = hf_name
    for pattern, repl in rules:
        name, hits = re.subn("^" + pattern, repl, name)
        if hits:
            break
    # inside a residual unit: snake1, conv1, snake2, conv2 are block.0 .. block.3
    for i, part in enumerate(("snake1", "conv1", "snake2", "conv2")):
        name = re.sub(rf"(\.block\.\d+\.){part}\.", rf"\1block.{i}.", name)
    return name


def is_conv_weight(name):
    return name.endswith(".weight") and not name.endswith("codebook.weight")


def split_weight_norm(w, gen):
    """(g, v) with g * v / ||v|| == w, norms over all dims but 0 (PyTorch weight_norm dim=0; for a
    ConvTranspose1d dim 0 is the input channel). v = w * a random power of two per dim-0 slice, so
    ||v|| = factor * ||w|| holds exactly in floating point and folding gives w back bit for bit."""
    exponents = torch.randint(-2, 3, (w.shape[0],) + (1,) * (w.dim() - 1), generator=gen)
    factor = torch.pow(2.0, exponents.to(torch.float32))
    g = torch.norm_except_dim(w, 2, 0)
    return g.contiguous(), (w * factor).contiguous()


def to_original_state(hf_state, seed):
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name in sorted(hf_state):
        target = original_name(name)
        if is_conv_weight(name):
            g, v = split_weight_norm(hf_state[name], gen)
            out[target[: -len("weight")] + "weight_g"] = g
            out[target[: -len("weight")] + "weight_v"] = v
        else:
            out[target] = hf_state[name]
    return out


def fold_original_state(orig_state, hf_names):
    """What a loader must do: fold weight_g/weight_v back and rename to transformers names."""
    out = {}
    for name in hf_names:
        target = original_name(name)
        if is_conv_weight(name):
            base = target[: -len("weight")]
            v, g = orig_state[base + "weight_v"], orig_state[base + "weight_g"]
            out[name] = v * (g / torch.norm_except_dim(v, 2, 0))  # g / ||v|| is an exact power of two
        else:
            out[name] = orig_state[target]
    return out


# ---- fixtures -------------------------------------------------------------------------------------

def encode_margins(model, latents):
    """Replays the residual VQ; returns (codes, smallest gap between best and second-best score)."""
    residual, codes, margin = latents, [], float("inf")
    for q in model.quantizer.quantizers:
        proj = q.in_proj(residual)
        enc = F.normalize(proj.permute(0, 2, 1).reshape(-1, proj.shape[1]))
        book = F.normalize(q.codebook.weight)
        dist = -(enc.pow(2).sum(1, keepdim=True) - 2 * enc @ book.t()) + book.pow(2).sum(1, keepdim=True).t()
        top2 = dist.topk(2, dim=1)
        margin = min(margin, float((top2.values[:, 0] - top2.values[:, 1]).min()))
        idx = top2.indices[:, 0].view(proj.shape[0], -1)
        codes.append(idx)
        residual = residual - q.out_proj(q.codebook(idx).transpose(1, 2))
    return torch.stack(codes, dim=1), margin


def build_dac_tiny(name):
    torch.manual_seed(DAC_FIXTURES[name]["seed"])
    model = DacModel(make_config())
    randomize_weights(model, DAC_FIXTURES[name]["seed"])
    out_dir = os.path.join(common.MODELS_DIR, name)
    common.save_float16_checkpoint(model, out_dir)
    ref = DacModel.from_pretrained(out_dir, dtype=torch.float32).eval()
    gen = torch.Generator().manual_seed(DAC_FIXTURES[name]["seed"] + 1)
    codes = torch.randint(0, 1024, (1, 9, CODE_FRAMES), generator=gen)
    wave = test_wave()
    with torch.no_grad():
        audio = ref.decode(audio_codes=codes).audio_values
        latents = ref.encoder(wave[:, None])
        encoded = ref.encode(wave[:, None]).audio_codes
        replay, margin = encode_margins(ref, latents)
    if not torch.equal(replay, encoded):
        raise AssertionError("replayed residual VQ differs from DacModel.encode")
    saturated = float((audio.abs() > 0.99).float().mean())
    print(f"  audio std {audio.std():.3f}, max |x| {audio.abs().max():.3f}, saturated {saturated:.4f}; "
          f"encode margin {margin:.3g}")
    if not (0.05 < float(audio.std()) < 0.6 and saturated < 0.01):
        raise AssertionError("dac-tiny output is degenerate (silent or saturated); adjust the weight gains")
    common.write_golden(name, {"codes": codes, "audio": audio, "wave": wave, "encoded_codes": encoded,
                               "latents": latents}, {
        "name": name, "reference": f"transformers DacModel (see make_golden.py header)",
        "sampling_rate": SAMPLE_RATE, "hop_length": HOP, "code_frames": CODE_FRAMES,
        "wave_samples": wave.shape[1], "encode_min_margin": round(margin, 6),
        "audio_std": round(float(audio.std()), 6), "weights_dtype": "float16", "seed": DAC_FIXTURES[name]["seed"],
    })


def build_dac_tiny_orig(name):
    source = os.path.join(common.MODELS_DIR, "dac-tiny")
    if not os.path.exists(os.path.join(source, "model.safetensors")):
        raise SystemExit("dac-tiny-orig is made from fixtures/models/dac-tiny: build dac-tiny first")
    hf_state = {k: v.to(torch.float32) for k, v in load_file(os.path.join(source, "model.safetensors")).items()}
    orig = to_original_state(hf_state, DAC_FIXTURES[name]["seed"])
    out_dir = os.path.join(common.MODELS_DIR, name)
    os.makedirs(out_dir, exist_ok=True)
    make_config().to_json_file(os.path.join(out_dir, "config.json"))
    common.record(os.path.join(out_dir, "config.json"))
    # float32: folding float16 g/v would not reproduce dac-tiny's weights to 1e-6
    common.write_safetensors(os.path.join(out_dir, "model.safetensors"), orig, torch.float32)
    reloaded = load_file(os.path.join(out_dir, "model.safetensors"))
    folded = DacModel(make_config()).eval()
    folded.load_state_dict(fold_original_state(reloaded, list(hf_state)), strict=True)
    ref = DacModel.from_pretrained(source, dtype=torch.float32).eval()
    golden = load_file(os.path.join(common.GOLDEN_DIR, "dac-tiny.safetensors"))
    with torch.no_grad():
        common.assert_close("dac-tiny-orig folded weights == dac-tiny",
                            torch.cat([p.flatten() for p in folded.parameters()]),
                            torch.cat([p.flatten() for p in ref.parameters()]), 1e-6)
        audio = folded.decode(audio_codes=golden["codes"].long()).audio_values
        common.assert_close("dac-tiny-orig decodes like dac-tiny", audio, golden["audio"], 1e-6)
        codes = folded.encode(golden["wave"][:, None]).audio_codes
    if not torch.equal(codes, golden["encoded_codes"].long()):
        raise AssertionError("dac-tiny-orig encodes differently from dac-tiny")
    print("  ok  dac-tiny-orig encodes like dac-tiny")


def build(name):
    print(f"{name}:")
    if name == "dac-tiny":
        build_dac_tiny(name)
    else:
        build_dac_tiny_orig(name)
