// Keyboard shortcuts of the studio: one table drives both the key handling and the help overlay.

export type ShortcutAction = 'play' | 'new-take' | 'play-from-here' | 'play-all' | 'ab-toggle' | 'stop' | 'help';

export interface Shortcut {
  action: ShortcutAction;
  keys: string;
  description: string;
}

const MOD = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'play', keys: `${MOD}+Enter`, description: 'Play the line at the cursor (its chosen take, or render it)' },
  { action: 'new-take', keys: `${MOD}+Shift+Enter`, description: 'Render a new take of the line at the cursor (fresh seed)' },
  { action: 'play-from-here', keys: 'Alt+Enter', description: 'Play from the line at the cursor to the end of the script' },
  { action: 'play-all', keys: 'Alt+Shift+Enter', description: 'Play the whole script from the first line' },
  { action: 'ab-toggle', keys: 'Alt+B', description: 'A/B compare: switch to the other take at the same moment' },
  { action: 'stop', keys: 'Esc', description: 'Stop playback and cancel the render being played' },
  { action: 'help', keys: '?', description: 'Show this list of shortcuts' },
];

/** The action a key press stands for, if any. Cmd on macOS, Ctrl elsewhere (either is accepted). */
export function shortcutFor(event: Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): ShortcutAction | null {
  const mod = event.ctrlKey || event.metaKey;
  if (event.key === 'Enter' && mod && !event.altKey) return event.shiftKey ? 'new-take' : 'play';
  if (event.key === 'Enter' && event.altKey && !mod) return event.shiftKey ? 'play-all' : 'play-from-here';
  // By code: on macOS, Option+B types a character instead of the key 'b'.
  if (event.code === 'KeyB' && event.altKey && !mod && !event.shiftKey) return 'ab-toggle';
  if (event.key === 'Escape' && !mod && !event.shiftKey && !event.altKey) return 'stop';
  if (event.key === '?' && !mod && !event.altKey) return 'help';
  return null;
}
