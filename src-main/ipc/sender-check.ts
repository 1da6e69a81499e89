// Who may call the app API over Electron IPC: only the top frame of our own window, showing our
// own page. Any frame can send IPC (Electron security checklist item 17), so every call is
// checked against this before its payload is even looked at. Pure, so it is tested without
// Electron; main.ts feeds it the facts from the IPC event.

export interface TrustedOrigin {
  /** "app:" for the packaged UI, "http:" for the dev server. */
  protocol: string;
  /** Host with port, lower case: "studio", "localhost:5173". */
  host: string;
}

export interface IpcSenderFacts {
  /** id of the sending WebContents. */
  webContentsId: number;
  /** The sending frame, or null when it is gone (navigated away, destroyed). */
  frame: { url: string | undefined; isTopFrame: boolean } | null;
}

export interface SenderPolicy {
  /** WebContents of our own windows. */
  webContentsIds: ReadonlySet<number>;
  origins: readonly TrustedOrigin[];
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

/** The origin part of a URL as the check compares it, or null when it is not a usable URL. */
export function trustedOriginOf(url: string): TrustedOrigin | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username !== '' || parsed.password !== '') return null;
  return { protocol: parsed.protocol, host: parsed.host.toLowerCase() };
}

/** True when `url` is a page of one of the trusted origins (parsed, never prefix-matched). */
export function isTrustedUrl(url: string | undefined, origins: readonly TrustedOrigin[]): boolean {
  if (typeof url !== 'string' || url.length > 8192) return false;
  const origin = trustedOriginOf(url);
  if (origin === null || origin.host === '') return false;
  return origins.some((o) => o.protocol === origin.protocol && o.host === origin.host);
}

export function checkIpcSender(facts: IpcSenderFacts, policy: SenderPolicy): SenderVerdict {
  if (!policy.webContentsIds.has(facts.webContentsId)) return { ok: false, reason: 'the sender is not a Dia Studio window' };
  if (facts.frame === null) return { ok: false, reason: 'the sending frame no longer exists' };
  if (!facts.frame.isTopFrame) return { ok: false, reason: 'only the top frame may call the app' };
  if (!isTrustedUrl(facts.frame.url, policy.origins)) return { ok: false, reason: `the sending page is not the Dia Studio UI (${String(facts.frame.url).slice(0, 200)})` };
  return { ok: true };
}
