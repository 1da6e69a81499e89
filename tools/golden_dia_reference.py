"""Reference-side pieces for the Dia fixtures (used by tools/make_golden.py):
tiny configs, random weights, the original nari (v1) format, cross-attention RoPE for v1, and a
greedy loop that mirrors transformers' Dia generation bookkeeping with a pluggable token rule."""
import types

import torch
from transformers import DiaConfig, DiaDecoderConfig, DiaEncoderConfig
from transformers.models.dia.processing_dia import DiaProcessor

from golden_common import normal

CHANNELS = 9
VOCAB = 1028
EOS, PAD, BOS = 1024, 1025, 1026
DELAY = [0, 8, 9, 10, 11, 12, 13, 14, 15]
MAX_DELAY = max(DELAY)
ROPE_THETA = 10000.0


def make_config(enc, dec):
    """enc/dec: dicts of the tiny dimensions (see FIXTURES in make_golden.py)."""
    encoder = DiaEncoderConfig(
        num_hidden_layers=enc["layers"], hidden_size=enc["d"], intermediate_size=enc["mlp"],
        num_attention_heads=enc["heads"], num_key_value_heads=enc["heads"], head_dim=enc["head_dim"],
    )
    decoder = DiaDecoderConfig(
        num_hidden_layers=dec["layers"], hidden_size=dec["d"], intermediate_size=dec["mlp"],
        num_attention_heads=dec["heads"], num_key_value_heads=dec["kv_heads"], head_dim=dec["head_dim"],
        cross_num_attention_heads=dec["cross_heads"], cross_num_key_value_heads=dec["cross_heads"],
        cross_head_dim=dec["cross_head_dim"], cross_hidden_size=enc["d"],
    )
    return DiaConfig(encoder_config=encoder, decoder_config=decoder)


def randomize_weights(model, seed, head_gain):
    """Weights large enough that attention (scale 1.0), RMSNorm gains and the head all matter:
    unit-variance activations, logits with a spread of about head_gain."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + normal(gen, p.shape, 0.25))
            elif name == "model.encoder.embedding.weight":
                p.copy_(normal(gen, p.shape, 1.0))
            elif name == "model.decoder.embeddings.embed.weight":
                p.copy_(normal(gen, p.shape, 1.0 / 3.0))  # 9 channels are summed
            elif name == "logits_dense.weight":
                p.copy_(normal(gen, p.shape, head_gain / p.shape[1] ** 0.5))
            else:
                p.copy_(normal(gen, p.shape, 1.0 / p.shape[1] ** 0.5))


def encode_text(text):
    """Dia's byte tokenizer (dia-model.md §2): UTF-8 bytes, [S1] -> 1, [S2] -> 2."""
    return list(text.encode("utf-8").replace(b"[S1]", b"\x01").replace(b"[S2]", b"\x02"))


