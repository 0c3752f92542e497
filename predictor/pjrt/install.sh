#!/usr/bin/env bash
# install.sh fetches OpenXLA's CPU PJRT plugin (PyPI wheel xla-cpu-pjrt 0.0.1,
# PJRT C API 0.81) into the git-ignored cache and names it the way go-xla
# looks for plugins: $DEST/pjrt_c_api_cpu_plugin.so. It is idempotent: a
# plugin already there (checked by SHA-256) is kept.
#
# Usage: predictor/pjrt/install.sh [DEST]   (default: .cache/pjrt/lib)
# Then:  PJRT_PLUGIN_LIBRARY_PATH=$DEST GOMLX_NO_AUTO_INSTALL=1
# Needs: python3 with pip (PyPI reachable), unzip via python's zipfile.
set -euo pipefail

VERSION=0.0.1
WHEEL=xla_cpu_pjrt-${VERSION}-py3-none-manylinux_2_27_x86_64.whl
WHEEL_SHA256=${XLA_CPU_PJRT_WHEEL_SHA256:-55837b6b7b47daa717f2d9a5a03563ea0ceaa338d06a81a1e2d3f060d960decc}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${ROOT}/.cache/pjrt
DEST=${1:-${CACHE}/lib}
PLUGIN=${DEST}/pjrt_c_api_cpu_plugin.so
STAMP=${DEST}/.xla-cpu-pjrt-${VERSION}

if [[ -s "${PLUGIN}" && -f "${STAMP}" ]] && sha256sum --quiet -c "${STAMP}" 2>/dev/null; then
  echo "pjrt: ${PLUGIN} (xla-cpu-pjrt ${VERSION}) already installed"
  exit 0
fi

case "$(uname -sm)" in
  "Linux x86_64") ;;
  *) echo "pjrt: xla-cpu-pjrt ${VERSION} exists for Linux x86_64 only; use the simplego backend" >&2; exit 1 ;;
esac

mkdir -p "${CACHE}" "${DEST}"
if [[ ! -s "${CACHE}/${WHEEL}" ]]; then
  python3 -m pip download --quiet --no-deps "xla-cpu-pjrt==${VERSION}" -d "${CACHE}"
fi
if [[ -n "${WHEEL_SHA256}" ]]; then
  echo "${WHEEL_SHA256}  ${CACHE}/${WHEEL}" | sha256sum --quiet -c -
fi
python3 - "${CACHE}/${WHEEL}" "${PLUGIN}.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
mv -f "${PLUGIN}.tmp" "${PLUGIN}"
sha256sum "${PLUGIN}" > "${STAMP}"
echo "pjrt: installed ${PLUGIN}"
