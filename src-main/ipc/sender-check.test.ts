import { describe, expect, it } from 'vitest';
import { checkIpcSender, isTrustedUrl, trustedOriginOf, type SenderPolicy } from './sender-check.ts';

const policy: SenderPolicy = {
  webContentsIds: new Set([7]),
  origins: [{ protocol: 'app:', host: 'studio' }, trustedOriginOf('http://localhost:5173/') ?? { protocol: '', host: '' }],
};
const top = (url: string | undefined) => ({ webContentsId: 7, frame: { url, isTopFrame: true } });

describe('checkIpcSender', () => {
  const accepted = ['app://studio/index.html', 'app://studio/', 'app://STUDIO/index.html#x', 'http://localhost:5173/', 'http://localhost:5173/index.html?x=1'];
  for (const url of accepted) {
    it(`accepts the top frame of our window at ${url}`, () => {
      expect(checkIpcSender(top(url), policy)).toEqual({ ok: true });
    });
  }

  const refused: [string, string | undefined][] = [
    ['another custom host', 'app://studio.evil/index.html'],
    ['a lookalike host', 'app://studio-evil/index.html'],
    ['userinfo before the host', 'app://evil@studio/index.html'],
    ['credentials on the dev origin', 'http://user:pw@localhost:5173/'],
    ['another port', 'http://localhost:5174/'],
    ['a lookalike dev host', 'http://localhost.evil.example:5173/'],
    ['https instead of http', 'https://localhost:5173/'],
    ['a file URL', 'file:///etc/passwd'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,<script>1</script>'],
    ['about:blank', 'about:blank'],
    ['no URL at all', undefined],
    ['garbage', 'not a url'],
    ['a huge URL', `app://studio/${'a'.repeat(9000)}`],
  ];
  for (const [name, url] of refused) {
    it(`refuses ${name}`, () => {
      const verdict = checkIpcSender(top(url), policy);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(/not the Dia Studio UI/);
    });
  }

  it('refuses subframes, vanished frames and other windows even on our origin', () => {
    expect(checkIpcSender({ webContentsId: 7, frame: { url: 'app://studio/index.html', isTopFrame: false } }, policy)).toEqual({ ok: false, reason: 'only the top frame may call the app' });
    expect(checkIpcSender({ webContentsId: 7, frame: null }, policy)).toEqual({ ok: false, reason: 'the sending frame no longer exists' });
    expect(checkIpcSender({ webContentsId: 8, frame: { url: 'app://studio/index.html', isTopFrame: true } }, policy)).toEqual({ ok: false, reason: 'the sender is not a Dia Studio window' });
    expect(checkIpcSender(top('app://studio/index.html'), { ...policy, webContentsIds: new Set() }).ok).toBe(false);
  });

  it('parses origins instead of prefix-matching them', () => {
    expect(trustedOriginOf('app://studio/x')).toEqual({ protocol: 'app:', host: 'studio' });
    expect(trustedOriginOf('http://user@localhost:5173/')).toBeNull();
    expect(isTrustedUrl('app://studio.evil', policy.origins)).toBe(false);
    expect(isTrustedUrl('app:studio', policy.origins)).toBe(false);
  });
});
