// Entry point of the engine host: an Electron utilityProcess, a forked Node process or a worker thread.
// It owns the ONNX sessions and the generation scheduler; session.run blocks this thread only.
import { AppError } from '../../../src-shared/errors.ts';
import { connectHostPort } from './host-port.ts';
import { parseHostRequest, type HostEvent, type HostRequest } from './protocol.ts';
import { EngineHost } from './engine-host.ts';

const port = connectHostPort();
const send = (ev: HostEvent, transfer?: ArrayBuffer[]): void => port.send(ev, transfer);
const host = new EngineHost(send);

async function handle(req: HostRequest): Promise<unknown> {
  switch (req.kind) {
    case 'load':
      return host.load(req.modelDir, req.device, req.precision);
    case 'render':
      return host.render(req.job);
    case 'cancel':
      host.cancel(req.jobId);
      return null;
    case 'encode-voice':
      return host.encodeVoice(req.samples, req.sampleRate);
    case 'status':
      return host.status();
    case 'shutdown':
      await host.dispose();
      setImmediate(() => process.exit(0));
      return null;
  }
}

port.onMessage((raw) => {
  let req: HostRequest;
  try {
    req = parseHostRequest(raw);
  } catch (err) {
    const requestId = typeof (raw as { requestId?: unknown })?.requestId === 'number' ? (raw as { requestId: number }).requestId : -1;
    send({ kind: 'reply', requestId, ok: false, error: { code: 'invalid-input', message: (err as Error).message } });
    return;
  }
  handle(req).then(
    (value) => send({ kind: 'reply', requestId: req.requestId, ok: true, value }),
    (err: unknown) => send({ kind: 'reply', requestId: req.requestId, ok: false, error: AppError.fromUnknown(err).toData() }),
  );
});
