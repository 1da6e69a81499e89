#!/usr/bin/env python3
"""Tiny random-weight checkpoints and golden vectors for the Node parity tests (fixtures/GOLDEN.md).

The reference is Hugging Face transformers (DiaForConditionalGeneration, DacModel), torch on CPU,
float32, 2 threads, fixed seeds. Run from anywhere (about 20 s):

    /opt/refpy/bin/python tools/make_golden.py            # all fixtures
    /opt/refpy/bin/python tools/make_golden.py dia-tiny-a # only the named ones

Versions it was run with (tools/requirements-golden.txt): Python 3.11.7, torch 2.15.0 (CPU),
transformers 5.24.0, safetensors 0.8.0, numpy 2.4.6. The output is byte-identical between runs.

Writes fixtures/models/<name>/{config.json,model.safetensors} (weights float16) and
fixtures/golden/<name>.{safetensors,json}. Every golden value is computed from the checkpoint
reloaded from disk (float16 upcast to float32), i.e. from exactly the weights Node reads.
Each fixture ends with self-checks (incremental decoding vs teacher forcing, generate() vs the
greedy loop, format round trips); a failed check aborts the run.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transformers  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers import DiaForConditionalGeneration  # noqa: E402
from transformers.cache_utils import DynamicCache, EncoderDecoderCache  # noqa: E402

import golden_common as common  # noqa: E402
import golden_dac  # noqa: E402
import golden_dia_reference as dia  # noqa: E402

TEXTS = [
    "[S1] Hello there, how are you doing today? [S2] (laughs) Pretty good, thanks!",
    "[S1] Hi! [S2] Hey.",
]
GUIDANCE_SCALE = 3.0
TOP_K = 45
REFERENCE = f"transformers {transformers.__version__}, torch {torch.__version__.split('+')[0]} (CPU, float32)"

DIA_FIXTURES = {
    "dia-tiny-a": dict(
        flavour="0626", seed=1001, head_gain=3.0, eos_gain=None, tf_rows=18, prompt_frames=5,
        max_new_tokens=32,
        enc=dict(layers=2, d=32, mlp=64, heads=4, head_dim=16),
        dec=dict(layers=2, d=32, mlp=64, heads=4, kv_heads=2, head_dim=8, cross_heads=4, cross_head_dim=16)),
    "dia-tiny-b": dict(
        flavour="0626", seed=2002, head_gain=3.0, eos_gain=-3.0, natural_eos=True, tf_rows=10, prompt_frames=4,
        max_new_tokens=40,
        enc=dict(layers=1, d=48, mlp=96, heads=2, head_dim=32),
        dec=dict(layers=3, d=48, mlp=96, heads=6, kv_heads=1, head_dim=8, cross_heads=3, cross_head_dim=16)),
    "dia-tiny-c": dict(
        flavour="0626", seed=3003, head_gain=3.0, eos_gain=None, tf_rows=10, prompt_frames=4,
        max_new_tokens=32,
        enc=dict(layers=3, d=32, mlp=64, heads=2, head_dim=16),
        dec=dict(layers=1, d=64, mlp=128, heads=4, kv_heads=4, head_dim=16, cross_heads=2, cross_head_dim=32)),
    "dia-tiny-v1": dict(
        flavour="v1", seed=4011, head_gain=3.0, eos_gain=-2.5, natural_eos=True, tf_rows=10, prompt_frames=4,
        max_new_tokens=32,
        enc=dict(layers=2, d=32, mlp=64, heads=4, head_dim=16),
        dec=dict(layers=2, d=32, mlp=64, heads=4, kv_heads=1, head_dim=8, cross_heads=4, cross_head_dim=8)),
}
PREFILL_EXTRA_ROWS = 3  # generated rows appended to BOS + prompt in prefill_tokens


def build_reference_model(name, spec):
    """Random model -> fixture files -> reference model reloaded from those files."""
    config = dia.make_config(spec["enc"], spec["dec"])
    torch.manual_seed(spec["seed"])
    model = DiaForConditionalGeneration(config)
    dia.randomize_weights(model, spec["seed"], spec["head_gain"])
    if spec["eos_gain"] is not None:
        with torch.no_grad():  # row 1024 = channel 0, token EOS: makes EOS win mid-way
            model.logits_dense.weight[dia.EOS] *= spec["eos_gain"]
    out_dir = os.path.join(common.MODELS_DIR, name)
    if spec["flavour"] == "0626":
        common.save_float16_checkpoint(model, out_dir)
        ref = DiaForConditionalGeneration.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager")
    else:
        os.makedirs(out_dir, exist_ok=True)
        hf_state = {k: v.to(torch.float16) for k, v in model.state_dict().items()}
        common.write_json(os.path.join(out_dir, "config.json"), dia.nari_config(spec["enc"], spec["dec"]))
        common.write_safetensors(os.path.join(out_dir, "model.safetensors"),
                                 dia.hf_to_nari(hf_state, spec["enc"], spec["dec"]), torch.float16)
        nari = {k: v.to(torch.float32) for k, v in load_file(os.path.join(out_dir, "model.safetensors")).items()}
        config._attn_implementation = "eager"
        ref = DiaForConditionalGeneration(config)
        ref.load_state_dict(dia.nari_to_hf(nari, spec["enc"], spec["dec"]), strict=True)
        dia.enable_cross_attention_rope(ref)
    return ref.eval()


def decoder_forward(model, enc_out, text_mask, rows):
    """One full causal forward over rows [B, T, 9] -> (logits [B, T, 9, 1028], hidden [B, T, d])."""
    hidden = model.model.decoder(input_ids=rows, encoder_hidden_states=enc_out,
                                 encoder_attention_mask=text_mask).last_hidden_state
    return model.logits_dense(hidden).view(*rows.shape[:2], dia.CHANNELS, dia.VOCAB), hidden


def greedy(model, spec, text_ids, text_mask, start_rows):
    rule = dia.pick_0626 if spec["flavour"] == "0626" else dia.pick_v1
    rows, eos_rows, forced, margin = dia.greedy_generate(
        model, text_ids, text_mask, start_rows, spec["max_new_tokens"], rule, GUIDANCE_SCALE, TOP_K)
    if spec["flavour"] == "0626":  # the loop must reproduce transformers generate() exactly
        ref = model.generate(input_ids=text_ids, attention_mask=text_mask, decoder_input_ids=start_rows.clone(),
                             decoder_attention_mask=torch.ones(start_rows.shape[:2], dtype=torch.long),
                             bos_token_id=dia.BOS, eos_token_id=dia.EOS, pad_token_id=dia.PAD,
                             decoder_start_token_id=dia.BOS,
                             do_sample=False, guidance_scale=GUIDANCE_SCALE, top_k=TOP_K,
                             max_new_tokens=spec["max_new_tokens"])
        if not torch.equal(ref, rows):
            raise AssertionError(f"greedy loop differs from transformers generate():\n{ref}\n{rows}")
        print(f"  ok  greedy loop == transformers generate() ({tuple(rows.shape)})")
    if spec.get("natural_eos") and start_rows.shape[0] > 1 and any(forced):
        # eos_gain/seed were picked so that every item picks EOS by itself (rows 10-24)
        raise AssertionError(f"expected a picked (not forced) EOS for every item, got rows {eos_rows}")
    info = {"rows": rows.shape[1], "eos_rows": eos_rows, "eos_forced": forced, "min_margin": round(margin, 6),
            "prefill_rows": start_rows.shape[1] - dia.MAX_DELAY,
            "forced_eos_row": start_rows.shape[1] - dia.MAX_DELAY + spec["max_new_tokens"] - dia.MAX_DELAY - 1}
    return rows, info


def check_incremental(model, enc_out, text_mask, rows, expected, label):
    """Step-by-step decoding with the transformers cache must equal the teacher-forced logits."""
    config = model.config.decoder_config
    cache = EncoderDecoderCache(DynamicCache(config=config), DynamicCache(config=config))
    steps = []
    for t in range(rows.shape[1]):
        h = model.model.decoder(input_ids=rows[:, t:t + 1], encoder_hidden_states=enc_out,
                                encoder_attention_mask=text_mask, cache=cache).last_hidden_state
        steps.append(model.logits_dense(h).view(rows.shape[0], 1, dia.CHANNELS, dia.VOCAB))
    common.assert_close(f"{label}: cached step-by-step == teacher forcing", torch.cat(steps, 1), expected, 2e-4)


def build_dia(name, spec):
    print(f"{name}:")
    model = build_reference_model(name, spec)
    gen = torch.Generator().manual_seed(spec["seed"] + 1)
    text_ids, text_mask = dia.batch_texts(TEXTS)
    batch = text_ids.shape[0]
    tf_undelayed = torch.randint(0, 1024, (batch, spec["tf_rows"], dia.CHANNELS), generator=gen)
    tf_undelayed[:, 0] = dia.BOS
    tf_tokens = dia.delay_rows(tf_undelayed, spec["tf_rows"])
    prompt_codes = torch.randint(0, 1024, (spec["prompt_frames"], dia.CHANNELS), generator=gen)
    item0_len = int(text_mask[0].sum())
    ids0, mask0 = text_ids[:1, :item0_len], text_mask[:1, :item0_len]

    with torch.no_grad():
        enc = model.model.encoder(input_ids=text_ids, attention_mask=text_mask).last_hidden_state
        zeros = torch.zeros_like(text_ids)  # the unconditional text: zero bytes, same mask
        enc_uncond = model.model.encoder(input_ids=zeros, attention_mask=text_mask).last_hidden_state
        tf_cond, tf_hidden = decoder_forward(model, enc, text_mask, tf_tokens)
        tf_uncond, _ = decoder_forward(model, enc_uncond, text_mask, tf_tokens)
        greedy_codes, greedy_info = greedy(model, spec, text_ids, text_mask, dia.generation_start_rows(batch=batch))
        prompt_start = dia.generation_start_rows(prompt_codes)
        greedy_prompt, prompt_info = greedy(model, spec, ids0, mask0, prompt_start)
        prefill_tokens = greedy_prompt[:, :1 + spec["prompt_frames"] + PREFILL_EXTRA_ROWS]
        enc0 = model.model.encoder(input_ids=ids0, attention_mask=mask0).last_hidden_state
        prefill_logits, _ = decoder_forward(model, enc0, mask0, prefill_tokens)
        run_dia_checks(name, spec, model, text_ids, text_mask, enc, tf_tokens, tf_cond, prefill_logits,
                       enc0, mask0, prefill_tokens)

    common.write_golden(name, {
        "text_ids": text_ids, "text_mask": text_mask, "encoder_out": enc, "encoder_out_uncond": enc_uncond,
        "tf_tokens": tf_tokens, "tf_logits_cond": tf_cond, "tf_logits_uncond": tf_uncond, "tf_hidden": tf_hidden,
        "prompt_codes": prompt_codes, "prefill_tokens": prefill_tokens, "prefill_logits_cond": prefill_logits,
        "greedy_codes": greedy_codes, "greedy_prompt_codes": greedy_prompt,
    }, {
        "name": name, "flavour": spec["flavour"], "sampling": spec["flavour"], "reference": REFERENCE,
        "cross_attention_rope": spec["flavour"] == "v1",
        "texts": TEXTS, "text_lengths": [int(n) for n in text_mask.sum(-1)],
        "guidance_scale": GUIDANCE_SCALE, "top_k": TOP_K, "max_new_tokens": spec["max_new_tokens"],
        "eos_ch0_scale": 0.8 if spec["flavour"] == "v1" else None,
        "greedy": greedy_info, "greedy_prompt": dict(prompt_info, item=0),
        "prompt_item": 0, "prompt_frames": spec["prompt_frames"], "prefill_rows": 1 + spec["prompt_frames"],
        "tf_rows": spec["tf_rows"], "seed": spec["seed"], "head_gain": spec["head_gain"],
        "eos_logit_gain": spec["eos_gain"], "weights_dtype": "float16",
        "delay_pattern": dia.DELAY, "eos_token_id": dia.EOS, "pad_token_id": dia.PAD, "bos_token_id": dia.BOS,
    })


def run_dia_checks(name, spec, model, text_ids, text_mask, enc, tf_tokens, tf_cond, prefill_logits,
                   enc0, mask0, prefill_tokens):
    check_incremental(model, enc, text_mask, tf_tokens, tf_cond, "tf cond")
    check_incremental(model, enc0, mask0, prefill_tokens, prefill_logits, "prefill")
    top = model(input_ids=text_ids, attention_mask=text_mask, decoder_input_ids=tf_tokens).logits
    top = top.view(text_ids.shape[0], dia.CHANNELS, -1, dia.VOCAB).transpose(1, 2)
    common.assert_close("DiaForConditionalGeneration.forward == decoder + head", top, tf_cond, 1e-5)
    short = int(text_mask[1].sum())
    alone = model.model.encoder(input_ids=text_ids[1:, :short]).last_hidden_state
    common.assert_close("padded item encodes like the unpadded text", alone, enc[1:, :short], 1e-5)
    from transformers import DiaTokenizer
    tokenizer_ids = DiaTokenizer()(TEXTS, padding=True, add_special_tokens=False)["input_ids"]
    if torch.tensor(tokenizer_ids).tolist() != text_ids.tolist():
        raise AssertionError("byte tokenization differs from DiaTokenizer")
    print("  ok  byte tokenization == DiaTokenizer")
    if spec["flavour"] == "v1":
        state = {k: v for k, v in model.state_dict().items()}
        back = dia.nari_to_hf(dia.hf_to_nari(state, spec["enc"], spec["dec"]), spec["enc"], spec["dec"])
        if any(not torch.equal(back[k], state[k]) for k in state):
            raise AssertionError("nari <-> transformers weight conversion is not a round trip")
        print("  ok  nari <-> transformers weight conversion round trip")
        plain = DiaForConditionalGeneration(model.config).eval()
        plain.load_state_dict(state)
        no_rope, _ = decoder_forward(plain, enc, text_mask, tf_tokens)
        diff = (no_rope - tf_cond).abs().max().item()
        if not diff > 1e-2:
            raise AssertionError("cross-attention RoPE patch has no effect")
        print(f"  ok  cross-attention RoPE changes the logits (max abs diff {diff:.3g})")


def main(names):
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    everything = list(DIA_FIXTURES) + list(golden_dac.DAC_FIXTURES)
    for name in names or everything:
        if name not in everything:
            raise SystemExit(f"unknown fixture {name!r}; known: {', '.join(everything)}")
    for name in everything:
        if names and name not in names:
            continue
        if name in DIA_FIXTURES:
            build_dia(name, DIA_FIXTURES[name])
        else:
            golden_dac.build(name)
    print("\nwritten:")
    total = 0
    for path, size in common.written:
        total += size
        print(f"  {size:>10,d}  {path}")
    print(f"  {total:>10,d}  total this run")


if __name__ == "__main__":
    main(sys.argv[1:])
