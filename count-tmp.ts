import onnxProto from 'onnx-proto';
import { readFileSync } from 'node:fs';
const { onnx } = onnxProto;
const m = onnx.ModelProto.decode(readFileSync(process.argv[2]));
function count(g: any, depth = 0): void {
  const c = new Map<string, number>();
  for (const n of g.node) c.set(n.opType, (c.get(n.opType) ?? 0) + 1);
  console.log(' '.repeat(depth * 2) + g.node.length + ' nodes ' + [...c].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' '));
  for (const n of g.node) for (const a of n.attribute) if (a.g) { console.log(' '.repeat(depth * 2) + 'subgraph of ' + n.opType); count(a.g, depth + 1); }
}
count(m.graph);
