// Names the app proposes for files it writes (export dialogs, harness exports). They come from
// user text (project names, line text), so they are made safe for every OS: no separators, no
// characters Windows rejects, no device names, no leading dots, bounded length.

const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** UTF-8 bytes kept for a name; file systems allow 255, and an extension may still be added. */
export const MAX_NAME_BYTES = 200;

const utf8 = new TextEncoder();

export function utf8Length(text: string): number {
  return utf8.encode(text).length;
}

/** The longest start of `name` that fits `maxBytes` of UTF-8, never splitting a character. */
export function clipToBytes(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name;
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const n = utf8.encode(ch).length;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** A single, portable file name made from `name`, or `fallback` when nothing usable remains. */
export function safeFileName(name: string, fallback: string): string {
  let out = String(name).normalize('NFC').replace(/\s+/g, ' ').replace(FORBIDDEN, '_').trim();
  out = out.replace(/^[.\s]+/, '');
  out = clipToBytes(out, MAX_NAME_BYTES).replace(/[.\s]+$/, '');
  if (out === '' || /^_+$/.test(out)) return fallback;
  if (WINDOWS_DEVICE.test(out)) out = `_${out}`;
  return out;
}
