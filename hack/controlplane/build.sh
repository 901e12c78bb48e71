#!/usr/bin/env bash
# Build the real Kubernetes control plane used by tests and the demo:
# bin/kube-apiserver, bin/kubectl and bin/etcd at the repository root.
#
# Why build from source: this project's tests run against a real API server
# (CEL validation, status subresource, optimistic concurrency, watches), the
# machines it runs on have no Docker, and only the Go module proxy is
# reachable -- not dl.k8s.io or GitHub release downloads.
#
# Idempotent: a binary is rebuilt only when it is missing or reports a version
# other than the one pinned in hack/controlplane/go.mod (Kubernetes) or
# hack/controlplane/etcd/go.mod (etcd). Go's module and build caches make a
# rebuild after a version bump incremental; a cold build takes 10-15 minutes
# on two cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${here}/../.." && pwd)"
bin_dir="${BIN_DIR:-${repo_root}/bin}"
mkdir -p "${bin_dir}"

log() { echo "controlplane: $*"; }

command -v go >/dev/null || { log "go is not installed (need Go >= 1.25)"; exit 1; }

# -buildvcs=false: the binaries are built from module zips, not from this
# repository, so stamping sloreco's git state into them would be wrong.
# CGO_ENABLED=0: upstream ships kube-apiserver, kubectl and etcd as static
# binaries; this also removes the need for a C toolchain.
export CGO_ENABLED=0
go_build=(go build -buildvcs=false -trimpath)

# go list reads the pinned versions from the go.mod files, so there is one
# source of truth for each version.
k8s_version="$(cd "${here}" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
k8s_date="$(cd "${here}" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
etcd_version="$(cd "${here}/etcd" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"

# The same variables upstream's hack/lib/version.sh sets, so /version and
# `kubectl version` report the real release instead of v0.0.0-master. The
# commit hash is set empty: the module proxy does not publish it, a made-up one
# would be worse than none, and the default is the literal '$Format:%H$'.
# buildDate is the release tag's time, which keeps the build reproducible.
k8s_ldflags() {
  local major minor flags="-s -w" pkg
  major="$(echo "${k8s_version#v}" | cut -d. -f1)"
  minor="$(echo "${k8s_version#v}" | cut -d. -f2)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=${k8s_version}"
    flags+=" -X ${pkg}.gitMajor=${major}"
    flags+=" -X ${pkg}.gitMinor=${minor}"
    flags+=" -X ${pkg}.gitCommit="
    flags+=" -X ${pkg}.gitTreeState=clean"
    flags+=" -X ${pkg}.buildDate=${k8s_date}"
  done
  echo "${flags}"
}

# have <binary> <expected version> <version command...>: true when the binary
# exists and its version output contains the expected version as a word.
have() {
  local binary="$1" want="$2" out
  shift 2
  [[ -x "${bin_dir}/${binary}" ]] || return 1
  out="$("${bin_dir}/${binary}" "$@" 2>/dev/null)" || return 1
  grep -qE "(^|[^0-9.])${want//./\\.}([^0-9.]|$)" <<<"${out}"
}

# build <binary> <module dir> <package> <ldflags>: build into a temporary file
# and rename, so an interrupted build never leaves a truncated binary behind
# that a later run would try to execute.
build() {
  local binary="$1" dir="$2" pkg="$3" ldflags="$4" start
  start="$(date +%s)"
  log "building ${binary} (${pkg}) ..."
  (cd "${dir}" && "${go_build[@]}" -ldflags "${ldflags}" -o "${bin_dir}/.${binary}.tmp" "${pkg}")
  mv -f "${bin_dir}/.${binary}.tmp" "${bin_dir}/${binary}"
  log "built ${binary} in $(( $(date +%s) - start ))s"
}

if have kube-apiserver "${k8s_version}" --version; then
  log "kube-apiserver ${k8s_version} is up to date"
else
  build kube-apiserver "${here}" k8s.io/kubernetes/cmd/kube-apiserver "$(k8s_ldflags)"
fi

if have kubectl "${k8s_version}" version --client; then
  log "kubectl ${k8s_version} is up to date"
else
  build kubectl "${here}" k8s.io/kubernetes/cmd/kubectl "$(k8s_ldflags)"
fi

# etcd reports its version from a constant in go.etcd.io/etcd/api/v3/version,
# so it needs no ldflags beyond stripping.
if have etcd "${etcd_version#v}" --version; then
  log "etcd ${etcd_version} is up to date"
else
  build etcd "${here}/etcd" go.etcd.io/etcd/server/v3 "-s -w"
fi

for check in "kube-apiserver --version" "kubectl version --client" "etcd --version"; do
  # shellcheck disable=SC2086 # the version flags are meant to split
  set -- ${check}
  # Read all of the output, then keep the first line: `| head -n1` would close the pipe early and
  # a multi-line writer (etcd, kubectl) then dies of SIGPIPE, which pipefail turns into a failure.
  output="$("${bin_dir}/$1" "${@:2}")"
  first="${output%%$'\n'*}"
  log "ok: bin/$1: ${first}"
done
