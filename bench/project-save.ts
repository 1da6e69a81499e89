// npm run bench:save — saving and exporting long scripts, as JSON: the first save after pasting
// N new lines (each looked up in the take cache), an autosave with nothing changed, one with one
// line edited, one with a line inserted at the top, and gathering an export's input. Every 10th
// line has a take linked (a cache hit links one take to many lines, so little audio is stored).
// Usage: node bench/project-save.ts [--runs=3] [lines...]   (default 10000 100000; best of the runs)
import { createProjectService } from '../src-main/app/project-service.ts';
import { openTestStores, putTestTake } from '../src-main/app/store-test-support.ts';
import { loadExportInput } from '../src-main/export/project-input.ts';
import { removeTempDirs } from '../src-main/store/testing.ts';
import type { SaveProjectRequest } from '../src-shared/api/projects.ts';
import { MAX_SCRIPT_CHARS } from '../src-shared/script/limits.ts';

const TAKES = 20;

async function bench(lineCount: number) {
  const stores = await openTestStores();
  try {
    const service = createProjectService(stores);
    const project = await service.createProject(`Bench ${lineCount}`);
    const lines: SaveProjectRequest['lines'] = Array.from({ length: lineCount }, (_, i) => ({
      id: `line-${i}`, speaker: i % 2 === 0 ? 'S1' : 'S2', text: `Hi ${i % TAKES}.`,
    }));
    // Takes rendered for the first TAKES lines; every 10th line reuses one of them (a cache hit).
    for (let i = 0; i < TAKES; i++) {
      const take = putTestTake(stores, { projectId: project.id, lineId: lines[i].id, text: lines[i].text }, i + 1, 0.2, lines[i].speaker);
      for (let j = i + TAKES * 10; j < lineCount; j += TAKES * 10) {
        if (lines[j].speaker === lines[i].speaker) stores.takes.useTake(take.key, { projectId: project.id, lineId: lines[j].id, text: lines[j].text });
      }
    }
    const { createdAt: _c, updatedAt: _u, ...base } = project;
    const request = (ls: SaveProjectRequest['lines']): SaveProjectRequest => ({
      // The editor text as typed; cut at the API's limit (the store does not tie it to the lines).
      ...base, lines: ls, script: ls.map((l) => `[${l.speaker}] ${l.text}`).join('\n').slice(0, MAX_SCRIPT_CHARS),
    });
    const timed = async (ls: SaveProjectRequest['lines']) => measure(() => service.saveProject(request(ls)));
    const firstSave = await timed(lines);
    const unchangedSave = await timed(lines);
    const edited = lines.map((l, i) => (i === lineCount >> 1 ? { ...l, text: `${l.text} Edited.` } : l));
    const oneEditSave = await timed(edited);
    const insertedTopSave = await timed([{ id: 'new-top', speaker: 'S1', text: 'A new first line.' }, ...edited]);
    const stored = stores.projects.loadProject(project.id);
    const exportInput = await measure(() => loadExportInput(stored, stores.takes, { lineIds: null, missingTakes: 'skip' }));
    return {
      firstSave, unchangedSave, oneEditSave, insertedTopSave, exportInput,
      exportedLines: exportInput.result.input.lines.length, chosenLines: stored.lines.filter((l) => l.chosenTake).length,
    };
  } finally {
    stores.close();
  }
}

/** Wall and CPU time of `fn` (CPU time is steadier on a machine shared with other work). */
async function measure<T>(fn: () => T | Promise<T>): Promise<{ ms: number; cpuMs: number; result: T }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = await fn();
  const { user, system } = process.cpuUsage(cpu);
  return { ms: Math.round(performance.now() - t), cpuMs: Math.round((user + system) / 1000), result };
}

const TIMINGS = ['firstSave', 'unchangedSave', 'oneEditSave', 'insertedTopSave', 'exportInput'] as const;

/** The best of `runs` fresh runs of each figure. */
async function best(lineCount: number, runs: number) {
  const all: Awaited<ReturnType<typeof bench>>[] = [];
  for (let i = 0; i < runs; i++) all.push(await bench(lineCount));
  const figures = Object.fromEntries(TIMINGS.map((k) => [k, {
    ms: Math.min(...all.map((r) => r[k].ms)), cpuMs: Math.min(...all.map((r) => r[k].cpuMs)),
  }]));
  return { lines: lineCount, runs, ...figures, exportedLines: all[0].exportedLines, chosenLines: all[0].chosenLines };
}

const args = process.argv.slice(2);
const runsArg = args.find((a) => a.startsWith('--runs='));
const runs = runsArg ? Number(runsArg.slice('--runs='.length)) : 3;
const counts = args.filter((a) => !a.startsWith('--')).map(Number);
const results = [];
for (const n of counts.length > 0 ? counts : [10_000, 100_000]) results.push(await best(n, runs));
removeTempDirs();
console.log(JSON.stringify({ node: process.version, results }));
