// Engine status for the header: what the engine service last reported.
import type { EngineStatus } from '../../src-shared/api.ts';

export const engine = $state<{ status: EngineStatus | null }>({ status: null });

export function applyEngineStatus(status: EngineStatus): void {
  engine.status = status;
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
