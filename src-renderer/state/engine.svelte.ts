// Engine status for the header: what the engine service last reported.
import type { EngineStatus } from '../../src-shared/api.ts';

export const engine = $state<{ status: EngineStatus | null }>({ status: null });

export function applyEngineStatus(status: EngineStatus): void {
  engine.status = status;
}

/** How the decoder runs, in words, from the status's rows per decoder run and where its cache lives. */
export function decodingLabel(stepsPerRun: number | null, cacheOnDevice: boolean | null = null): string {
  if (stepsPerRun === null) return '—';
  const cache = cacheOnDevice ? ', KV cache kept on the GPU' : '';
  if (stepsPerRun === 1) return `One step per run, sampling in the app${cache}`;
  return `${stepsPerRun} steps per run, sampling on the device${cache}`;
}

/** Short words for the status pill. */
export function engineStateLabel(status: EngineStatus | null): string {
  if (!status) return 'Connecting';
  switch (status.state) {
    case 'unavailable':
      return 'Engine offline';
    case 'idle':
      return 'No model loaded';
    case 'loading':
      return 'Loading model';
    case 'ready':
      return 'Ready';
    case 'error':
      return 'Engine error';
  }
}
