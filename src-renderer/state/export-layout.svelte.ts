// The project's export layout (per-line gap/overlap, speaker pans), edited in the export panel and
// saved with the project's settings, so app exports and `npm run export` lay the script out alike.
// Lines with no own timing and centred speakers are left out, keeping the saved settings small.
import type { ExportLayout } from '../../src-shared/api/projects.ts';
import { MAX_LINE_TIMING_MS } from '../../src-shared/api/projects.ts';
import type { SpeakerId } from '../../src-shared/script/types.ts';
import { project } from './project.svelte.ts';
import { script } from './script.svelte.ts';
import { updateSettings } from './settings.svelte.ts';

export interface LineTiming {
  gapAfterMs: number | null;
  overlapMs: number | null;
}

const EMPTY: ExportLayout = { lineTiming: [], speakerPans: [] };

export function exportLayout(): ExportLayout {
  return project.settings?.exportLayout ?? EMPTY;
}

export function lineTimingOf(lineId: string): LineTiming {
  const t = exportLayout().lineTiming.find((x) => x.lineId === lineId);
  return { gapAfterMs: t?.gapAfterMs ?? null, overlapMs: t?.overlapMs ?? null };
}

export function panOf(speakerId: string): number {
  return exportLayout().speakerPans.find((p) => p.speakerId === speakerId)?.pan ?? 0;
}

/** Lines with their own gap or overlap. */
export function customTimingCount(): number {
  const ids = new Set(script.parsed.lines.map((l) => l.id));
  return exportLayout().lineTiming.filter((t) => ids.has(t.lineId)).length;
}

/**
 * A millisecond field's text as a value: '' is null (use the global setting), a whole number in
 * 0..60000 is itself, anything else is undefined (refused). `badInput`: the number field's
 * validity.badInput, set where its text is no number (e.g. "5e"): the field then reads as ''.
 */
export function parseMs(raw: string, badInput = false): number | null | undefined {
  if (badInput) return undefined;
  const text = raw.trim();
  if (text === '') return null;
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 && value <= MAX_LINE_TIMING_MS ? value : undefined;
}

function save(layout: ExportLayout): string | null {
  return updateSettings((current) => {
    const { exportLayout: _old, ...rest } = current;
    return layout.lineTiming.length === 0 && layout.speakerPans.length === 0 ? rest : { ...rest, exportLayout: layout };
  });
}

/** Sets one line's gap after it and/or overlap before it; returns why it was refused, or null. */
export function setLineTiming(lineId: string, change: Partial<LineTiming>): string | null {
  const order = new Map(script.parsed.lines.map((l, i) => [l.id, i]));
  const next = { lineId, ...lineTimingOf(lineId), ...change };
  // Entries of lines no longer in the script go at the next change: exports ignore them anyway.
  const kept = exportLayout().lineTiming.filter((t) => t.lineId !== lineId && order.has(t.lineId));
  if (next.gapAfterMs !== null || next.overlapMs !== null) kept.push(next);
  kept.sort((a, b) => order.get(a.lineId)! - order.get(b.lineId)!);
  return save({ ...exportLayout(), lineTiming: kept });
}

/** Pan of a speaker in a stereo export, -1 (left) .. 1 (right). */
export function setPan(speakerId: SpeakerId, pan: number): string | null {
  const value = Math.round(Math.min(1, Math.max(-1, pan)) * 100) / 100;
  const kept = exportLayout().speakerPans.filter((p) => p.speakerId !== speakerId);
  if (value !== 0) kept.push({ speakerId, pan: value });
  kept.sort((a, b) => Number(a.speakerId.slice(1)) - Number(b.speakerId.slice(1)));
  return save({ ...exportLayout(), speakerPans: kept });
}

/** Forgets every per-line timing and pan. */
export function resetLayout(): string | null {
  return save(EMPTY);
}

/** "L 40", "C", "R 100": a pan as a mixing desk shows it. */
export function panLabel(pan: number): string {
  const amount = Math.round(Math.abs(pan) * 100);
  return amount === 0 ? 'C' : `${pan < 0 ? 'L' : 'R'} ${amount}`;
}
