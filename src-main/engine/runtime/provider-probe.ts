// Proves that an execution provider really initialises and computes: the binding lists CUDA even
// when its provider libraries were never installed, and a listed GPU provider can still fail to
// open the device. Used by `npm run gpu:setup` and `npm run bench:gpu`.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/graph-builder.ts';

export type ProbeResult = { ok: true } | { ok: false; reason: string };

const FP16_ONE = 0x3c00;
const FLOAT = 1;
const FLOAT16 = 10;

/**
 * Creates a small MatMul session on `provider` alone and runs it: registering the provider loads
 * its libraries and opens the device, which is exactly what fails on a machine without one. The
 * MatMul is fp16 by default, which a WebGPU device without the shader-f16 feature cannot run
 * (the session opens, the run fails). The graph's own I/O is float32 (cast inside), like the Dia
 * graphs: onnxruntime-node under Node 24 does not accept float16 tensors from JavaScript.
 */
export async function probeProvider(provider: string, dtype: 'float16' | 'float32' = 'float16'): Promise<ProbeResult> {
  const b = new GraphBuilder({ name: `probe-${provider}-${dtype}` });
  const x = b.input('x', 'float32', [2, 4]);
  const y = dtype === 'float16'
    ? b.op('Cast', [b.op('MatMul', [b.op('Cast', [x], { to: FLOAT16 }), b.initializer('w', 'float16', [4, 4], new Uint16Array(16).fill(FP16_ONE))])], { to: FLOAT })
    : b.op('MatMul', [x, b.initializer('w', 'float32', [4, 4], new Float32Array(16).fill(1))]);
  b.output(y, 'y', 'float32', [2, 4]);
  let session: ort.InferenceSession | undefined;
  ort.env.logLevel = 'fatal'; // applies when the first session creates the ORT environment
  try {
    // Severity 4 (fatal only): the failure is reported once, by the caller, not as a native log dump.
    session = await ort.InferenceSession.create(b.encode(), { executionProviders: [provider], logSeverityLevel: 4 });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(8).fill(1), [2, 4]) });
    const got = out.y.data as Float32Array;
    // 1·1 summed over 4 = 4.
    if (got.length !== 8 || got.some((v) => v !== 4)) return { ok: false, reason: `${provider} ran a test MatMul but returned wrong values` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] };
  } finally {
    await session?.release();
  }
}
