#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/browser/): Playwright drives it through
# `executable_path` and downloads no browser of its own. `make chromium` calls this when
# `chromium` is not on the PATH; apt needs root (CI and the development machines run as root).
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing: run 'sudo apt-get install -y chromium' (Debian's package)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
chromium --version
