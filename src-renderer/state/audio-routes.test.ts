import { describe, expect, it } from 'vitest';
import { type AudioEvent, type AudioSink, dropRoute, endRoute, failRoute, follow, routeAudioEvent } from './audio-routes.ts';

function takeChunk(streamId: string, seq: number, values: number[], last = false): AudioEvent {
  return { type: 'take:audio', streamId, seq, sampleRate: 44_100, samples: Float32Array.from(values), last };
}

function recorder(): AudioSink & { got: number[]; ended: number; failed: string[] } {
  const sink = {
    got: [] as number[],
    ended: 0,
    failed: [] as string[],
    push(samples: Float32Array) {
      sink.got.push(...samples);
    },
    end() {
      sink.ended++;
    },
    fail(error: { message: string }) {
      sink.failed.push(error.message);
    },
  };
  return sink;
}

describe('audio routes', () => {
  it('replays chunks that arrived before the route, in sequence order, then ends on the last chunk', () => {
    routeAudioEvent(takeChunk('s1', 1, [3, 4]));
    routeAudioEvent(takeChunk('other', 0, [9]));
    routeAudioEvent(takeChunk('s1', 0, [1, 2]));
    const sink = recorder();
    follow('s1', sink);
    expect(sink.got).toEqual([1, 2, 3, 4]);
    routeAudioEvent(takeChunk('s1', 2, [5], true));
    expect(sink.got).toEqual([1, 2, 3, 4, 5]);
    expect(sink.ended).toBe(1);
    // The route is gone: later chunks of the id are held, not delivered.
    routeAudioEvent(takeChunk('s1', 3, [6]));
    expect(sink.got).toHaveLength(5);
  });

  it('ends render routes when told, hands failures to the sink and forgets dropped routes', () => {
    const rendered = recorder();
    follow('r1', rendered);
    routeAudioEvent({ type: 'render:audio', renderId: 'r1', seq: 0, sampleRate: 44_100, samples: Float32Array.from([0.5]) });
    endRoute('r1');
    expect(rendered).toMatchObject({ got: [0.5], ended: 1 });

    const failing = recorder();
    follow('r2', failing);
    failRoute('r2', { code: 'engine-failed', message: 'boom' });
    expect(failing.failed).toEqual(['boom']);
    failRoute('r2', { code: 'engine-failed', message: 'again' });
    expect(failing.failed).toEqual(['boom']);

    const dropped = recorder();
    follow('r3', dropped);
    dropRoute('r3');
    endRoute('r3');
    expect(dropped.ended).toBe(0);
  });

  it('ends a stream that was over before it was followed (a take-cache hit answering before its reply), after its audio', () => {
    routeAudioEvent({ type: 'render:audio', renderId: 'hit', seq: 0, sampleRate: 44_100, samples: Float32Array.from([0.25, 0.5]) });
    endRoute('hit');
    const sink = recorder();
    follow('hit', sink);
    expect(sink).toMatchObject({ got: [0.25, 0.5], ended: 1, failed: [] });
    // Ended once: a second route of the id gets nothing more.
    const again = recorder();
    follow('hit', again);
    expect(again).toMatchObject({ got: [], ended: 0 });
  });

  it('hands a failure that came before the route to the sink that follows', () => {
    failRoute('early-error', { code: 'engine-failed', message: 'no model' });
    const sink = recorder();
    follow('early-error', sink);
    expect(sink).toMatchObject({ ended: 0, failed: ['no model'] });
  });

  it('does not let a stopped stream that goes on sending push out the early audio of the next one', () => {
    // Stop: the take's route is dropped, but its stream is not cancelled and keeps coming.
    const old = recorder();
    follow('stopped-take', old);
    dropRoute('stopped-take');
    // The next Play's first chunk comes before its reply, then more than the held limit of the old one.
    routeAudioEvent(takeChunk('next-take', 0, [0.5]));
    const stale = new Float32Array(4096);
    for (let seq = 0; seq < 200; seq++) routeAudioEvent({ type: 'take:audio', streamId: 'stopped-take', seq, sampleRate: 44_100, samples: stale, last: seq === 199 });
    const next = recorder();
    follow('next-take', next);
    expect(next.got).toEqual([0.5]);
    expect(old).toMatchObject({ got: [], ended: 0, failed: [] });
  });

  it('does not end a take twice when its held chunks already ended it', () => {
    routeAudioEvent(takeChunk('t-early', 0, [1], true));
    const sink = recorder();
    follow('t-early', sink);
    expect(sink).toMatchObject({ got: [1], ended: 1 });
  });
});
