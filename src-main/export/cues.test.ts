import { describe, expect, it } from 'vitest';
import { csvField, cueList, toAudacityLabels, toCueCsv, toCueJson } from './cues.ts';
import type { Cue } from './subtitles.ts';

const cues: Cue[] = [
  { index: 0, lineId: 'a', speakerId: 'S1', speakerName: 'Ann', text: 'Hello, "world"', start: 0, end: 44_100, sampleRate: 44_100 },
  { index: 1, lineId: 'b', speakerId: 'S2', speakerName: 'Bo, Jr.', text: 'Two\nrows\tand =SUM(1)', start: 61_740, end: 70_000, sampleRate: 44_100 },
];

/** A strict RFC 4180 reader, to check the writer against. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('cue lists', () => {
  const list = cueList(cues, 80_000, new Map([['a', '001-S1-Hello-world.wav']]));

  it('JSON keeps exact sample positions and seconds', () => {
    const parsed = JSON.parse(toCueJson(list));
    expect(parsed.sampleRate).toBe(44_100);
    expect(parsed.cues[1]).toMatchObject({ startSample: 61_740, endSample: 70_000, startSeconds: 1.4, speaker: 'Bo, Jr.', file: null });
    expect(parsed.cues[0].file).toBe('001-S1-Hello-world.wav');
  });

  it('CSV quotes commas, quotes and newlines so a strict reader gets the fields back', () => {
    const rows = parseCsv(toCueCsv(list));
    expect(rows[0]).toEqual(['index', 'line_id', 'speaker_id', 'speaker', 'start_seconds', 'end_seconds', 'start_sample', 'end_sample', 'file', 'text']);
    expect(rows[1]).toEqual(['1', 'a', 'S1', 'Ann', '0.000000', '1.000000', '0', '44100', '001-S1-Hello-world.wav', 'Hello, "world"']);
    expect(rows[2]).toEqual(['2', 'b', 'S2', 'Bo, Jr.', '1.400000', '1.587302', '61740', '70000', '', 'Two\nrows\tand =SUM(1)']);
    expect(rows.length).toBe(3);
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a"b')).toBe('"a""b"');
  });

  it('Audacity labels are one tab-separated row per line', () => {
    expect(toAudacityLabels(list)).toBe('0.000000\t1.000000\tAnn: Hello, "world"\n1.400000\t1.587302\tBo, Jr.: Two rows and =SUM(1)\n');
  });
});
