// Renders a timeline into audio: the mix, and one stem per speaker. A stem is the mix with every
// other speaker left out (same length, same positions, same pan), so the stems sum to the mix.
// Stereo uses a constant-power pan law: a centred speaker gets cos(π/4) = -3 dB in each channel,
// which keeps its loudness the same wherever it is panned.
import { AppError } from '../../src-shared/errors.ts';
import { fadedSamples, type Timeline } from './timeline.ts';

/** Per-channel gains for a pan position in -1 (left) .. 1 (right). */
export function panGains(pan: number, channels: 1 | 2): number[] {
  if (channels === 1) return [1];
  const angle = ((Math.min(1, Math.max(-1, pan)) + 1) * Math.PI) / 4;
  return [Math.cos(angle), Math.sin(angle)];
}

export interface RenderOptions {
  channels: 1 | 2;
  /** Pan per speaker id (stereo only); missing speakers sit in the centre. */
  pans?: ReadonlyMap<string, number>;
}

/** Sum of the placed lines for which `include(speakerId)` holds, as planar channels. */
function renderWhere(timeline: Timeline, opts: RenderOptions, include: (speakerId: string) => boolean): Float32Array[] {
  if (opts.channels !== 1 && opts.channels !== 2) throw new AppError('invalid-input', `Cannot render ${String(opts.channels)} channels (1 or 2)`);
  const out = Array.from({ length: opts.channels }, () => new Float32Array(timeline.length));
  for (const p of timeline.placements) {
    if (!include(p.speakerId)) continue;
    const samples = fadedSamples(p);
    const gains = panGains(opts.pans?.get(p.speakerId) ?? 0, opts.channels);
    for (let c = 0; c < out.length; c++) {
      const channel = out[c];
      const g = gains[c];
      for (let i = 0; i < samples.length; i++) channel[p.start + i] += g * samples[i];
    }
  }
  return out;
}

export function renderMix(timeline: Timeline, opts: RenderOptions): Float32Array[] {
  return renderWhere(timeline, opts, () => true);
}

export function renderStem(timeline: Timeline, speakerId: string, opts: RenderOptions): Float32Array[] {
  return renderWhere(timeline, opts, (id) => id === speakerId);
}

/** Speaker ids in order of first appearance on the timeline. */
export function speakersInOrder(timeline: Timeline): string[] {
  return [...new Set(timeline.placements.map((p) => p.speakerId))];
}

/** Every stem at once; for long scripts prefer renderStem one speaker at a time. */
export function renderStems(timeline: Timeline, opts: RenderOptions): Map<string, Float32Array[]> {
  return new Map(speakersInOrder(timeline).map((id) => [id, renderStem(timeline, id, opts)]));
}
