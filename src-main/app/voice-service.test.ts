// VoiceService over real SQLite stores: a WAV clip (mixed to mono) or a take becomes a speaker's
// voice prompt; other formats, bad clips and foreign takes get clear errors.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpeakerSchema } from '../../src-shared/api/projects.ts';
import { concatBytes, encodeWav, wavHeader } from '../audio/wav.ts';
import { promptTranscriptIds } from '../engine/runtime/voice-prompt.ts';
import { PROMPT_TRANSCRIPT_WINDOW } from '../../src-shared/script/prompt-transcript.ts';
import { floatToPcm24, pcm24ToFloat } from '../store/pcm.ts';
import { removeTempDirs, sampleKeyInput, speechLikeAudio } from '../store/testing.ts';
import type { Project } from '../store/types.ts';
import { createVoiceService } from './voice-service.ts';
import { openTestStores, putTestTake, type TestStores } from './store-test-support.ts';

afterAll(removeTempDirs);

let stores: TestStores;
let project: Project;
beforeEach(async () => {
  stores = await openTestStores();
  const created = stores.projects.createProject('Voices', undefined, [
    { id: 'S1', name: 'Ada', color: '#0072b2', voicePrompt: null },
    { id: 'S2', name: 'Bo', color: '#d55e00', voicePrompt: null },
  ]);
  project = stores.projects.saveProject({ ...created, lines: [{ id: 'a', speakerId: 'S1', text: ' Nice to meet you. (laughs) ', chosenTake: null }] });
});
afterEach(() => stores.close());

async function wavFile(name: string, channels: Float32Array[], sampleRate = 22_050): Promise<string> {
  const path = join(stores.dir, name);
  await writeFile(path, concatBytes(encodeWav(channels, sampleRate, 'float32')));
  return path;
}

