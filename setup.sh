#!/usr/bin/env bash
# Installs what kiln needs: the Debian packages its tests and examples use, then the npm
# packages pinned in package-lock.json. Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# chromium: browser tests, benchmarks, playground, and SwiftShader (WebGPU on the CPU).
# libvulkan1: the Vulkan loader Dawn (npm 'webgpu') needs; chromium does not pull it in.
# dataset-fashion-mnist: the seed example's data. libonnx-testdata: ONNX backend node tests.
PACKAGES=(chromium libvulkan1 dataset-fashion-mnist libonnx-testdata)
problems=0

# apt_install [sudo] PACKAGE...: apt-get as root, or through sudo when its first argument is "sudo".
apt_install() {
  local run=()
  if [[ $1 == sudo ]]; then
    run=(sudo)
    shift
  fi
  "${run[@]}" apt-get update
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: kiln needs Node.js 20 or newer with npm. Install it from https://nodejs.org (or your package manager), then run this again." >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "setup: kiln needs Node.js 20 or newer, found $(node --version). Install a newer Node from https://nodejs.org, then run this again." >&2
  exit 1
fi

if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  missing=()
  for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [[ $status != 'install ok installed' ]]; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} > 0)); then
    echo "setup: installing ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then
      apt_install "${missing[@]}"
    elif command -v sudo >/dev/null; then
      apt_install sudo "${missing[@]}"
    else
      echo "setup: missing Debian packages, and neither root nor sudo is available. As root, run:" >&2
      echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
      problems=1
    fi
  fi
else
  cat >&2 <<'MSG'
setup: this is not a Debian-based system, so install these yourself:
  - Chromium or Chrome, for browser tests and benchmarks; set CHROMIUM_PATH to its binary.
  - WebGPU in Node (npm 'webgpu', Dawn): nothing on macOS (Metal) or Windows (D3D12);
    on Linux, the Vulkan loader (libvulkan.so.1) and a Vulkan driver for your GPU.
  - Fashion-MNIST: the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist;
    set FASHION_MNIST_DIR to their folder.
  - ONNX backend test data: the onnx repository's onnx/backend/test/data/node, at
    /usr/share/libonnx-testdata/data/node.
MSG
fi

# --ignore-scripts: no dependency needs its install script here (esbuild's binary comes as an
# optional dependency, Dawn ships prebuilt in 'webgpu'), and onnxruntime-node's would download
# GPU providers from a host these machines cannot reach (its CPU binaries are in the package).
npm ci --ignore-scripts

if ((problems)); then
  echo "setup: npm packages are installed, but Debian packages are missing (see above)." >&2
  exit 1
fi
echo "setup: done. Try 'npm start' and 'npm test'."
