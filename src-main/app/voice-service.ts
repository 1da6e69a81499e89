// VoiceService of the app core: a speaker's voice prompt from a WAV clip the user picked, or from
// one of the project's takes (its audio, with its line text as the transcript). The clip is stored
// in the project store and set on the speaker in one transaction (a float clip louder than full
// scale is scaled down to just under it there, not clipped); the render service DAC-encodes it
// once per model when the speaker is rendered.
import { AppError } from '../../src-shared/errors.ts';
import type { Speaker as ApiSpeaker } from '../../src-shared/api.ts';
import type { ImportVoicePromptRequest, PromoteTakeRequest } from '../../src-shared/api/projects.ts';
import type { VoiceService } from './services.ts';
import { toApiSpeaker, type StoreBackend } from './project-service.ts';
import { readWavFile } from '../audio/wav.ts';
import { mixToMono } from '../engine/dac/audio-prep.ts';
import { MAX_PROMPT_SECONDS, promptTranscript, shownOver } from '../engine/runtime/voice-prompt.ts';
import { checkVoiceClip, fullScaleGain } from '../store/voice-prompt.ts';
import type { Project, VoicePromptClip } from '../store/types.ts';

/** Audio files recognised by their first bytes, to say what a non-WAV clip is. */
const OTHER_FORMATS: ReadonlyArray<{ name: string; matches: (b: Uint8Array) => boolean }> = [
  { name: 'a FLAC file', matches: (b) => ascii(b, 0, 4) === 'fLaC' },
  { name: 'an MP3 file', matches: (b) => ascii(b, 0, 3) === 'ID3' || (b[0] === 0xff && (b[1] & 0xe0) === 0xe0) },
  { name: 'an Ogg file', matches: (b) => ascii(b, 0, 4) === 'OggS' },
  { name: 'an MP4/M4A file', matches: (b) => ascii(b, 4, 8) === 'ftyp' },
  { name: 'an AIFF file', matches: (b) => ascii(b, 0, 4) === 'FORM' },
];

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/**
 * Decodes a WAV clip to mono; other formats get an error that names the file and its format (from
 * the first bytes the WAV reader reads anyway). A clip over the voice-prompt length is refused
 * from its header, before its samples are read. A clip whose header never got its length (piped
 * from ffmpeg or sox, a recorder that stopped) gives the samples it holds, as audio tools read it.
 */
export async function readVoiceClip(path: string): Promise<{ samples: Float32Array; sampleRate: number }> {
  const wav = await readWavFile(path, {
    unsizedData: true,
    notWav: (start) => {
      const what = OTHER_FORMATS.find((f) => f.matches(start))?.name ?? 'not a WAV file';
      return new AppError('invalid-input', `${path} is ${what}: voice prompts are imported from WAV clips only; convert it to WAV first`);
    },
    checkHeader: (info) => checkPromptLength(info.frames / info.sampleRate, `voice clip ${path}`),
  });
  return { samples: mixToMono(wav.channels), sampleRate: wav.sampleRate };
}

/** Refuses what the store would reject, or the renderer later (too long), naming `what`. */
function checkPromptLength(seconds: number, what: string): void {
  if (seconds > MAX_PROMPT_SECONDS) {
    throw new AppError('invalid-input', `Invalid ${what}: it is ${shownOver(seconds, MAX_PROMPT_SECONDS)} s long; voice prompts are limited to ${MAX_PROMPT_SECONDS} s (Dia works best with 5-10 s)`);
  }
}

/** What the user hears changed when a clip louder than full scale was stored at `gain`. */
function scaledNote(gain: number): string {
  const db = shownOver(-20 * Math.log10(gain), 0);
  return `The clip peaked at +${db} dBFS, louder than full scale: it was scaled down by ${db} dB to fit, keeping its shape instead of clipping it`;
}

export function createVoiceService(backend: StoreBackend): VoiceService {
  const { projects, takes } = backend;

  /** Stores `clip` as the speaker's voice; checked here first only to name it as `what` (the store checks every clip). */
  function assign(project: Project, speakerId: string, clip: VoicePromptClip, what: string): ApiSpeaker {
    checkVoiceClip(clip.samples, clip.sampleRate, what);
    return toApiSpeaker(projects.setSpeakerVoicePrompt(project.id, speakerId, clip), project.name);
  }

  /** The text the take speaks: its line's text in this project (a take may serve several lines). */
  function takeTranscript(project: Project, takeId: number, speakerId: string): string {
    const link = takes.linesOfTake(takeId).find((l) => l.projectId === project.id);
    if (!link) throw new AppError('not-found', `Take ${takeId} is not a take of project "${project.name}"`);
    if (link.text.trim() === '') throw new AppError('invalid-input', `Take ${takeId} belongs to an empty line, so it has no transcript to use as a voice prompt`);
    return promptTranscript(speakerId, link.text, `The line of take ${takeId} (its transcript as a voice prompt)`, maxPassChars(project));
  }

  /** The project's "Characters per pass": its speakers' lines must fit beside the transcript. */
  function maxPassChars(project: Project): number {
    return project.settings.chunking.maxPassChars;
  }

  return {
    async importVoicePrompt(request: ImportVoicePromptRequest, clipPath: string) {
      const project = projects.loadProject(request.projectId);
      const transcript = promptTranscript(request.speakerId, request.transcript, `The transcript of voice clip ${clipPath}`, maxPassChars(project));
      const { samples, sampleRate } = await readVoiceClip(clipPath);
      const speaker = assign(project, request.speakerId, { samples, sampleRate, transcript }, `voice clip ${clipPath}`);
      const gain = fullScaleGain(samples);
      return gain === 1 ? { speaker } : { speaker, note: scaledNote(gain) };
    },

    async promoteTake(request: PromoteTakeRequest) {
      const project = projects.loadProject(request.projectId);
      const take = takes.getTake(request.takeId);
      if (!take) throw new AppError('not-found', `Take ${request.takeId} is not in the take cache (${takes.path}); it may have been deleted`);
      const transcript = takeTranscript(project, take.id, request.speakerId);
      const what = `take ${take.id} as a voice prompt`;
      checkPromptLength(take.sampleCount / take.sampleRate, what);
      return assign(project, request.speakerId, { samples: takes.readAudio(take.id), sampleRate: take.sampleRate, transcript }, what);
    },
  };
}
