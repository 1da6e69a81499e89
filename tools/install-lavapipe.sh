#!/usr/bin/env bash
# Mesa's lavapipe, a Vulkan driver that runs on the CPU, unpacked into .cache/lavapipe with an ICD
# file that points at it. The fp16 WebGPU tests need it: Dawn (ONNX Runtime's WebGPU provider)
# offers shader-f16 on lavapipe from Mesa 25, which Debian 12 has in bookworm-backports, while
# SwiftShader (Chromium's, used for the fp32 tests) has no fp16 at all. The package is only
# unpacked here, not installed: the system keeps its own Mesa. Needs the Debian package index.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/lavapipe
if [ -f "$dest/lvp_icd.json" ] && [ -f "$dest/libvulkan_lvp.so" ]; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "lavapipe: adding Debian bookworm-backports to apt's sources (packages are taken from it only when asked for)"
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/dia-studio-backports.list >/dev/null
  $SUDO apt-get update -q
fi
# What libvulkan_lvp.so links to, in the versions Debian 12 itself has.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
  libvulkan1 libllvm15 libdrm2 libdrm-amdgpu1 libelf1 libexpat1 libwayland-client0 libx11-xcb1 libxcb-dri3-0 \
  libxcb-present0 libxcb-randr0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb1 libxshmfence1 libzstd1 zlib1g >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() { (cd "$work" && apt-get download -q -t bookworm-backports mesa-vulkan-drivers 2>&1 | { grep -v "unsandboxed as root" || true; }); }
# A source added earlier may not have been fetched yet: update once and try again.
download || { $SUDO apt-get update -q && download; }
dpkg-deb -x "$work"/mesa-vulkan-drivers_*.deb "$work/root"
lib=$(find "$work/root" -name libvulkan_lvp.so | head -n 1)
[ -n "$lib" ] || { echo "lavapipe: the package has no libvulkan_lvp.so" >&2; exit 1; }
missing=$(ldd "$lib" | grep 'not found' || true)
[ -z "$missing" ] || { echo "lavapipe: libraries missing for $lib: $missing" >&2; exit 1; }
mkdir -p "$dest"
cp "$lib" "$dest/libvulkan_lvp.so.tmp" && mv "$dest/libvulkan_lvp.so.tmp" "$dest/libvulkan_lvp.so"
printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$PWD/$dest/libvulkan_lvp.so" > "$dest/lvp_icd.json"
echo "lavapipe: $(dpkg-deb -f "$work"/mesa-vulkan-drivers_*.deb Version) in $dest"
