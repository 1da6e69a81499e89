// Voice-prompt limits: the transcript must leave the line room in the encoder window (its speaker
// tag counted as the tokenizer counts it), and a too-long clip's length is shown past the limit.
import { describe, expect, it } from 'vitest';
import { maxTranscriptIds } from '../../../src-shared/script/prompt-transcript.ts';
import { checkPromptTranscript, promptTranscript, promptTranscriptIds, shownOver } from './voice-prompt.ts';
import { PROMPT_TRANSCRIPT_WINDOW } from '../../../src-shared/script/prompt-transcript.ts';

describe('voice-prompt transcript limit', () => {
  it('counts [S1]/[S2] as one id and other tags as text, so the longest transcript depends on the speaker', () => {
    expect(maxTranscriptIds('S1')).toBe(508);
    expect(maxTranscriptIds('S2')).toBe(508);
    expect(maxTranscriptIds('S3')).toBe(505);
    expect(maxTranscriptIds('S42')).toBe(504);
    // The limit is worked out without the tokenizer (the Speakers panel shares it): it must agree with it for every speaker.
    for (const speaker of Array.from({ length: 99 }, (_, i) => `S${i + 1}`)) {
      const longest = 'x'.repeat(maxTranscriptIds(speaker));
      expect(promptTranscriptIds(speaker, longest)).toBe(PROMPT_TRANSCRIPT_WINDOW - 1);
      expect(() => checkPromptTranscript(speaker, longest, 'T')).not.toThrow();
      expect(() => checkPromptTranscript(speaker, `${longest}x`, 'T')).toThrow(`T is ${longest.length + 1} characters; a voice prompt transcript for speaker ${speaker} is limited to ${longest.length} characters: shorten it`);
    }
  });

  it("leaves the line room in a pass of the project's \"Characters per pass\", as a render checks it", () => {
    expect(maxTranscriptIds('S1', 320)).toBe(316);
    expect(maxTranscriptIds('S3', 320)).toBe(313);
    // Above half the window the window is the limit.
    expect(maxTranscriptIds('S1', 2000)).toBe(508);
    const longest = 'x'.repeat(316);
    // A render refuses a prompt taking the whole pass (line-renderer's checkPromptRoom).
    expect(promptTranscriptIds('S1', longest)).toBe(319);
    expect(() => checkPromptTranscript('S1', longest, 'T', 320)).not.toThrow();
    expect(() => checkPromptTranscript('S1', 'x'.repeat(399), 'T', 320)).toThrow(
      'T is 399 characters; with its speaker tag it takes 402 of this project\'s 320 "Characters per pass" (Settings), leaving its lines no room: shorten it to at most 316 characters or raise "Characters per pass" well above 402',
    );
    expect(() => promptTranscript('S1', `[S1] ${longest}x`, 'T', 320)).toThrow('takes 320 of this project\'s 320 "Characters per pass"');
    // The window's own limit keeps its message.
    expect(() => checkPromptTranscript('S1', 'x'.repeat(509), 'T', 2000)).toThrow('is limited to 508 characters');
  });

  it('counts bytes, not characters, and names reserved control characters', () => {
    // 127 four-byte emoji are 254 characters to JavaScript, 127 to the user, 508 bytes.
    expect(() => checkPromptTranscript('S1', '😀'.repeat(127), 'T')).not.toThrow();
    expect(() => checkPromptTranscript('S1', '😀'.repeat(128), 'T')).toThrow('T is 128 characters (512 bytes in UTF-8)');
    expect(() => checkPromptTranscript('S1', 'a\u0000b', 'T')).toThrow('T contains the control character U+0000 (at character 2)');
    expect(() => checkPromptTranscript('S2', '\u0002', 'T')).toThrow('U+0002');
  });

  it("drops a leading tag of the transcript's own speaker and refuses any other speaker tag (the app adds the tag itself)", () => {
    expect(promptTranscript('S2', '  Plain words.  ', 'T')).toBe('Plain words.');
    expect(promptTranscript('S2', ' [S2]  Exactly what I say. ', 'T')).toBe('Exactly what I say.');
    // Brackets that are no speaker tag stay text, as the script parser reads them.
    expect(promptTranscript('S1', 'A [note] and [S100] and [s1].', 'T')).toBe('A [note] and [S100] and [s1].');
    expect(() => promptTranscript('S2', '[S1] Exactly what the speaker says in the clip.', 'T')).toThrow(
      'T contains the speaker tag [S1]: write only the words said in the clip; the app puts [S2] in front of them itself',
    );
    expect(() => promptTranscript('S1', '[S1] Hello. [S2] Hi.', 'T')).toThrow('T contains the speaker tag [S2]');
    expect(() => promptTranscript('S3', 'Hi [S99] there', 'T')).toThrow('T contains the speaker tag [S99]');
    expect(() => promptTranscript('S1', ' [S1] ', 'T')).toThrow('T is empty once its speaker tag [S1] is dropped: write the words said in the clip');
    // The limit still holds for what is kept.
    expect(promptTranscript('S1', `[S1] ${'x'.repeat(508)}`, 'T')).toHaveLength(508);
    expect(() => promptTranscript('S1', `[S1] ${'x'.repeat(509)}`, 'T')).toThrow('T is 509 characters');
  });

  it('shows a clip length or a level with the decimals it takes to be over the limit', () => {
    expect(shownOver(21, 20)).toBe('21.0');
    expect(shownOver(20.02, 20)).toBe('20.02');
    expect(shownOver(20.0001, 20)).toBe('20.001');
    expect(shownOver(3.14, 0)).toBe('3.1');
    expect(shownOver(0.04, 0)).toBe('0.04');
  });
});
