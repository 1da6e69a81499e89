#!/usr/bin/env bash
# On a lent GPU machine, from the repository root, once every part of .gpu-bundle/ is there
# (tools/gpu-bundle.sh, docs/GPU.md): unpacks the bundle (checking its sha256), puts the CUDA
# provider libraries beside onnxruntime-node's binding, points the loader at the CUDA 13 libraries
# of the machine's PyTorch, checks CUDA with gpu:setup, then runs bench:gpu with the arguments given.
# The report goes to $OUT/bench-gpu.json when $OUT is set (the device tool brings that folder back).
#   bash tools/gpu-run.sh --steps 200 --profile
#   bash tools/gpu-run.sh --smoke --no-reference      # the same path on a machine without a GPU
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=.gpu-bundle
DEST=${GPU_RUN_DIR:-/tmp/dia-gpu}
mkdir -p "$DEST"
(cd "$BUNDLE" && cat part-* > /tmp/dia-gpu-bundle.tar.xz && sed 's#bundle.tar.xz#/tmp/dia-gpu-bundle.tar.xz#' bundle.sha256 | sha256sum -c --quiet -) \
  || { echo "gpu-run: the bundle is incomplete or damaged: carry every part of $BUNDLE" >&2; exit 1; }
xz -d -c /tmp/dia-gpu-bundle.tar.xz | tar -C "$DEST" -xf -
rm -f /tmp/dia-gpu-bundle.tar.xz
cat "$DEST/VERSIONS"
export PATH="$DEST/bin:$PATH"
smoke=0
for a in "$@"; do [ "$a" = --smoke ] && smoke=1; done
# A bundle slimmed for one GPU (tools/cuda-fatbin-slim.ts) has no kernels for others: stop before
# anything runs on the wrong one.
if [ "$smoke" = 0 ] && [ -f "$DEST/cuda/KEEP_SM" ] && command -v nvidia-smi >/dev/null; then
  keep_sm=$(cat "$DEST/cuda/KEEP_SM")
  gpu_sm=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d '. ' || true)
  # "[N/A]" or an error text is no compute capability either.
  if ! [[ $gpu_sm =~ ^[0-9]+$ ]]; then
    echo "gpu-run: nvidia-smi did not report the GPU's compute capability (${gpu_sm:-nothing}); going on without the check" >&2
    gpu_sm=
  fi
  if [ -n "$gpu_sm" ] && { [ $((gpu_sm / 10)) -ne $((keep_sm / 10)) ] || [ $((gpu_sm % 10)) -lt $((keep_sm % 10)) ]; }; then
    echo "gpu-run: the bundle holds CUDA kernels for sm_$keep_sm only, and this GPU is sm_$gpu_sm: rebuild it with GPU_BUNDLE_SM=$gpu_sm bash tools/gpu-bundle.sh" >&2
    exit 1
  fi
fi
[ -e node_modules ] || ln -s "$DEST/app/node_modules" node_modules
# The CUDA provider libraries go into the bundle's own onnxruntime-node only: a checkout's
# node_modules (a smoke run on a development machine) would take CUDA for "auto" from then on.
if [ "$(readlink node_modules)" = "$DEST/app/node_modules" ]; then
  cp "$DEST"/cuda/*.so node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
else
  echo "gpu-run: node_modules is this checkout's own; the CUDA libraries stay in $DEST/cuda (npm run gpu:setup -- --from $DEST/cuda adds them)"
fi
# The CUDA 13 runtime, cuBLAS and cuDNN that PyTorch's wheels installed.
PYTHON=${PYTHON:-python3}
nvidia_libs=$("$PYTHON" - <<'PY' 2>/dev/null || true
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    roots = []
print(":".join(sorted({d for r in roots for d in glob.glob(os.path.join(r, "*", "lib"))})))
PY
)
export LD_LIBRARY_PATH="${nvidia_libs:+$nvidia_libs:}${LD_LIBRARY_PATH:-}"
export PYTHON ONNXRUNTIME_NODE_INSTALL=skip
if [ "$smoke" = 0 ]; then node src-main/cli/gpu-setup.ts; fi
report=${OUT:+$OUT/bench-gpu.json}
[ -z "${OUT:-}" ] || mkdir -p "$OUT"
# Progress and each measured row (a JSON line) also go to $OUT/bench-gpu.log as they come, so a run
# stopped at the call's time limit still returns the rows it measured.
node bench/gpu.ts "$@" > "${report:-/dev/stdout}" 2> >(tee ${OUT:+"$OUT/bench-gpu.log"} >&2)
[ -z "$report" ] || { echo "gpu-run: report in $report"; head -c 4000 "$report"; }
