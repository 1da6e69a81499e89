// Light/dark theme: follows the system (prefers-color-scheme) unless the user picks one; the
// choice is kept in localStorage and applied as data-theme on <html> (CSS does the rest).
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'dia-studio:theme';
const ORDER: readonly ThemeChoice[] = ['system', 'light', 'dark'];

export const theme = $state<{ choice: ThemeChoice; systemDark: boolean }>({ choice: 'system', systemDark: false });

export function effectiveTheme(): 'light' | 'dark' {
  if (theme.choice === 'system') return theme.systemDark ? 'dark' : 'light';
  return theme.choice;
}

function apply(): void {
  document.documentElement.dataset.theme = effectiveTheme();
  document.documentElement.dataset.themeChoice = theme.choice;
}

export function initTheme(): void {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'light' || stored === 'dark' || stored === 'system') theme.choice = stored;
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  theme.systemDark = query.matches;
  query.addEventListener('change', (e) => {
    theme.systemDark = e.matches;
    apply();
  });
  apply();
}

export function cycleTheme(): void {
  theme.choice = ORDER[(ORDER.indexOf(theme.choice) + 1) % ORDER.length];
  localStorage.setItem(STORAGE_KEY, theme.choice);
  apply();
}