describe('VoiceService', () => {
  it('imports a stereo WAV clip as the speaker\'s voice prompt, mixed to mono', async () => {
    const service = createVoiceService(stores);
    const left = speechLikeAudio(0.8, 1, 22_050);
    const right = speechLikeAudio(0.8, 2, 22_050);
    const clip = await wavFile('clip.wav', [left, right]);
    const { speaker, note } = await service.importVoicePrompt({ projectId: project.id, speakerId: 'S2', transcript: ' This is me. ' }, clip);
    expect(note).toBeUndefined();
    expect(v.parse(SpeakerSchema, speaker)).toEqual(speaker);
    expect(speaker).toMatchObject({ id: 'S2', name: 'Bo', voicePrompt: { transcript: 'This is me.', sampleRate: 22_050, sampleCount: left.length } });
    const stored = stores.projects.loadProject(project.id);
    expect(stored.speakers.map((s) => s.voicePrompt?.sha256 ?? null)).toEqual([null, speaker.voicePrompt!.sha256]);
    const kept = stores.projects.readVoicePrompt(project.id, speaker.voicePrompt!.sha256);
    const mono = left.map((x, i) => (x + right[i]) / 2);
    expect(kept.samples).toEqual(pcm24ToFloat(floatToPcm24(mono)));
  });

  it('promotes a take to a voice prompt with its line text as the transcript', async () => {
    const service = createVoiceService(stores);
    const line = { projectId: project.id, lineId: 'a', text: project.lines[0].text };
    const take = putTestTake(stores, line, 4, 1.5);
    const speaker = await service.promoteTake({ projectId: project.id, takeId: take.id, speakerId: 'S1' });
    expect(v.parse(SpeakerSchema, speaker)).toEqual(speaker);
    expect(speaker.voicePrompt).toMatchObject({ transcript: 'Nice to meet you. (laughs)', sampleRate: 44_100, sampleCount: take.sampleCount });
    expect(stores.projects.readVoicePrompt(project.id, speaker.voicePrompt!.sha256).samples).toEqual(stores.takes.readAudio(take.id));
    expect(stores.projects.loadProject(project.id).speakers[0].voicePrompt).toEqual(speaker.voicePrompt);
  });

  it('refuses other formats, unreadable and unusable clips, naming the file', async () => {
    const service = createVoiceService(stores);
    const request = { projectId: project.id, speakerId: 'S1' as const, transcript: 'Hello.' };
    const flac = join(stores.dir, 'clip.flac');
    await writeFile(flac, Buffer.from('fLaC\0\0\0\x22 rest of a flac stream', 'latin1'));
    await expect(service.importVoicePrompt(request, flac)).rejects.toMatchObject({ code: 'invalid-input', message: `${flac} is a FLAC file: voice prompts are imported from WAV clips only; convert it to WAV first` });
    const mp3 = join(stores.dir, 'clip.mp3');
    await writeFile(mp3, Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'));
    await expect(service.importVoicePrompt(request, mp3)).rejects.toMatchObject({ message: expect.stringContaining(`${mp3} is an MP3 file`) });
    const text = join(stores.dir, 'notes.wav');
    await writeFile(text, 'just some text');
    await expect(service.importVoicePrompt(request, text)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining(`${text} is not a WAV file`) });
    const missing = join(stores.dir, 'missing.wav');
    await expect(service.importVoicePrompt(request, missing)).rejects.toMatchObject({ code: 'not-found', message: `Cannot read ${missing}: no such file` });
    await expect(service.importVoicePrompt(request, stores.dir)).rejects.toMatchObject({ code: 'io-failed', message: `Cannot read ${stores.dir}: it is a folder, not a file` });
    // Shorter than a RIFF header: named as not WAV, not as a damaged WAV file.
    const tiny = join(stores.dir, 'tiny.wav');
    await writeFile(tiny, 'RIFF');
    await expect(service.importVoicePrompt(request, tiny)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining(`${tiny} is not a WAV file`) });

    const long = await wavFile('long.wav', [new Float32Array(8_000 * 21)], 8_000);
    await expect(service.importVoicePrompt(request, long)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/long\.wav: it is 21\.0 s long; .*20 s/) });
    const lowRate = await wavFile('low.wav', [speechLikeAudio(0.5, 3, 4_000)], 4_000);
    await expect(service.importVoicePrompt(request, lowRate)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('low.wav: sample rate 4000') });
    const nan = await wavFile('nan.wav', [Float32Array.from([0.1, Number.NaN, 0.1])]);
    await expect(service.importVoicePrompt(request, nan)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('nan.wav') });
    const empty = await wavFile('empty.wav', [new Float32Array(0)]);
    await expect(service.importVoicePrompt(request, empty)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('empty.wav') });
    // Digital silence (a muted take, the silent channel of a recording) holds no voice to take.
    const silent = await wavFile('silent.wav', [new Float32Array(22_050 * 3), new Float32Array(22_050 * 3)]);
    await expect(service.importVoicePrompt(request, silent)).rejects.toMatchObject({
      code: 'invalid-input', message: `Invalid voice clip ${silent}: it is silent (3.0 s of digital silence), so it has no voice to take; choose a clip of the speaker talking`,
    });
    expect(stores.projects.pruneVoicePrompts(project.id)).toBe(0);
    expect(stores.projects.loadProject(project.id).speakers.every((s) => s.voicePrompt === null)).toBe(true);
  });

  it('refuses to promote a silent take (a muted render): it has no voice to take', async () => {
    const service = createVoiceService(stores);
    const line = { projectId: project.id, lineId: 'a', text: project.lines[0].text };
    const keyInput = sampleKeyInput({ seed: 77, normalizedText: `[S1] ${line.text}` });
    const muted = stores.takes.putTake({ keyInput, line, audio: new Float32Array(44_100 * 1.5), sampleRate: 44_100, metrics: { generationMs: 900, ttfaMs: 300, steps: 129 } });
    await expect(service.promoteTake({ projectId: project.id, takeId: muted.id, speakerId: 'S1' })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `Invalid take ${muted.id} as a voice prompt: it is silent (1.5 s of digital silence), so it has no voice to take; choose a clip of the speaker talking`,
    });
    expect(stores.projects.loadProject(project.id).speakers[0].voicePrompt).toBeNull();
    expect(stores.projects.pruneVoicePrompts(project.id)).toBe(0);
  });

  it('refuses unknown speakers, projects and takes, and takes of other projects', async () => {
    const service = createVoiceService(stores);
    const clip = await wavFile('ok.wav', [speechLikeAudio(0.5, 5, 22_050)]);
    await expect(service.importVoicePrompt({ projectId: project.id, speakerId: 'S9', transcript: 'Hi.' }, clip))
      .rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/Speaker S9 .*"Voices"/) });
    await expect(service.importVoicePrompt({ projectId: 'gone', speakerId: 'S1', transcript: 'Hi.' }, clip)).rejects.toMatchObject({ code: 'not-found' });
    await expect(service.promoteTake({ projectId: project.id, takeId: 99_999, speakerId: 'S1' })).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('Take 99999') });
    const foreign = putTestTake(stores, { projectId: 'another-project', lineId: 'x', text: 'Elsewhere.' }, 6);
    await expect(service.promoteTake({ projectId: project.id, takeId: foreign.id, speakerId: 'S1' }))
      .rejects.toMatchObject({ code: 'not-found', message: `Take ${foreign.id} is not a take of project "Voices"` });
    const long = putTestTake(stores, { projectId: project.id, lineId: 'a', text: 'Nice to meet you.' }, 7, 21);
    await expect(service.promoteTake({ projectId: project.id, takeId: long.id, speakerId: 'S1' }))
      .rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/take \d+ as a voice prompt: it is 21\.0 s long/) });
    expect(stores.projects.pruneVoicePrompts(project.id)).toBe(0);
  });

  it('refuses a transcript the model cannot read beside a line: over half the window with its speaker tag, or with U+0000-U+0002', async () => {
    const service = createVoiceService(stores);
    const clip = await wavFile('ok.wav', [speechLikeAudio(0.5, 5, 22_050)]);
    const request = (speakerId: 'S1' | 'S3', transcript: string) => ({ projectId: project.id, speakerId, transcript });
    // Passes longer than half the window: the window is the limit here.
    const settings = { ...project.settings, chunking: { ...project.settings.chunking, maxPassChars: 1000 } };
    stores.projects.saveProject({ ...stores.projects.loadProject(project.id), settings, speakers: [...project.speakers, { id: 'S3', name: 'Cy', color: '#009e73', voicePrompt: null }] });
    // "[S1] " is two ids, "[S3] " five; with the separator the whole must stay under 512.
    const longest = 'a'.repeat(508);
    expect(promptTranscriptIds('S1', longest)).toBe(PROMPT_TRANSCRIPT_WINDOW - 1);
    const kept = await service.importVoicePrompt(request('S1', ` ${longest} `), clip);
    expect(kept.speaker.voicePrompt?.transcript).toBe(longest);
    const transcriptOf = `The transcript of voice clip ${clip}`;
    await expect(service.importVoicePrompt(request('S1', 'a'.repeat(509)), clip)).rejects.toMatchObject({
      code: 'invalid-input',
      message: `${transcriptOf} is 509 characters; a voice prompt transcript for speaker S1 is limited to 508 characters: shorten it`,
    });
    await expect(service.importVoicePrompt(request('S3', 'a'.repeat(506)), clip)).rejects.toMatchObject({ message: expect.stringContaining('for speaker S3 is limited to 505 characters') });
    // 399 characters of two-byte letters are 798 bytes: the count the user sees and the real size.
    await expect(service.importVoicePrompt(request('S1', 'é'.repeat(399)), clip)).rejects.toMatchObject({ message: expect.stringContaining(`${transcriptOf} is 399 characters (798 bytes in UTF-8)`) });
    await expect(service.importVoicePrompt(request('S1', 'Hello\u0001 there'), clip)).rejects.toMatchObject({
      code: 'invalid-input', message: expect.stringMatching(new RegExp(`^${transcriptOf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} contains the control character U\\+0001 \\(at character 6\\)`)),
    });
    expect(stores.projects.loadProject(project.id).speakers.find((s) => s.id === 'S3')?.voicePrompt).toBeNull();

    const tooLong = stores.projects.saveProject({ ...stores.projects.loadProject(project.id), lines: [{ id: 'b', speakerId: 'S2', text: 'word '.repeat(110), chosenTake: null }] });
    const take = putTestTake(stores, { projectId: project.id, lineId: 'b', text: tooLong.lines[0].text }, 8, 1, 'S2');
    await expect(service.promoteTake({ projectId: project.id, takeId: take.id, speakerId: 'S2' })).rejects.toMatchObject({
      code: 'invalid-input', message: expect.stringMatching(new RegExp(`^The line of take ${take.id} \\(its transcript as a voice prompt\\) is 549 characters; .*limited to 508 characters`)),
    });
  });

  it('refuses a transcript that leaves no room in a pass of the project\'s "Characters per pass", at import and at promote', async () => {
    const service = createVoiceService(stores);
    const clip = await wavFile('ok.wav', [speechLikeAudio(0.5, 5, 22_050)]);
    const settings = { ...project.settings, chunking: { ...project.settings.chunking, maxPassChars: 320 } };
    const saved = stores.projects.saveProject({ ...stores.projects.loadProject(project.id), settings, lines: [{ id: 'd', speakerId: 'S1', text: 'word '.repeat(80).trim(), chosenTake: null }] });
    // The reviewer's case: under half the window, but every render of the speaker would fail at 320.
    await expect(service.importVoicePrompt({ projectId: project.id, speakerId: 'S1', transcript: 'a'.repeat(399) }, clip)).rejects.toMatchObject({
      code: 'invalid-input',
      message: `The transcript of voice clip ${clip} is 399 characters; with its speaker tag it takes 402 of this project's 320 "Characters per pass" (Settings), leaving its lines no room: shorten it to at most 316 characters or raise "Characters per pass" well above 402`,
    });
    const kept = await service.importVoicePrompt({ projectId: project.id, speakerId: 'S1', transcript: 'a'.repeat(316) }, clip);
    expect(kept.speaker.voicePrompt?.transcript).toHaveLength(316);
    const take = putTestTake(stores, { projectId: project.id, lineId: 'd', text: saved.lines[0].text }, 10);
    await expect(service.promoteTake({ projectId: project.id, takeId: take.id, speakerId: 'S2' })).rejects.toMatchObject({
      code: 'invalid-input', message: expect.stringContaining(`The line of take ${take.id} (its transcript as a voice prompt) is 399 characters; with its speaker tag it takes 402 of this project's 320`),
    });
    expect(stores.projects.loadProject(project.id).speakers[1].voicePrompt).toBeNull();
  });

  it('refuses a transcript with speaker tags in it, dropping only a leading tag of its own speaker', async () => {
    const service = createVoiceService(stores);
    const clip = await wavFile('ok.wav', [speechLikeAudio(0.5, 5, 22_050)]);
    // What the import form's old hint asked for, for speaker S2: the words would end up under [S1].
    await expect(service.importVoicePrompt({ projectId: project.id, speakerId: 'S2', transcript: '[S1] Exactly what the speaker says in the clip.' }, clip)).rejects.toMatchObject({
      code: 'invalid-input',
      message: `The transcript of voice clip ${clip} contains the speaker tag [S1]: write only the words said in the clip; the app puts [S2] in front of them itself`,
    });
    expect(stores.projects.loadProject(project.id).speakers[1].voicePrompt).toBeNull();
    const own = await service.importVoicePrompt({ projectId: project.id, speakerId: 'S2', transcript: '[S2] This is me.' }, clip);
    expect(own.speaker.voicePrompt?.transcript).toBe('This is me.');

    const tagged = stores.projects.saveProject({ ...stores.projects.loadProject(project.id), lines: [{ id: 'c', speakerId: 'S1', text: 'Say [S2] twice.', chosenTake: null }] });
    const take = putTestTake(stores, { projectId: project.id, lineId: 'c', text: tagged.lines[0].text }, 9);
    await expect(service.promoteTake({ projectId: project.id, takeId: take.id, speakerId: 'S1' })).rejects.toMatchObject({
      code: 'invalid-input', message: expect.stringContaining(`The line of take ${take.id} (its transcript as a voice prompt) contains the speaker tag [S2]`),
    });
  });

  it('imports a clip whose header never got its length (piped from ffmpeg or sox, a recorder that stopped): the samples present', async () => {
    const service = createVoiceService(stores);
    const request = { projectId: project.id, speakerId: 'S1' as const, transcript: 'Hello.' };
    const voice = speechLikeAudio(1, 6, 22_050);
    const bytes = concatBytes(encodeWav([voice], 22_050, 'pcm16', { ditherSeed: 2 }));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sizes: number[] = [];
    for (const [name, dataSize] of [['piped.wav', 0xffff_ffff], ['stopped.wav', 0]] as const) {
      view.setUint32(40, dataSize, true);
      const clip = join(stores.dir, name);
      await writeFile(clip, bytes);
      sizes.push((await service.importVoicePrompt(request, clip)).speaker.voicePrompt!.sampleCount);
    }
    expect(sizes).toEqual([voice.length, voice.length]);
  });

  it('scales a float clip louder than full scale down to just under it, keeping its shape instead of clipping it, and says so', async () => {
    const service = createVoiceService(stores);
    const voice = speechLikeAudio(1, 8, 22_050);
    let peak = 0;
    for (const x of voice) peak = Math.max(peak, Math.abs(x));
    const loud = voice.map((x) => (x / peak) * 1.6); // peaks at +4 dB over full scale
    const clip = await wavFile('loud.wav', [loud]);
    const { speaker, note } = await service.importVoicePrompt({ projectId: project.id, speakerId: 'S1', transcript: 'Loud.' }, clip);
    expect(note).toBe('The clip peaked at +4.1 dBFS, louder than full scale: it was scaled down by 4.1 dB to fit, keeping its shape instead of clipping it');
    const stored = stores.projects.readVoicePrompt(project.id, speaker.voicePrompt!.sha256).samples;
    const gain = (1 - 2 ** -23) / 1.6;
    let worst = 0;
    for (let i = 0; i < loud.length; i++) worst = Math.max(worst, Math.abs(stored[i] - loud[i] * gain));
    expect(worst).toBeLessThanOrEqual(2 ** -23); // 24-bit rounding only: no sample clipped
    // A clip within full scale is stored as it is.
    const quiet = await wavFile('quiet.wav', [voice]);
    const kept = await service.importVoicePrompt({ projectId: project.id, speakerId: 'S2', transcript: 'Quiet.' }, quiet);
    expect(kept.note).toBeUndefined();
    expect(stores.projects.readVoicePrompt(project.id, kept.speaker.voicePrompt!.sha256).samples).toEqual(pcm24ToFloat(floatToPcm24(voice)));
    // Just over full scale: the note still shows a level over 0 dBFS.
    const barely = await wavFile('barely.wav', [voice.map((x) => (x / peak) * 1.0001)]);
    expect((await service.importVoicePrompt({ projectId: project.id, speakerId: 'S2', transcript: 'Barely.' }, barely)).note).toContain('peaked at +0.001 dBFS');
  });

  it('refuses an over-long clip from its header, before reading its samples, showing how far over it is', async () => {
    const service = createVoiceService(stores);
    const request = { projectId: project.id, speakerId: 'S1' as const, transcript: 'Hello.' };
    // A sparse 3 GiB clip (about 4.7 hours of 48 kHz stereo): never read, so never over 2 GiB of memory.
    const huge = join(stores.dir, 'huge.wav');
    const dataBytes = 3 * 2 ** 30;
    await writeFile(huge, wavHeader(2, 48_000, 'pcm16', dataBytes / 4));
    await truncate(huge, 44 + dataBytes);
    await expect(service.importVoicePrompt(request, huge)).rejects.toMatchObject({
      code: 'invalid-input', message: `Invalid voice clip ${huge}: it is 16777.2 s long; voice prompts are limited to 20 s (Dia works best with 5-10 s)`,
    });
    const justOver = await wavFile('just-over.wav', [new Float32Array(1_001)], 50);
    await expect(service.importVoicePrompt(request, justOver)).rejects.toMatchObject({ message: expect.stringContaining('just-over.wav: it is 20.02 s long') });
  });
});
