import { describe, expect, it } from 'vitest';
import { maxTranscriptIds, promptFrameIds, PROMPT_TRANSCRIPT_WINDOW, transcriptTooLong } from './prompt-transcript.ts';

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

  it('says why a transcript is too long in characters for plain text, in UTF-8 bytes once a letter takes more', () => {
    expect(transcriptTooLong('S1', 'x'.repeat(508))).toBeNull();
    expect(transcriptTooLong('S1', 'x'.repeat(509))).toBe('is 509 characters; a voice prompt transcript for speaker S1 is limited to 508 characters: shorten it');
    expect(transcriptTooLong('S3', 'x'.repeat(506))).toContain('for speaker S3 is limited to 505 characters');
    expect(transcriptTooLong('S1', 'é'.repeat(254))).toBeNull();
    expect(transcriptTooLong('S1', 'é'.repeat(255))).toMatch(/^is 255 characters \(510 bytes in UTF-8\); .* limited to 508 bytes in UTF-8 \(508 plain ASCII characters; accented letters take 2/);
    expect(transcriptTooLong('S1', 'x'.repeat(316), 320)).toBeNull();
    expect(transcriptTooLong('S1', 'x'.repeat(317), 320)).toBe(
      'is 317 characters; with its speaker tag it takes 320 of this project\'s 320 "Characters per pass" (Settings), leaving its lines no room: shorten it to at most 316 characters or raise "Characters per pass" well above 320',
    );
  });
});
