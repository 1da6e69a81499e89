// Which execution providers a device choice tries, best first, per platform and installed providers.
import { describe, expect, it } from 'vitest';
import { providerOrder } from './ort-session.ts';

const has = (...names: string[]): Set<string> => new Set(['cpu', ...names]);

describe('providerOrder', () => {
  it('tries an asked-for device first, then the CPU', () => {
    expect(providerOrder('cuda', 'linux', has())).toEqual(['cuda', 'cpu']);
    expect(providerOrder('coreml', 'darwin', has('coreml', 'webgpu'))).toEqual(['coreml', 'cpu']);
    expect(providerOrder('webgpu', 'linux', has('webgpu'))).toEqual(['webgpu', 'cpu']);
    expect(providerOrder('cpu', 'win32', has('dml', 'webgpu'))).toEqual(['cpu']);
  });

  it('picks CUDA when its libraries are installed, then WebGPU on Windows and macOS, DirectML after it, never Core ML', () => {
    expect(providerOrder('auto', 'linux', has('webgpu'))).toEqual(['cpu']);
    expect(providerOrder('auto', 'linux', has('cuda', 'webgpu'))).toEqual(['cuda', 'cpu']);
    expect(providerOrder('auto', 'win32', has('dml', 'webgpu'))).toEqual(['webgpu', 'dml', 'cpu']);
    expect(providerOrder('auto', 'win32', has('cuda', 'dml', 'webgpu'))).toEqual(['cuda', 'webgpu', 'dml', 'cpu']);
    expect(providerOrder('auto', 'win32', has('dml'))).toEqual(['dml', 'cpu']);
    expect(providerOrder('auto', 'darwin', has('coreml', 'webgpu'))).toEqual(['webgpu', 'cpu']);
    expect(providerOrder('auto', 'darwin', has('coreml'))).toEqual(['cpu']);
  });
});
