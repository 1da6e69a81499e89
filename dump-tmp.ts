import onnxProto from 'onnx-proto';
import { readFileSync } from 'node:fs';
const { onnx } = onnxProto;
const m = onnx.ModelProto.decode(readFileSync(process.argv[2]));
for (const n of m.graph!.node!) console.log(`${n.opType} ${n.name} [${n.input!.join(', ')}] -> [${n.output!.join(', ')}] ${n.attribute!.map((a) => a.name + '=' + (a.i ?? a.f ?? '')).join(' ')}`);
