#!/usr/bin/env python3
"""PyTorch reference speed for `npm run bench:gpu`: transformers' Dia at the real Dia-1.6B shapes.

Builds DiaForConditionalGeneration from DiaConfig() (its defaults are the real 1.6B shapes) with
random weights directly on the device in bf16 -- nothing is downloaded -- and times generation with
guidance 3.0 and seeded sampling (temperature 1.2, top-p 0.95, top-k 45). EOS is suppressed, so
every run decodes exactly --steps steps whatever the random weights predict. No decoder_input_ids
are passed, so transformers starts from one BOS frame (it logs that it is "defaulting to non-delayed
generation"): the per-step work is the same as with the delay-pattern prefix.

Modes:
  eager     dynamic KV cache, torch.compile disabled
  compiled  static KV cache + torch.compile(mode="reduce-overhead") on the decoder forward (CUDA
            graphs), the path transformers' generate() takes for a static cache; the first run
            triggers compilation and is excluded like every warm-up run.

Usage: python3 tools/bench_reference.py --batch 1,8 --steps 300 --json
       python3 tools/bench_reference.py --tiny --device cpu --steps 20 --json   (smoke test)
"""
import argparse
import json
import platform
import sys
import time

TEXT = ("[S1] Welcome back to the show. Today we are talking about speech synthesis. "
        "[S2] (laughs) Finally, a topic I know something about!")
EOS_TOKEN = 1024
COMPILE_MODE = "reduce-overhead"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", default="1,8", help="comma-separated batch sizes (default 1,8)")
    p.add_argument("--steps", type=int, default=300, help="decoding steps per run (default 300)")
    p.add_argument("--modes", default=None, help="eager,compiled (default: both on CUDA, eager elsewhere)")
    p.add_argument("--device", default="cuda", help="torch device (default cuda)")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    p.add_argument("--tiny", action="store_true", help="tiny config instead of the real shapes (smoke test)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs before each measured run (default 1)")
    p.add_argument("--repeats", type=int, default=1, help="timed runs per configuration; the fastest is kept")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress goes to stderr)")
    args = p.parse_args(argv)
    try:
        args.batches = [int(b) for b in args.batch.split(",") if b.strip()]
    except ValueError:
        p.error(f"--batch must be comma-separated integers, got {args.batch!r}")
    if not args.batches or min(args.batches) < 1:
        p.error(f"--batch needs positive sizes, got {args.batch!r}")
    if args.steps < 2:
        p.error(f"--steps must be at least 2, got {args.steps}")
    return args


def encode_text(text):
    """Dia's byte tokenizer: UTF-8 bytes, with the speaker tags replaced by ids 1 and 2."""
    return list(text.replace("[S1]", "\x01").replace("[S2]", "\x02").encode("utf-8"))


def build_config(tiny):
    from transformers import DiaConfig, DiaDecoderConfig, DiaEncoderConfig

    if not tiny:
        return DiaConfig()  # defaults = Dia-1.6B shapes (dia-model.md 1.1)
    return DiaConfig(
        encoder_config=DiaEncoderConfig(num_hidden_layers=2, hidden_size=32, intermediate_size=64,
                                        num_attention_heads=4, num_key_value_heads=4, head_dim=16),
        decoder_config=DiaDecoderConfig(num_hidden_layers=2, hidden_size=32, intermediate_size=64,
                                        num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                        cross_num_attention_heads=4, cross_head_dim=16,
                                        cross_num_key_value_heads=4, cross_hidden_size=32),
    )


def build_model(torch, config, device, dtype):
    from transformers import DiaForConditionalGeneration

    # Constructing under the device context allocates the random weights there, never on the host.
    with torch.device(device):
        model = DiaForConditionalGeneration(config)
    return model.to(dtype=dtype).eval()


class StepClock:
    """Streamer that counts decoding steps and stamps the first one (its .cpu() copy syncs the device)."""

    def __init__(self):
        self.start = 0.0
        self.first = None
        self.calls = 0

    def put(self, _tokens):
        self.calls += 1  # call 1 is the BOS prompt, every later call one decoding step
        if self.calls == 2:
            self.first = time.perf_counter()

    def end(self):
        pass

    @property
    def steps(self):
        return max(0, self.calls - 1)


