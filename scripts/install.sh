#!/usr/bin/env bash
# Installs everything attn needs on a fresh machine with Node 20+: pnpm (pinned), then the workspace
# from the committed lockfile. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=12.21.0
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi
export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile

# The ONNX export tests validate every exported file with the official onnx.checker (Debian's python3-onnx,
# ONNX 1.12, opsets <= 17). Installed when we can (root with apt-get); otherwise those tests skip locally
# and fail in CI.
if /usr/bin/python3 -c "import onnx" >/dev/null 2>&1; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: installing python3-onnx (apt-get) for the ONNX checker tests"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y python3-onnx; then
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-onnx; } ||
      echo "install.sh: could not install python3-onnx; the ONNX checker tests will fail in CI"
  fi
else
  echo "install.sh: python3-onnx is missing and cannot be installed here (needs root and apt-get); the ONNX checker tests will skip outside CI"
fi

# The WebGPU backend's tests run on SwiftShader (software Vulkan, shipped with Debian's chromium) through Dawn
# (the webgpu package). Installed when we can (root with apt-get) and only when missing; never fails the
# install: without an adapter those tests skip locally and fail in CI.
has_libvulkan() {
  compgen -G "/usr/lib/*/libvulkan.so.1" >/dev/null || compgen -G "/usr/lib/libvulkan.so.1" >/dev/null ||
    { /sbin/ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; }
}
if [ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && has_libvulkan; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: installing chromium and libvulkan1 (apt-get) for the WebGPU tests (SwiftShader)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y chromium libvulkan1; then
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium libvulkan1; } ||
      echo "install.sh: could not install chromium and libvulkan1; the WebGPU tests will fail in CI"
  fi
else
  echo "install.sh: SwiftShader (chromium) or libvulkan1 is missing and cannot be installed here (needs root and apt-get); the WebGPU tests will skip outside CI"
fi
