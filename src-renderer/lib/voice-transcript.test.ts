import { describe, expect, it } from 'vitest';
import { maxTranscriptIds } from '../../src-shared/script/prompt-transcript.ts';
import { transcriptProblem } from './voice-transcript.ts';

describe('the transcript typed for a voice clip', () => {
  it('is the words only: the speaker tag is added by the app, so another speaker tag is refused before a clip is chosen', () => {
    expect(transcriptProblem('S2', 'Exactly what I say.')).toBeNull();
    expect(transcriptProblem('S2', '[S2] Exactly what I say.')).toBeNull();
    expect(transcriptProblem('S2', '[S1] Exactly what the speaker says in the clip.')).toBe(
      'Leave out the speaker tag [S1]: write only the words said in the clip; [S2] is put in front of them for you.',
    );
    expect(transcriptProblem('S1', 'Hello [S12] there')).toContain('[S12]');
    expect(transcriptProblem('S1', 'A [note] and [s1].')).toBeNull();
  });

  it('needs words, within the length the model reads beside a line', () => {
    expect(transcriptProblem('S1', '   ')).toBe('');
    expect(transcriptProblem('S1', '[S1]')).toBe('');
    expect(maxTranscriptIds('S1')).toBe(508);
    expect(maxTranscriptIds('S3')).toBe(505);
    expect(transcriptProblem('S1', 'x'.repeat(508))).toBeNull();
    expect(transcriptProblem('S1', `[S1] ${'x'.repeat(508)}`)).toBeNull();
    expect(transcriptProblem('S1', 'x'.repeat(509))).toBe('This transcript is 509 characters; a voice prompt transcript for speaker S1 is limited to 508 characters: shorten it.');
  });

  it('leaves the line room in a pass of the project\'s "Characters per pass", as the main side checks it', () => {
    expect(maxTranscriptIds('S1', 320)).toBe(316);
    expect(maxTranscriptIds('S3', 320)).toBe(313);
    expect(maxTranscriptIds('S1', 2000)).toBe(508);
    expect(transcriptProblem('S1', 'x'.repeat(316), 320)).toBeNull();
    expect(transcriptProblem('S1', 'x'.repeat(399), 320)).toBe(
      'This transcript is 399 characters; with its speaker tag it takes 402 of this project\'s 320 "Characters per pass" (Settings), leaving its lines no room: shorten it to at most 316 characters or raise "Characters per pass" well above 402.',
    );
    expect(transcriptProblem('S1', 'x'.repeat(509), 2000)).toContain('is limited to 508 characters');
  });

  it('counts bytes in UTF-8 as the main side does, so accented or non-Latin words are not accepted here and refused after the clip is chosen', () => {
    // 300 characters, 600 bytes: over the 508 the main side allows.
    expect(transcriptProblem('S1', 'é'.repeat(300))).toBe(
      'This transcript is 300 characters (600 bytes in UTF-8); a voice prompt transcript for speaker S1 is limited to 508 bytes in UTF-8 (508 plain ASCII characters; accented letters take 2, most other scripts 3): shorten it.',
    );
    expect(transcriptProblem('S1', 'é'.repeat(254))).toBeNull();
    expect(transcriptProblem('S1', '日本語'.repeat(40), 320)).toBe(
      'This transcript is 120 characters (360 bytes in UTF-8); with its speaker tag it takes 363 of this project\'s 320 "Characters per pass" (Settings), leaving its lines no room: shorten it to at most 316 bytes in UTF-8 (316 plain ASCII characters; accented letters take 2, most other scripts 3) or raise "Characters per pass" well above 363.',
    );
  });
});
