import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { renderMix, renderStem, renderStems, panGains } from './render.ts';
import { cuesFromTimeline, formatTimestamp, subtitleCues, toSrt, toVtt } from './subtitles.ts';
import { fadedSamples, planTimeline, type TimelineLine } from './timeline.ts';

const RATE = 48_000;
const timing = { gapMs: 400, crossfadeMs: 0, leadInMs: 0, tailMs: 0 };

function line(index: number, speakerId: string, length: number, extra: Partial<TimelineLine> = {}): TimelineLine {
  const samples = new Float32Array(length);
  for (let i = 0; i < length; i++) samples[i] = 0.1 + 0.8 * (((i * 7919 + index * 104_729) % 1000) / 1000) - 0.4;
  return { lineId: `l${index}`, index, speakerId, text: `Line ${index} text`, samples, sampleRate: RATE, ...extra };
}

describe('planTimeline', () => {
  it('places lines back to back with the global gap, per-line gaps, lead-in and tail, to the sample', () => {
    const t = planTimeline([line(0, 'S1', 1000), line(1, 'S2', 500, { gapAfterMs: 10 }), line(2, 'S1', 700)], { ...timing, leadInMs: 5, tailMs: 20 });
    const starts = t.placements.map((p) => [p.start, p.end]);
    // 5 ms = 240 samples; 400 ms = 19200; the gap after line 1 is 10 ms = 480.
    expect(starts).toEqual([[240, 1240], [1240 + 19_200, 1240 + 19_200 + 500], [20_940 + 480, 20_940 + 480 + 700]]);
    expect(t.length).toBe(22_120 + 960);
  });

  it('starts an interrupting line before the previous one ends, never before it starts', () => {
    const t = planTimeline([line(0, 'S1', 4800), line(1, 'S2', 4800, { overlapMs: 50 }), line(2, 'S1', 480, { overlapMs: 500 })], timing);
    expect(t.placements[1].start).toBe(4800 - 2400);
    // Line 2 follows the latest end (line 1's) minus 500 ms, clamped to line 1's start.
    expect(t.placements[2].start).toBe(t.placements[1].start);
    expect(t.length).toBe(t.placements[1].end);
  });

  it('follows the latest end, not the previous line, when an earlier line runs longer', () => {
    const t = planTimeline([line(0, 'S1', 9600), line(1, 'S2', 960, { overlapMs: 150 }), line(2, 'S1', 960)], { ...timing, gapMs: 0 });
    expect(t.placements[1].end).toBeLessThan(t.placements[0].end);
    expect(t.placements[2].start).toBe(t.placements[0].end);
  });

  it('rejects bad timing and mixed sample rates with messages naming the line', () => {
    expect(() => planTimeline([line(0, 'S1', 10)], { ...timing, gapMs: -1 })).toThrow(/Invalid gap: -1 ms/);
    expect(() => planTimeline([line(0, 'S1', 10), line(1, 'S1', 10, { sampleRate: 44_100 })], timing)).toThrow(/line 2 \(l1\).*44100 Hz/);
    expect(() => planTimeline([line(0, 'S1', 10, { overlapMs: Number.NaN })], timing)).toThrow(AppError);
    expect(() => planTimeline([], timing)).toThrow(/no line has a take/);
  });

  it('fades both ends with raised cosines that sum to one across an overlap', () => {
    const t = planTimeline([line(0, 'S1', 4800), line(1, 'S2', 4800)], { ...timing, crossfadeMs: 10 });
    const p = t.placements[0];
    expect(p.fadeIn).toBe(480);
    const faded = fadedSamples(p);
    expect(faded[0]).toBeCloseTo(p.samples[0] * (0.5 - 0.5 * Math.cos(Math.PI * 0.5 / 480)), 7);
    expect(faded[2400]).toBe(p.samples[2400]);
    const ones = { ...p, samples: new Float32Array(4800).fill(1) };
    const curve = fadedSamples(ones);
    for (let k = 0; k < 480; k++) expect(curve[k] + curve[4800 - 480 + k]).toBeCloseTo(1, 6);
    // A line shorter than two fades fades over half its length each way.
    expect(planTimeline([line(0, 'S1', 100)], { ...timing, crossfadeMs: 10 }).placements[0].fadeOut).toBe(50);
  });
});

