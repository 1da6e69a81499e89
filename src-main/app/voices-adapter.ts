// VoiceService of the app core: a speaker's voice prompt from a WAV clip the user picked, or from
// one of the project's takes (its audio with its line text as the transcript). The clip is kept in
// the project store; the renderer DAC-encodes it once per model when the speaker renders.
import { AppError } from '../../src-shared/errors.ts';
import type { Speaker as ApiSpeaker } from '../../src-shared/api.ts';
import type { VoiceService } from './services.ts';
import type { StudioBackend } from '../render/studio-backend.ts';
import type { VoicePromptClip } from '../store/types.ts';
import { mixToMono, readWavFile } from '../engine/dac/audio-prep.ts';

export function createVoiceService(backend: StudioBackend): VoiceService {
  const { projects, takes } = backend;

  function assign(projectId: string, speakerId: string, clip: VoicePromptClip): ApiSpeaker {
    const ref = projects.putVoicePrompt(projectId, clip);
    const project = projects.loadProject(projectId);
    if (!project.speakers.some((s) => s.id === speakerId)) throw new AppError('not-found', `Speaker ${speakerId} is not in project ${project.name}`);
    const saved = projects.saveProject({ ...project, speakers: project.speakers.map((s) => (s.id === speakerId ? { ...s, voicePrompt: ref } : s)) });
    const speaker = saved.speakers.find((s) => s.id === speakerId)!;
    return { id: speaker.id as ApiSpeaker['id'], name: speaker.name, color: speaker.color, voicePrompt: speaker.voicePrompt };
  }

  return {
    async importVoicePrompt(request, clipPath) {
      if (!/\.wav$/i.test(clipPath)) throw new AppError('invalid-input', `${clipPath}: voice prompts are read from WAV files (convert other formats to WAV first)`);
      const audio = await readWavFile(clipPath);
      return assign(request.projectId, request.speakerId, { samples: mixToMono(audio.channels), sampleRate: audio.sampleRate, transcript: request.transcript });
    },
    async promoteTake(request) {
      const take = takes.getTake(request.takeId);
      if (!take) throw new AppError('not-found', `Take ${request.takeId} is not in the take cache`);
      const text = take.input.normalizedText.replace(/^\[S\d+\]\s*/, '');
      return assign(request.projectId, request.speakerId, { samples: takes.readAudio(take.id), sampleRate: take.sampleRate, transcript: text });
    },
  };
}
