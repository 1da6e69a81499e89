// Voice-prompt limits: the transcript must leave the line room in the encoder window (its speaker
// tag counted as the tokenizer counts it), and a too-long clip's length is shown past the limit.
import { describe, expect, it } from 'vitest';
import { checkPromptTranscript, maxTranscriptBytes, promptTranscriptIds, PROMPT_TRANSCRIPT_WINDOW, secondsOver } from './voice-prompt.ts';

describe('voice-prompt transcript limit', () => {
  it('counts [S1]/[S2] as one id and other tags as text, so the longest transcript depends on the speaker', () => {
    expect(maxTranscriptBytes('S1')).toBe(508);
    expect(maxTranscriptBytes('S2')).toBe(508);
    expect(maxTranscriptBytes('S3')).toBe(505);
    expect(maxTranscriptBytes('S42')).toBe(504);
    for (const speaker of ['S1', 'S3', 'S42']) {
      const longest = 'x'.repeat(maxTranscriptBytes(speaker));
      expect(promptTranscriptIds(speaker, longest)).toBe(PROMPT_TRANSCRIPT_WINDOW - 1);
      expect(() => checkPromptTranscript(speaker, longest, 'T')).not.toThrow();
      expect(() => checkPromptTranscript(speaker, `${longest}x`, 'T')).toThrow(`T is ${longest.length + 1} characters; a voice prompt transcript for speaker ${speaker} is limited to ${longest.length} bytes`);
    }
  });

  it('counts bytes, not characters, and names reserved control characters', () => {
    // 127 four-byte emoji are 254 characters to JavaScript, 127 to the user, 508 bytes.
    expect(() => checkPromptTranscript('S1', '😀'.repeat(127), 'T')).not.toThrow();
    expect(() => checkPromptTranscript('S1', '😀'.repeat(128), 'T')).toThrow('T is 128 characters (512 bytes in UTF-8)');
    expect(() => checkPromptTranscript('S1', 'a\u0000b', 'T')).toThrow('T contains the control character U+0000 (at character 2)');
    expect(() => checkPromptTranscript('S2', '\u0002', 'T')).toThrow('U+0002');
  });

  it('shows a clip length with the decimals it takes to be over the limit', () => {
    expect(secondsOver(21, 20)).toBe('21.0');
    expect(secondsOver(20.02, 20)).toBe('20.02');
    expect(secondsOver(20.0001, 20)).toBe('20.001');
  });
});
