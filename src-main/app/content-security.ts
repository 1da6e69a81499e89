// Content Security Policy of the UI page, shared by the Electron protocol handler and the browser
// harness server: scripts only from the app itself (no inline script, no eval), network access
// only to the app's own origin (and the harness WebSocket), nothing framed, no plugins.
// Inline *styles* are allowed: CodeMirror writes style attributes (tab size, gutter sizes, tooltip
// positions) that the page cannot avoid, and without script execution they cannot run code.

export interface CspOptions {
  /** Extra connect-src sources, e.g. "ws://127.0.0.1:5317" for the harness WebSocket. */
  connect?: readonly string[];
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const connect = ["'self'", ...(options.connect ?? [])];
  const directives: Record<string, string[]> = {
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': connect,
    // Playback builds blob: URLs and loads its AudioWorklet from the app.
    'media-src': ["'self'", 'blob:'],
    'worker-src': ["'self'", 'blob:'],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-src': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** Headers sent with every UI response, besides the CSP. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=()',
});
