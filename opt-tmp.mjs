import * as ort from 'onnxruntime-node';
const [path, out] = process.argv.slice(2);
await ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'extended', optimizedModelFilePath: out });
