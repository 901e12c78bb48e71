#!/usr/bin/env bash
# Installs Debian's prometheus package (server + promtool) if it is missing. Tests run the real
# server (SPEC §7); this keeps a fresh machine to the project's own files. Idempotent.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
echo "Installing Debian package prometheus (real server for tests)..."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# The package's service would start a system Prometheus on :9090; tests use their own instances.
if ! $sudo apt-get install -y -q --no-install-recommends prometheus >/dev/null; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends prometheus >/dev/null
fi
version="$(prometheus --version 2>&1)"
echo "${version%%$'\n'*}"