def generate_once(torch, model, inputs, args, mode, seed):
    from transformers import CompileConfig

    kwargs = dict(max_new_tokens=args.steps, do_sample=True, temperature=1.2, top_p=0.95, top_k=45,
                  guidance_scale=3.0, suppress_tokens=[EOS_TOKEN])
    if mode == "compiled":
        compile_config = CompileConfig(mode=COMPILE_MODE, fullgraph=False)
        if args.device != "cuda":
            compile_config._compile_all_devices = True  # smoke tests on CPU exercise the same path
        kwargs.update(cache_implementation="static", compile_config=compile_config)
    else:
        kwargs.update(disable_compile=True)
    torch.manual_seed(seed)
    clock = StepClock()
    sync(torch, args.device)
    clock.start = time.perf_counter()
    out = model.generate(**inputs, streamer=clock, **kwargs)
    sync(torch, args.device)
    elapsed = time.perf_counter() - clock.start
    return clock, elapsed, tuple(out.shape)


def sync(torch, device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(torch, model, config, args, mode, batch):
    ids = encode_text(TEXT)
    input_ids = torch.tensor([ids] * batch, dtype=torch.long, device=args.device)
    inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
    for i in range(args.warmup):
        log(f"  warm-up {i + 1}/{args.warmup} ({mode}, batch {batch})")
        generate_once(torch, model, inputs, args, mode, seed=100 + i)
    best = None
    for r in range(args.repeats):
        clock, elapsed, shape = generate_once(torch, model, inputs, args, mode, seed=10 + r)
        if best is None or elapsed < best[1]:
            best = (clock, elapsed, shape)
    clock, elapsed, shape = best
    if clock.steps < args.steps:
        raise RuntimeError(f"{mode} batch {batch}: generation stopped after {clock.steps} of {args.steps} steps")
    frames_per_s = 44100 / 512
    audio_seconds = clock.steps / frames_per_s  # per item: one frame of 9 codes per step
    row = {
        "mode": mode,
        "compile_mode": COMPILE_MODE if mode == "compiled" else None,
        "batch": batch,
        "steps": clock.steps,
        "steps_per_s": round(clock.steps / elapsed, 2),
        "ttft_ms": round((clock.first - clock.start) * 1000, 1),
        "rtf": round(elapsed / audio_seconds, 4),
        "audio_s_per_s": round(batch * audio_seconds / elapsed, 3),
        "output_shape": list(shape),
    }
    if args.device.startswith("cuda"):
        row["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        torch.cuda.reset_peak_memory_stats()
    return row


def log(message):
    print(message, file=sys.stderr, flush=True)


def main(argv):
    args = parse_args(argv)
    try:
        import torch
        import transformers
    except ImportError as err:
        log(f"bench_reference: {err}; install the reference stack with `pip install torch transformers`")
        return 2
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        log("bench_reference: no CUDA device visible to torch (pass --device cpu for a smoke test)")
        return 2
    modes = (args.modes or ("eager,compiled" if args.device.startswith("cuda") else "eager")).split(",")
    unknown = [m for m in modes if m not in ("eager", "compiled")]
    if unknown:
        log(f"bench_reference: unknown mode(s) {', '.join(unknown)} in --modes (use eager, compiled)")
        return 2
    dtype = getattr(torch, args.dtype)
    config = build_config(args.tiny)
    t0 = time.perf_counter()
    model = build_model(torch, config, args.device, dtype)
    params = sum(p.numel() for p in model.parameters())
    log(f"built {'tiny' if args.tiny else 'Dia-1.6B'} ({params / 1e9:.3f} B params, {args.dtype}) "
        f"on {args.device} in {time.perf_counter() - t0:.1f} s")
    results = []
    with torch.inference_mode():
        for mode in modes:
            for batch in args.batches:
                row = measure(torch, model, config, args, mode, batch)
                log(f"{mode} batch {batch}: {row['steps_per_s']} steps/s, ttft {row['ttft_ms']} ms")
                # The whole row too, as it comes: a run stopped at a time limit keeps what it measured.
                log("reference-row " + json.dumps(row))
                results.append(row)
    report = {
        "bench": "reference",
        "implementation": f"transformers {transformers.__version__} DiaForConditionalGeneration",
        "model": "tiny shapes (random weights)" if args.tiny else "Dia-1.6B shapes (random weights)",
        "parameters": params,
        "dtype": args.dtype,
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or args.device,
        "torch": torch.__version__,
        "sampling": "seeded: guidance 3.0, temperature 1.2, top_p 0.95, top_k 45, EOS suppressed",
        "steps_convention": "decoding steps after BOS, one 9-code frame per item each",
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for row in results:
            print(f"{row['mode']:9s} batch {row['batch']}: {row['steps_per_s']} steps/s, "
                  f"ttft {row['ttft_ms']} ms, RTF {row['rtf']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