describe('mix and stems', () => {
  const lines = [line(0, 'S1', 4800), line(1, 'S2', 3000), line(2, 'S1', 2000), line(3, 'S3', 1500)];

  it('stems have the mix length, silence where their speaker is quiet, and sum exactly to the mix', () => {
    const t = planTimeline(lines, { ...timing, crossfadeMs: 5 });
    const mix = renderMix(t, { channels: 1 })[0];
    const stems = renderStems(t, { channels: 1 });
    expect([...stems.keys()]).toEqual(['S1', 'S2', 'S3']);
    const sum = new Float32Array(mix.length);
    for (const [, [stem]] of stems) {
      expect(stem.length).toBe(mix.length);
      for (let i = 0; i < sum.length; i++) sum[i] += stem[i];
    }
    expect(Buffer.compare(Buffer.from(sum.buffer), Buffer.from(mix.buffer))).toBe(0);
    const s2 = stems.get('S2')![0];
    const p = t.placements[1];
    expect(s2.subarray(0, p.start).every((x) => x === 0)).toBe(true);
    expect(s2.subarray(p.end).every((x) => x === 0)).toBe(true);
    expect(s2[p.start + 1000]).toBe(p.samples[1000]);
  });

  it('sums stems to the stereo mix with overlapping, panned speakers', () => {
    const overlapping = [line(0, 'S1', 4800), line(1, 'S2', 4800, { overlapMs: 60 })];
    const t = planTimeline(overlapping, timing);
    const pans = new Map([['S1', -0.5], ['S2', 0.8]]);
    const mix = renderMix(t, { channels: 2, pans });
    const a = renderStem(t, 'S1', { channels: 2, pans });
    const b = renderStem(t, 'S2', { channels: 2, pans });
    for (let c = 0; c < 2; c++) for (let i = 0; i < mix[c].length; i++) expect(Math.abs(a[c][i] + b[c][i] - mix[c][i])).toBeLessThan(1e-6);
  });

  it('pans with constant power', () => {
    for (const pan of [-1, -0.3, 0, 0.6, 1]) {
      const [l, r] = panGains(pan, 2);
      expect(l * l + r * r).toBeCloseTo(1, 12);
    }
    expect(panGains(-1, 2)[1]).toBeCloseTo(0, 12);
    expect(panGains(0.5, 1)).toEqual([1]);
  });
});

describe('subtitles', () => {
  it('time every cue from its line\'s samples (within half a millisecond) in SRT and WebVTT', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: fc.integer({ min: 1, max: 30_000 }), gap: fc.integer({ min: 0, max: 2000 }), overlap: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(22_050, 44_100, 48_000),
        (specs, rate) => {
          const ls = specs.map((s, i) => ({ ...line(i, i % 2 ? 'S2' : 'S1', s.length), sampleRate: rate, gapAfterMs: s.gap, overlapMs: i % 3 === 2 ? s.overlap : undefined }));
          const t = planTimeline(ls, timing);
          const cues = cuesFromTimeline(t, new Map([['S1', 'Ann'], ['S2', 'Bo']]));
          const srtTimes = [...toSrt(subtitleCues(cues, { speakerLabels: true })).matchAll(/(\d+):(\d\d):(\d\d),(\d{3}) --> (\d+):(\d\d):(\d\d),(\d{3})/g)];
          const vttTimes = [...toVtt(subtitleCues(cues, { speakerLabels: true })).matchAll(/(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})/g)];
          expect(srtTimes.length).toBe(cues.length);
          expect(vttTimes.length).toBe(cues.length);
          const ms = (m: RegExpMatchArray, at: number): number => ((+m[at] * 60 + +m[at + 1]) * 60 + +m[at + 2]) * 1000 + +m[at + 3];
          cues.forEach((cue, i) => {
            for (const m of [srtTimes[i], vttTimes[i]]) {
              expect(Math.abs(ms(m, 1) - (cue.start * 1000) / rate)).toBeLessThanOrEqual(0.5);
              expect(ms(m, 5)).toBeGreaterThan(ms(m, 1));
              expect(Math.abs(ms(m, 5) - (cue.end * 1000) / rate)).toBeLessThanOrEqual(Math.max(0.5, ms(m, 1) + 1 - (cue.end * 1000) / rate));
            }
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes well-formed SRT and WebVTT with speaker labels, wrapped rows and escaped markup', () => {
    const ls = [
      { ...line(0, 'S1', RATE), text: '[S1] Hello there, <friend> & welcome to a rather long line that needs wrapping.' },
      { ...line(1, 'S2', RATE / 2), text: 'Hi!  (laughs)' },
    ];
    const cues = cuesFromTimeline(planTimeline(ls, { ...timing, leadInMs: 1500 }), new Map([['S1', 'Ann'], ['S2', 'Bo <2>']]));
    expect(toSrt(subtitleCues(cues, { speakerLabels: true }))).toBe(
      '1\n00:00:01,500 --> 00:00:02,500\nAnn: Hello there, <friend> & welcome to\na rather long line that needs wrapping.\n\n' +
        '2\n00:00:02,900 --> 00:00:03,400\nBo <2>: Hi! (laughs)\n',
    );
    expect(toVtt(subtitleCues(cues, { speakerLabels: true }))).toBe(
      'WEBVTT\n\n00:00:01.500 --> 00:00:02.500\n<v Ann>Hello there, &lt;friend&gt; &amp; welcome to a\nrather long line that needs wrapping.\n\n' +
        '00:00:02.900 --> 00:00:03.400\n<v Bo &lt;2&gt;>Hi! (laughs)\n',
    );
    expect(toSrt(subtitleCues(cues, { speakerLabels: false }))).toContain('\nHi! (laughs)\n');
  });

  it('formats hours past 99', () => {
    expect(formatTimestamp(100 * 3_600_000 + 61_001, ',')).toBe('100:01:01,001');
  });
});