def batch_texts(texts):
    rows = [encode_text(t) for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def delay_rows(undelayed, total_rows):
    """The processor's delay step: undelayed [B, U, 9] placed in a PAD-filled [B, total_rows, 9]
    buffer, then D[t, c] = U[t - d_c, c] (BOS before the start, PAD after the end)."""
    batch = undelayed.shape[0]
    buffer = torch.full((batch, total_rows, CHANNELS), PAD, dtype=torch.long)
    buffer[:, : undelayed.shape[1]] = undelayed
    idx = DiaProcessor.build_indices(batch, total_rows, CHANNELS, DELAY, revert=False)
    return DiaProcessor.apply_audio_delay(buffer, PAD, BOS, idx).long()


def generation_start_rows(prompt_codes=None, batch=1):
    """decoder_input_ids exactly as DiaProcessor builds them: BOS row (+ prompt), delayed, with
    MAX_DELAY extra rows; PAD cells are free for generation, other cells are forced."""
    bos = torch.full((batch, 1, CHANNELS), BOS, dtype=torch.long)
    undelayed = bos if prompt_codes is None else torch.cat([bos, prompt_codes[None].long()], dim=1)
    return delay_rows(undelayed, undelayed.shape[1] + MAX_DELAY)


# ---- original nari (Dia-1.6B v1) checkpoint format -------------------------------------------

def nari_config(enc, dec):
    """config.json of the original nari code (dia-model.md §1.1), tiny dimensions."""
    return {
        "version": "0.1",
        "model": {
            "encoder": {"n_layer": enc["layers"], "n_embd": enc["d"], "n_hidden": enc["mlp"],
                        "n_head": enc["heads"], "head_dim": enc["head_dim"]},
            "decoder": {"n_layer": dec["layers"], "n_embd": dec["d"], "n_hidden": dec["mlp"],
                        "gqa_query_heads": dec["heads"], "kv_heads": dec["kv_heads"],
                        "gqa_head_dim": dec["head_dim"], "cross_query_heads": dec["cross_heads"],
                        "cross_head_dim": dec["cross_head_dim"]},
            "src_vocab_size": 256, "tgt_vocab_size": VOCAB, "dropout": 0.0,
            "normalization_layer_epsilon": 1e-5, "rope_min_timescale": 1, "rope_max_timescale": 10000,
            "weight_dtype": "float32",
        },
        "training": {},
        "data": {"text_length": 1024, "audio_length": 3072, "channels": CHANNELS, "text_pad_value": 0,
                 "audio_eos_value": EOS, "audio_pad_value": PAD, "audio_bos_value": BOS,
                 "delay_pattern": DELAY},
    }


def _nari_dense_shapes(enc, dec):
    """nari DenseGeneral name -> (in_shape, out_shape) for every projection (dia-model.md §1.8)."""
    shapes = {}
    e, d = enc, dec
    for i in range(e["layers"]):
        p = f"encoder.layers.{i}."
        for proj in ("q", "k", "v"):
            shapes[p + f"self_attention.{proj}_proj.weight"] = ((e["d"],), (e["heads"], e["head_dim"]))
        shapes[p + "self_attention.o_proj.weight"] = ((e["heads"], e["head_dim"]), (e["d"],))
        shapes[p + "mlp.wi_fused.weight"] = ((e["d"],), (2, e["mlp"]))
        shapes[p + "mlp.wo.weight"] = ((e["mlp"],), (e["d"],))
    for i in range(d["layers"]):
        p = f"decoder.layers.{i}."
        shapes[p + "self_attention.q_proj.weight"] = ((d["d"],), (d["heads"], d["head_dim"]))
        for proj in ("k", "v"):
            shapes[p + f"self_attention.{proj}_proj.weight"] = ((d["d"],), (d["kv_heads"], d["head_dim"]))
        shapes[p + "self_attention.o_proj.weight"] = ((d["heads"], d["head_dim"]), (d["d"],))
        shapes[p + "cross_attention.q_proj.weight"] = ((d["d"],), (d["cross_heads"], d["cross_head_dim"]))
        for proj in ("k", "v"):
            shapes[p + f"cross_attention.{proj}_proj.weight"] = ((e["d"],), (d["cross_heads"], d["cross_head_dim"]))
        shapes[p + "cross_attention.o_proj.weight"] = ((d["cross_heads"], d["cross_head_dim"]), (d["d"],))
        shapes[p + "mlp.wi_fused.weight"] = ((d["d"],), (2, d["mlp"]))
        shapes[p + "mlp.wo.weight"] = ((d["mlp"],), (d["d"],))
    shapes["decoder.logits_dense.weight"] = ((d["d"],), (CHANNELS, VOCAB))
    return shapes


def _hf_name(nari_name):
    """The HF conversion rule's renaming (convert_dia_to_hf.py)."""
    if nari_name == "decoder.logits_dense.weight":
        return "logits_dense.weight"
    return "model." + nari_name.replace("mlp.wo.", "mlp.down_proj.").replace("mlp.wi_fused.", "mlp.gate_up_proj.")


def hf_to_nari(hf_state, enc, dec):
    """Inverse of the conversion rule: Linear [out, in] -> DenseGeneral in_shape + out_shape."""
    dense = _nari_dense_shapes(enc, dec)
    out = {}
    for name, (in_shape, out_shape) in dense.items():
        out[name] = hf_state[_hf_name(name)].T.reshape(*in_shape, *out_shape).contiguous()
    embed = hf_state["model.decoder.embeddings.embed.weight"]
    for c in range(CHANNELS):
        out[f"decoder.embeddings.{c}.weight"] = embed[c * VOCAB:(c + 1) * VOCAB].clone()
    for name, t in hf_state.items():
        if name.endswith("norm.weight") or name == "model.encoder.embedding.weight":
            out[name[len("model."):]] = t.clone()
    if len(out) != len(hf_state) + CHANNELS - 1:
        raise AssertionError("nari export did not map every transformers tensor")
    return out


def nari_to_hf(nari_state, enc, dec):
    """The conversion rule itself (dia-model.md §1.8): W.reshape(in_flat, out_flat).T, embeddings
    concatenated, prefix model., mlp renames."""
    dense = _nari_dense_shapes(enc, dec)
    out = {}
    for name, t in nari_state.items():
        if name in dense:
            in_shape, _ = dense[name]
            in_flat = 1
            for n in in_shape:
                in_flat *= n
            out[_hf_name(name)] = t.reshape(in_flat, -1).T.contiguous()
        elif not name.startswith("decoder.embeddings."):
            out["model." + name] = t
    out["model.decoder.embeddings.embed.weight"] = torch.cat(
        [nari_state[f"decoder.embeddings.{c}.weight"] for c in range(CHANNELS)], dim=0)
    return out


# ---- cross-attention RoPE of the original code (dia-model.md §1.6) ----------------------------

def rotate_half_split(x, positions):
    """Half-split RoPE on x [B, H, T, hd] at positions [B or 1, T], theta 10000."""
    hd = x.shape[-1]
    inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    angles = positions[..., None].to(torch.float32) * inv_freq
    cos = torch.cat([angles, angles], dim=-1).cos()[:, None]
    sin = torch.cat([angles, angles], dim=-1).sin()[:, None]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


def _cross_attention_with_rope(self, hidden_states, cross_attention_states, attention_mask=None,
                               cache=None, **kwargs):
    """DiaCrossAttention.forward plus the v1 rotations: q at decoder positions, k at encoder
    positions 0..S-1 (rotated before caching, as the original precompute_cross_attn_cache does)."""
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.dia.modeling_dia import eager_attention_forward

    q_positions = kwargs.pop("position_ids")
    batch, steps = hidden_states.shape[:2]
    query = self.q_proj(hidden_states).view(batch, steps, -1, self.head_dim).transpose(1, 2)
    query = rotate_half_split(query, q_positions)
    if cache is not None and cache.is_updated.get(self.layer_idx):
        key = cache.cross_attention_cache.layers[self.layer_idx].keys
        value = cache.cross_attention_cache.layers[self.layer_idx].values
    else:
        src = cross_attention_states.shape[1]
        key = self.k_proj(cross_attention_states).view(batch, src, -1, self.head_dim).transpose(1, 2)
        value = self.v_proj(cross_attention_states).view(batch, src, -1, self.head_dim).transpose(1, 2)
        key = rotate_half_split(key, torch.arange(src)[None])
        if cache is not None:
            key, value = cache.cross_attention_cache.update(key, value, self.layer_idx)
            cache.is_updated[self.layer_idx] = True
    # same dispatch as DiaCrossAttention: the mask format (additive or boolean) follows the backend
    attention = ALL_ATTENTION_FUNCTIONS.get_interface(self.config._attn_implementation, eager_attention_forward)
    out, weights = attention(self, query, key, value, attention_mask, scaling=self.scaling)
    return self.o_proj(out.reshape(batch, steps, -1).contiguous()), weights


def enable_cross_attention_rope(model):
    """Monkeypatches the cross-attention of every decoder layer of this model instance only."""
    for layer in model.model.decoder.layers:
        attn = layer.cross_attention
        attn.forward = types.MethodType(_cross_attention_with_rope, attn)


# ---- greedy generation --------------------------------------------------------------------------

def _last_row_logits(model, enc_cond, enc_uncond, mask, rows):
    """Full causal recompute over rows [B, R, 9]; logits of the last row, both CFG branches."""
    both = model.model.decoder(input_ids=torch.cat([rows, rows]),
                               encoder_hidden_states=torch.cat([enc_cond, enc_uncond]),
                               encoder_attention_mask=torch.cat([mask, mask])).last_hidden_state
    logits = model.logits_dense(both[:, -1]).view(2, rows.shape[0], CHANNELS, VOCAB)
    return logits[0], logits[1]


def _vocab_masks(scores):
    scores[:, :, EOS + 1:] = float("-inf")
    scores[:, 1:, EOS] = float("-inf")
    return scores


def pick_0626(cond, uncond, guidance_scale, top_k):
    """transformers' greedy rule: top-k of the CFG logits selects candidates, the conditional
    logits rank them; vocab masks; argmax (the EOS filter cannot change a greedy pick)."""
    cfg = cond + guidance_scale * (cond - uncond)
    keep = torch.zeros_like(cfg, dtype=torch.bool).scatter(-1, cfg.topk(top_k, dim=-1).indices, True)
    return _vocab_masks(cond.masked_fill(~keep, float("-inf")))


def pick_v1(cond, uncond, guidance_scale, top_k):
    """Original Dia-1.6B code at temperature 0: argmax of the masked CFG logits, with the channel-0
    EOS logit multiplied by 0.8 first (N-v1 _decoder_step). top_k plays no part in greedy v1."""
    scores = _vocab_masks(cond + guidance_scale * (cond - uncond))
    scores[:, 0, EOS] = scores[:, 0, EOS] * 0.8
    return scores


def greedy_generate(model, text_ids, text_mask, start_rows, max_new_tokens, rule, guidance_scale, top_k):
    """Greedy decoding with transformers' bookkeeping (generation_dia.py + Dia logits processors):
    prefill = rows up to the first PAD in channel 0; non-PAD cells of start_rows are forced; EOS on
    channel 0 (picked, or forced at row max_length - 16) starts the countdown that writes EOS at row
    s0 + d_c on channel c and PAD after; stops when every item wrote row s0 + 15.
    Returns (rows [B, L, 9], eos rows per item, eos forced per item, smallest top1-top2 margin)."""
    batch = text_ids.shape[0]
    prefill = start_rows.shape[1] - int((start_rows[:, :, 0] == PAD).sum(-1).max())
    max_length = prefill + max_new_tokens
    forced_row = max_length - MAX_DELAY - 1
    enc_cond = model.model.encoder(input_ids=text_ids, attention_mask=text_mask).last_hidden_state
    enc_uncond = model.model.encoder(input_ids=torch.zeros_like(text_ids), attention_mask=text_mask).last_hidden_state
    rows = start_rows[:, :prefill].clone()
    eos_row = [None] * batch
    eos_forced = [False] * batch
    min_margin = float("inf")
    delays = torch.tensor(DELAY)
    while rows.shape[1] < max_length:
        r = rows.shape[1]
        cond, uncond = _last_row_logits(model, enc_cond, enc_uncond, text_mask, rows)
        scores = rule(cond, uncond, guidance_scale, top_k)
        top2 = scores.topk(2, dim=-1).values
        picks = scores.argmax(-1)
        new_row = picks.clone()
        for b in range(batch):
            if eos_row[b] is None and (picks[b, 0] == EOS or r == forced_row):
                eos_row[b], eos_forced[b] = r, bool(picks[b, 0] != EOS)
            if eos_row[b] is not None:
                k = r - eos_row[b]
                new_row[b] = torch.where(delays == k, EOS, torch.where(delays < k, PAD, new_row[b]))
            free = [c for c in range(CHANNELS) if (eos_row[b] is None or r - eos_row[b] < DELAY[c])
                    and (r >= start_rows.shape[1] or start_rows[b, r, c] == PAD)]
            if free:  # margins only matter where the pick is kept
                gaps = (top2[b, free, 0] - top2[b, free, 1])
                min_margin = min(min_margin, float(gaps.min()))
        if r < start_rows.shape[1]:
            forced = start_rows[:, r]
            new_row = torch.where(forced != PAD, forced, new_row)
        rows = torch.cat([rows, new_row[:, None]], dim=1)
        if all(e is not None and r >= e + MAX_DELAY for e in eos_row):
            break
    return rows, eos_row, eos_forced, min_margin
