import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openProjectStore, openTakeStore } from '../store/index.ts';
import { loadExportInput } from './project-input.ts';

const root = mkdtempSync(join(tmpdir(), 'project-input-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadExportInput', () => {
  it('names a skipped long line by its first words without cutting a character in half', async () => {
    const projects = await openProjectStore(join(root, 'projects'));
    const takes = await openTakeStore(join(root, 'cache'));
    try {
      const created = projects.createProject('Emoji');
      // 39 letters, then an emoji: a cut at 40 UTF-16 units would keep half of it.
      const text = `${'a'.repeat(39)}😀 and then some more words`;
      const project = projects.saveProject({
        ...created,
        speakers: [{ id: 'S1', name: 'Ann', color: '#aa3300', voicePrompt: null }],
        lines: [{ id: 'line-1', speakerId: 'S1', text, chosenTake: null }],
      });
      // Its only line has no take, so the export stops, naming it.
      expect(() => loadExportInput(project, takes, { lineIds: null, missingTakes: 'skip' })).toThrow(`(line 1 ("${'a'.repeat(39)}…") has no chosen take)`);
    } finally {
      takes.close();
      projects.close();
    }
  });
});
