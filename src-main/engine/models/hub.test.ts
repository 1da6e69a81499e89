import { describe, expect, it } from 'vitest';
import { fileUrl, listingUrl, resolveHubConfig } from './hub.ts';

describe('resolveHubConfig', () => {
  it('takes options first, then HF_ENDPOINT / HF_TOKEN, then the public hub', () => {
    expect(resolveHubConfig({ env: {} })).toEqual({ endpoint: 'https://huggingface.co' });
    expect(resolveHubConfig({ env: { HF_ENDPOINT: 'https://hf-mirror.example/', HF_TOKEN: 'hf_x' } })).toEqual({ endpoint: 'https://hf-mirror.example', token: 'hf_x' });
    expect(resolveHubConfig({ endpoint: 'http://127.0.0.1:9', token: 't', env: { HF_ENDPOINT: 'https://a', HF_TOKEN: 'b' } })).toEqual({ endpoint: 'http://127.0.0.1:9', token: 't' });
    expect(() => resolveHubConfig({ env: { HF_ENDPOINT: 'ftp://x' } })).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    expect(() => resolveHubConfig({ env: { HF_ENDPOINT: 'not a url' } })).toThrow(expect.objectContaining({ code: 'invalid-input', message: expect.stringContaining('HF_ENDPOINT') }));
  });

  it('builds hub URLs with the revision as one encoded segment', () => {
    const hub = { endpoint: 'https://huggingface.co' };
    expect(listingUrl(hub, 'nari-labs/Dia-1.6B-0626', 'main')).toBe('https://huggingface.co/api/models/nari-labs/Dia-1.6B-0626/revision/main?blobs=true');
    expect(fileUrl(hub, 'descript/dac_44khz', 'refs/pr/1', 'model.safetensors')).toBe('https://huggingface.co/descript/dac_44khz/resolve/refs%2Fpr%2F1/model.safetensors');
    expect(() => fileUrl(hub, 'no-owner', 'main', 'x')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});
