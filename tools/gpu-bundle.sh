#!/usr/bin/env bash
# Builds .gpu-bundle/: what bench:gpu needs on a lent GPU machine, which has Python with PyTorch and
# transformers but no Node and no network (docs/GPU.md, "On a lent GPU machine"):
#   - this machine's Node binary (>= 22);
#   - the node_modules the engine and the benches load at run time (onnxruntime-node trimmed to
#     linux-x64, onnx-proto, valibot and their dependencies);
#   - onnxruntime's CUDA provider libraries, taken from the onnxruntime-gpu wheel on PyPI of the same
#     version (built for CUDA 13, which the lent machines' PyTorch brings), with the machine code for
#     GPUs other than the lent ones zeroed (tools/cuda-fatbin-slim.ts; GPU_BUNDLE_SM, default 90 for
#     the H100 and H200; "all" keeps everything).
# Everything goes into one xz archive (~90 MB for sm_90, ~215 MB with every GPU's code), split into
# parts sized so that a `run` call carries the working tree plus one part within its 64 MiB (the
# tree travels with every call: ~20 MB now, so parts of ~43 MiB).
# Needs python3 with pip, and the package index, here.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.gpu-bundle
KEEP_SM=${GPU_BUNDLE_SM:-90}
CALL_LIMIT=$((64 * 1024 * 1024))
# What travels besides a part: tracked files and untracked ones git does not ignore, plus 2 MiB for
# bundle.sha256 and slack.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s -- 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
part_bytes=$((CALL_LIMIT - tree_bytes - 2 * 1024 * 1024))
[ "$part_bytes" -ge $((16 * 1024 * 1024)) ] || { echo "gpu-bundle: the working tree ($tree_bytes bytes) leaves too little of a call's 64 MiB for bundle parts" >&2; exit 1; }
PART_SIZE=${GPU_BUNDLE_PART_SIZE:-$part_bytes}
# What the engine, gpu:setup and bench:gpu import at run time (the closure is resolved below).
RUNTIME_PACKAGES="onnxruntime-node onnx-proto valibot"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 22 ] || { echo "gpu-bundle: Node >= 22 needed here (found $(node --version))" >&2; exit 1; }
[ -d node_modules/onnxruntime-node ] || { echo "gpu-bundle: run npm ci first" >&2; exit 1; }
ort_version=$(node -p "require('onnxruntime-node/package.json').version")

rm -rf "$OUT"
stage="$OUT/stage"
mkdir -p "$stage/bin" "$stage/app" "$OUT/wheel"
cp "$(command -v node)" "$stage/bin/node"

# The runtime packages and everything they depend on, copied from this install (native binaries included).
node - $RUNTIME_PACKAGES > "$OUT/deps.txt" <<'JS'
// Node's lookup (node_modules folders upwards from the dependent), without package "exports".
const fs = require('node:fs');
const path = require('node:path');
const seen = new Set();
const locate = (name, from) => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) throw new Error(`cannot find ${name} from ${from}`);
  }
};
const visit = (name, from) => {
  const dir = locate(name, from);
  if (seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir);
};
for (const name of process.argv.slice(2)) visit(name, process.cwd());
for (const dir of seen) console.log(path.relative(process.cwd(), dir));
JS
tar -cf - -T "$OUT/deps.txt" | tar -C "$stage/app" -xf -
# onnxruntime-node ships every platform's binaries; keep linux-x64 only.
find "$stage/app/node_modules/onnxruntime-node/bin/napi-v6" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$stage/app/node_modules/onnxruntime-node/bin/napi-v6/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +

# CUDA provider libraries of the same onnxruntime version.
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  -d "$OUT/wheel" "onnxruntime-gpu==$ort_version"
mkdir -p "$stage/cuda"
python3 - "$OUT/wheel" "$stage/cuda" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "onnxruntime_gpu-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"):
        with z.open(f"onnxruntime/capi/{name}") as src, open(os.path.join(sys.argv[2], name), "wb") as dst:
            dst.write(src.read())
PY
cuda_versions="CUDA kernels for every GPU"
if [ "$KEEP_SM" != all ]; then
  node tools/cuda-fatbin-slim.ts --keep-sm "$KEEP_SM" "$stage/cuda/libonnxruntime_providers_cuda.so" "$stage/cuda/libonnxruntime_providers_cuda.so"
  echo "$KEEP_SM" > "$stage/cuda/KEEP_SM"
  cuda_versions="CUDA kernels for sm_$KEEP_SM only"
fi
echo "onnxruntime $ort_version, node $(node --version), $cuda_versions" > "$stage/VERSIONS"

tar -C "$stage" -cf - . | xz -T0 -6 > "$OUT/bundle.tar.xz"
(cd "$OUT" && sha256sum bundle.tar.xz > bundle.sha256 && split -b "$PART_SIZE" -d bundle.tar.xz part- && rm bundle.tar.xz)
rm -rf "$stage" "$OUT/wheel" "$OUT/deps.txt"
echo "gpu-bundle: $(ls "$OUT"/part-* | wc -l) parts of at most $PART_SIZE bytes in $OUT ($(du -sh "$OUT" | cut -f1)), the working tree $tree_bytes bytes; carry each part with one run call, the last one running tools/gpu-run.sh (docs/GPU.md)"
ls -la "$OUT"
