import { describe, expect, it } from 'vitest';
import { maxTranscriptIds, promptFrameIds, PROMPT_TRANSCRIPT_WINDOW } from './prompt-transcript.ts';

describe('the voice prompt transcript limit', () => {
  it('counts [S1]/[S2] as one id and later tags as their characters, under half the model window', () => {
    expect(PROMPT_TRANSCRIPT_WINDOW).toBe(512);
    expect([promptFrameIds('S1'), promptFrameIds('S2'), promptFrameIds('S3'), promptFrameIds('S42')]).toEqual([3, 3, 6, 7]);
    expect(maxTranscriptIds('S1')).toBe(508);
    expect(maxTranscriptIds('S3')).toBe(505);
    expect(maxTranscriptIds('S99')).toBe(504);
  });

  it('leaves the line room in a pass of the project\'s "Characters per pass"', () => {
    expect(maxTranscriptIds('S1', 320)).toBe(316);
    expect(maxTranscriptIds('S3', 320)).toBe(313);
    expect(maxTranscriptIds('S1', 2000)).toBe(508);
  });
});
