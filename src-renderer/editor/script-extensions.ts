// CodeMirror extensions for Dia scripts, all driven by the shared parser: the parse lives in a
// state field (brought up to date on every change by reparsing the edited turns, so ids stay
// stable and typing in a long script stays cheap), tags in view are highlighted from its ranges,
// and its diagnostics are shown inline through @codemirror/lint, with a warning for lines longer
// than the project's characters per pass (set by the host).
import { type Diagnostic as LintDiagnostic, linter, lintGutter } from '@codemirror/lint';
import { type Extension, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView, ViewPlugin, type ViewUpdate } from '@codemirror/view';
import { parseScript } from '../../src-shared/script/parse-script.ts';
import { firstLineFrom, reparseScript } from '../../src-shared/script/reparse.ts';
import type { LineIdentity, ParsedScript } from '../../src-shared/script/types.ts';
import { changedRanges, newIdSession, retireLines } from './line-identity.ts';
import { passLengthWarnings } from './pass-length.ts';

/** Lines deleted in this editing session (see line-identity.ts). */
const retiredLines: StateField<readonly LineIdentity[]> = StateField.define<readonly LineIdentity[]>({
  create: () => [],
  update(value, tr): readonly LineIdentity[] {
    return tr.docChanged ? retireLines(value, tr.startState.field(parsedScript).lines, tr.state.field(parsedScript).lines) : value;
  },
});

/** This editing session's tag for new lines' ids (see line-identity.ts). */
const idSession = StateField.define<string>({ create: newIdSession, update: (value) => value });

export const parsedScript: StateField<ParsedScript> = StateField.define<ParsedScript>({
  create: (state) => parseScript(state.doc.toString(), { session: state.field(idSession, false) }),
  update(value, tr): ParsedScript {
    if (!tr.docChanged) return value;
    const retired = tr.startState.field(retiredLines, false);
    const session = tr.startState.field(idSession, false);
    return reparseScript(value, tr.state.doc.toString(), changedRanges(tr.changes), { retired, session });
  },
});

/** Sets the project's characters per pass (null: not known, no pass-length warnings). */
export const setMaxPassChars = StateEffect.define<number | null>();

const maxPassChars = StateField.define<number | null>({
  create: () => null,
  update: (value, tr) => tr.effects.reduce((v, e) => (e.is(setMaxPassChars) ? e.value : v), value),
});

/** Class of a speaker's tag: cm-speaker-S1 ... (colours come from speakerColorTheme). */
export function speakerClass(speaker: string): string {
  return `cm-speaker-${speaker}`;
}

interface Mark {
  from: number;
  to: number;
  deco: Decoration;
}

const nonVerbalKnown = Decoration.mark({ class: 'cm-nonverbal' });
const nonVerbalUnknown = Decoration.mark({ class: 'cm-nonverbal cm-nonverbal-unknown' });
const speakerMarks = new Map<string, Decoration>();

function speakerMark(speaker: string): Decoration {
  let mark = speakerMarks.get(speaker);
  if (!mark) {
    mark = Decoration.mark({ class: `cm-speaker-tag ${speakerClass(speaker)}`, attributes: { 'data-speaker': speaker } });
    speakerMarks.set(speaker, mark);
  }
  return mark;
}

/** Tag marks of the lines whose turns overlap [from, to] (the viewport: a long script costs what it shows). */
function buildDecorations(parsed: ParsedScript, from: number, to: number): DecorationSet {
  const marks: Mark[] = [];
  const lines = parsed.lines;
  // The first turn that reaches `from`: the last one starting at or before it.
  let k = Math.max(0, firstLineFrom(lines, from + 1) - 1);
  for (; k < lines.length && lines[k].tagRange.from <= to; k++) {
    const line = lines[k];
    marks.push({ from: line.tagRange.from, to: line.tagRange.to, deco: speakerMark(line.speaker) });
    for (const tag of line.nonVerbal) marks.push({ from: tag.from, to: tag.to, deco: tag.known ? nonVerbalKnown : nonVerbalUnknown });
  }
  marks.sort((a, b) => a.from - b.from || a.to - b.to);
  const builder = new RangeSetBuilder<Decoration>();
  for (const m of marks) if (m.to > m.from) builder.add(m.from, m.to, m.deco);
  return builder.finish();
}

const tagDecorations = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = buildDecorations(view.state.field(parsedScript), view.viewport.from, view.viewport.to);
    }
    update(update: ViewUpdate): void {
      const parsed = update.state.field(parsedScript);
      if (!update.viewportChanged && parsed === update.startState.field(parsedScript)) return;
      this.decorations = buildDecorations(parsed, update.view.viewport.from, update.view.viewport.to);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

const scriptLinter = linter(
  (view) => {
    const parsed = view.state.field(parsedScript);
    const length = view.state.doc.length;
    const fromParser = parsed.diagnostics.map(
      (d): LintDiagnostic => ({
        from: Math.min(d.from, length),
        to: Math.min(d.to, length),
        severity: d.severity,
        message: d.message,
        source: d.code,
      }),
    );
    const passes = passLengthWarnings(parsed, view.state.field(maxPassChars)).map(
      (w): LintDiagnostic => ({ from: Math.min(w.from, length), to: Math.min(w.to, length), severity: 'warning', message: w.message, source: 'pass-length' }),
    );
    return [...fromParser, ...passes].sort((a, b) => a.from - b.from);
  },
  // A new pass length changes the warnings without any edit.
  { delay: 150, needsRefresh: (update) => update.startState.field(maxPassChars) !== update.state.field(maxPassChars) },
);

/**
 * Everything script-specific: parse, highlighting and diagnostics. `savedLines` (a saved
 * project's lines) seed the first parse, so lines keep the ids their takes are filed under.
 */
export function scriptLanguage(savedLines: readonly LineIdentity[] = []): Extension {
  const field = savedLines.length
    ? parsedScript.init((state) => parseScript(state.doc.toString(), { previous: savedLines, session: state.field(idSession) }))
    : parsedScript;
  return [idSession, field, retiredLines, maxPassChars, tagDecorations, scriptLinter, lintGutter()];
}

/**
 * Tag colours per speaker, as a theme (CodeMirror injects it as a constructed stylesheet). The
 * colour tints the tag and underlines it; the text keeps the theme's text colour, so any colour
 * the user picks stays readable in both themes.
 */
export function speakerColorTheme(colors: Readonly<Record<string, string>>): Extension {
  const spec: Record<string, { borderColor: string; backgroundColor: string }> = {};
  for (const [speaker, color] of Object.entries(colors)) {
    if (!/^S[1-9][0-9]?$/.test(speaker) || !/^#[0-9a-f]{6}$/i.test(color)) continue;
    spec[`.cm-speaker-tag.${speakerClass(speaker)}`] = { borderColor: color, backgroundColor: `color-mix(in srgb, ${color} 24%, transparent)` };
  }
  return EditorView.theme(spec);
}
