// Test support: a real data folder (project store + take cache, laid out as StudioBackend does)
// holding one project whose lines have chosen takes, for the CLI and export-service tests.
import { join } from 'node:path';
import { speechLikeSignal } from '../audio/testing.ts';
import { openProjectStore, openTakeStore, takeKey, type Project } from '../store/index.ts';
import { sampleKeyInput } from '../store/testing.ts';

export interface SeededProject {
  dataDir: string;
  project: Project;
}

/**
 * Project "Radio Play": Ann and Bo, four lines; lines 1-3 have chosen takes (1.0, 0.8, 1.2 s at
 * 44.1 kHz, or `takeSeconds`), line 4 has none.
 */
export async function seedProject(dataDir: string, opts: { takeSeconds?: readonly number[] } = {}): Promise<SeededProject> {
  const seconds = opts.takeSeconds ?? [1, 0.8, 1.2];
  const projects = await openProjectStore(join(dataDir, 'projects'));
  const takes = await openTakeStore(join(dataDir, 'cache'));
  try {
    const created = projects.createProject('Radio Play');
    const texts = ['Is anyone there?', 'Only me, and the static.', 'Then keep talking (laughs).', 'Not rendered yet.'];
    const lines = texts.map((text, i) => {
      const speakerId = i % 2 === 0 ? 'S1' : 'S2';
      const lineId = `line-${i + 1}`;
      if (i === 3) return { id: lineId, speakerId, text, chosenTake: null };
      const input = sampleKeyInput({ seed: 100 + i, normalizedText: `[${speakerId}] ${text}`, speaker: speakerId });
      const take = takes.putTake({
        keyInput: input,
        line: { projectId: created.id, lineId, text },
        audio: speechLikeSignal(seconds[i], { seed: 50 + i }),
        sampleRate: 44_100,
        metrics: { generationMs: 1000, ttfaMs: 100, steps: 86 },
      });
      takes.chooseTake({ projectId: created.id, lineId, text }, take.id);
      return { id: lineId, speakerId, text, chosenTake: { key: takeKey(input), input } };
    });
    const speakers = [
      { id: 'S1', name: 'Ann', color: '#aa3300', voicePrompt: null },
      { id: 'S2', name: 'Bo', color: '#0033aa', voicePrompt: null },
    ];
    const project = projects.saveProject({ ...created, speakers, lines });
    return { dataDir, project };
  } finally {
    takes.close();
    projects.close();
  }
}
