// npm run bench:gpu [-- --device cuda|webgpu|dml --steps 300 --batches 1,8 --precisions fp16,fp32
//                      --steps-per-run 1,8,16 --fixed-runs --unrolled --bandwidth-gbs 3350
//                      --no-reference --profile --smoke --data-dir DIR]
// Runs stretch as the cache grows (up to 4x --steps-per-run; runtime/run-length.ts) unless
// --fixed-runs; rows_per_run_mean reports what they averaged. --unrolled runs the multi-step rows on
// the unrolled graph (no Loop, UNROLLED_STEPS rows per run), as --device dml and webgpu do here.
// --smoke runs the whole pipeline at the tiny shapes (the reference with --tiny too), on the CPU
// unless --device is given (CI runs it on WebGPU through SwiftShader, fp32): a check that the bench
// itself works on a machine without a GPU, not a measurement.
// The engine at the real Dia-1.6B shapes (random weights generated here) on a GPU provider, and in
// the same run the PyTorch reference (tools/bench_reference.py: transformers Dia, bf16, eager and
// torch.compile) on the same GPU and shapes. Prints one JSON object: our rows (same fields as
// bench:engine plus the memory-bandwidth floor of a step), the reference's JSON, the ratios and the
// issue's targets. Exit codes: 0 ok, 1 failure, 2 no usable GPU provider (see docs/GPU.md).
// ONNX Runtime and the CUDA libraries load through the library path the app's engine host gets from
// the data folder (--data-dir, else the app's): its user runtime and the CUDA folders the Model
// panel saved, before LD_LIBRARY_PATH; the bench runs itself again with it before loading them.
import { dataDirArg, useEngineLibraryPath } from '../src-main/cli/engine-library-path.ts';

await useEngineLibraryPath(dataDirArg());
if (process.platform === 'linux') process.stderr.write(`library path: ${process.env.LD_LIBRARY_PATH || '(none)'}\n`);
await import('./gpu-main.ts');
