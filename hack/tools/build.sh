#!/usr/bin/env bash
# Build the peers' own tools and the newer metrics backends into bin/, and
# take the third-party CRDs the tests apply into bin/crds/.
#
# Usage: hack/tools/build.sh [TOOL...]   (no argument: all of them)
#   sloth            bin/sloth             github.com/slok/sloth
#   helm             bin/helm              helm.sh/helm/v4
#   prometheus3      bin/prometheus3, bin/promtool3   github.com/prometheus/prometheus
#   victoriametrics  bin/victoria-metrics  github.com/VictoriaMetrics/VictoriaMetrics
#   oslo             bin/oslo              github.com/OpenSLO/oslo
#   peer-crds        bin/crds/*.yaml       github.com/prometheus-operator/prometheus-operator,
#                                          github.com/slok/sloth
#
# Why build from source: the exports are checked by the peers' own
# validators, not by our reading of their docs, and the reader is tested
# against the backends users run. Only the Go module proxy is reachable here,
# not GitHub release downloads, so each tool is built from its module exactly
# as hack/controlplane/build.sh builds kube-apiserver.
#
# One small Go module per tool (hack/tools/<dir>/go.mod, a `tool` directive
# naming upstream's main package) is the single source of truth for its
# version. Separate modules, because minimum version selection across several
# upstreams in one module would move their shared dependencies; alone, each
# tool builds with the dependency set its release was tested with. To change a
# version: `cd hack/tools/<dir> && go get -tool <package>@<version> && go mod tidy`.
#
# Idempotent: a binary is rebuilt only when it is missing or reports a
# version other than the pinned one; a rerun takes well under a second.
# Binaries are written to a temporary file and renamed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${here}/../.." && pwd)"
bin_dir="${BIN_DIR:-${repo_root}/bin}"
mkdir -p "${bin_dir}"

log() { echo "tools: $*"; }

command -v go >/dev/null || { log "go is not installed (need Go >= 1.26)"; exit 1; }

# -buildvcs=false: built from module zips, not from this repository, so
# sloreco's git state must not be stamped into them. CGO_ENABLED=0: static
# binaries, no C toolchain needed (each upstream ships or supports a pure-Go
# build: VictoriaMetrics calls it "-pure").
export CGO_ENABLED=0
go_build=(go build -buildvcs=false -trimpath)

# modver <dir> <module>: the version of <module> that hack/tools/<dir>/go.mod pins.
modver() { (cd "${here}/$1" && go list -m -f '{{.Version}}' "$2"); }
# moddate <dir> <module> <Go time layout>: the release tag's time, used as the
# build date so that builds are reproducible.
moddate() { (cd "${here}/$1" && go list -m -f "{{.Time.UTC.Format \"$3\"}}" "$2"); }
# moddir <dir> <module>: the module's extracted files (downloads it if needed).
moddir() {
  (cd "${here}/$1" && go mod download "$2" && go list -m -f '{{.Dir}}' "$2")
}

# have <binary> <expected version> <version command...>: true when the binary
# exists and its version output contains the expected version as a word.
have() {
  local binary="$1" want="$2" out
  shift 2
  [[ -x "${bin_dir}/${binary}" ]] || return 1
  out="$("${bin_dir}/${binary}" "$@" 2>&1)" || return 1
  grep -qE "(^|[^0-9.])${want//./\\.}([^0-9.]|$)" <<<"${out}"
}

# build <binary> <module dir> <package> <ldflags> [tags]: build into a
# temporary file and rename, so an interrupted build never leaves a truncated
# binary that a later run would try to execute.
build() {
  local binary="$1" dir="$2" pkg="$3" ldflags="$4" tags="${5:-}" start
  start="$(date +%s)"
  log "building ${binary} (${pkg}${tags:+, tags ${tags}}) ..."
  (cd "${here}/${dir}" && "${go_build[@]}" -tags "${tags}" -ldflags "${ldflags}" \
    -o "${bin_dir}/.${binary}.tmp" "${pkg}")
  mv -f "${bin_dir}/.${binary}.tmp" "${bin_dir}/${binary}"
  log "built ${binary} in $(( $(date +%s) - start ))s"
}

# ensure <binary> <version> <module dir> <package> <ldflags> <tags> -- <version command...>
ensure() {
  local binary="$1" version="$2" dir="$3" pkg="$4" ldflags="$5" tags="$6"
  shift 7
  if have "${binary}" "${version}" "$@"; then
    log "${binary} ${version} is up to date"
  else
    build "${binary}" "${dir}" "${pkg}" "${ldflags}" "${tags}"
    have "${binary}" "${version}" "$@" || {
      log "bin/${binary} was built but \`${binary} $*\` does not report ${version}:"
      "${bin_dir}/${binary}" "$@" || true
      exit 1
    }
  fi
}

tool_sloth() {
  local v
  v="$(modver sloth github.com/slok/sloth)"
  # Upstream's scripts/build/bin/build-raw.sh sets exactly this variable.
  ensure sloth "${v}" sloth github.com/slok/sloth/cmd/sloth \
    "-s -w -X github.com/slok/sloth/internal/info.Version=${v}" "" -- version
}

tool_helm() {
  local v p=helm.sh/helm/v4/internal/version
  v="$(modver helm helm.sh/helm/v4)"
  # The variables upstream's Makefile sets for a tagged build (metadata empty
  # on a tag). The commit is left empty: the module proxy does not publish it.
  ensure helm "${v}" helm helm.sh/helm/v4/cmd/helm \
    "-s -w -X ${p}.version=${v} -X ${p}.metadata= -X ${p}.gitCommit= -X ${p}.gitTreeState=clean" \
    "" -- version --template '{{.Version}}'
}

tool_prometheus3() {
  local m=github.com/prometheus/prometheus mv v date p=github.com/prometheus/common/version ldflags
  # Prometheus 3.MM.P is published as module version v0.3MM.P; --version
  # reports the release number, which upstream keeps in its VERSION file.
  mv="$(modver prometheus "${m}")"
  IFS=. read -r _ minor patch <<<"${mv#v}"
  v="$((minor / 100)).$((minor % 100)).${patch}"
  if ! have prometheus3 "${v}" --version || ! have promtool3 "${v}" --version; then
    [[ "$(cat "$(moddir prometheus "${m}")/VERSION")" == "${v}" ]] ||
      { log "${m}@${mv}: VERSION file does not say ${v}"; exit 1; }
  fi
  date="$(moddate prometheus "${m}" 20060102-15:04:05)"
  # Upstream's .promu.yml ldflags; the revision is unknown from a module zip.
  ldflags="-s -w -X ${p}.Version=${v} -X ${p}.Revision= -X ${p}.Branch=HEAD"
  ldflags+=" -X ${p}.BuildUser=sloreco@hack-tools -X ${p}.BuildDate=${date}"
  # Tags: upstream's release uses `netgo builtinassets`. builtinassets embeds
  # the npm-built web UI, which the module zip does not contain, so it is left
  # out: the UI pages answer 404, the HTTP API and everything else work.
  # remove_all_sd is upstream's own tag for a build without the cloud service
  # discoveries (file_sd and http_sd stay); the tests only use static targets
  # and the API, and it roughly halves a cold build.
  local tags="netgo,remove_all_sd"
  ensure prometheus3 "${v}" prometheus "${m}/cmd/prometheus" "${ldflags}" "${tags}" -- --version
  ensure promtool3 "${v}" prometheus "${m}/cmd/promtool" "${ldflags}" "${tags}" -- --version
}

tool_victoriametrics() {
  local m=github.com/VictoriaMetrics/VictoriaMetrics v date
  v="$(modver victoriametrics "${m}")"
  date="$(moddate victoriametrics "${m}" 20060102-150405)"
  # Upstream's Makefile: <app>-<build date>-<git describe --long --all>, e.g.
  # victoria-metrics-20250101-120000-tags-v1.151.0-0-gabcdef0; the commit
  # hash is not published by the module proxy, so it is left off.
  ensure victoria-metrics "${v}" victoriametrics "${m}/app/victoria-metrics" \
    "-s -w -X ${m}/lib/buildinfo.Version=victoria-metrics-${date}-tags-${v}-0" "" -- -version
}

tool_oslo() {
  local v
  v="$(modver oslo github.com/OpenSLO/oslo)"
  # Upstream's Makefile: -X main.version=$(git describe --tags).
  ensure oslo "${v}" oslo github.com/OpenSLO/oslo/cmd/oslo "-s -w -X main.version=${v}" "" -- --version
}

# Third-party CRDs, copied from the module zips that publish them. They are
# never committed: bin/ is git-ignored. bin/crds/.versions records where they
# came from, so a rerun is a no-op without touching the module cache.
peer_crds=(
  # <module> <path in the module>
  "github.com/prometheus-operator/prometheus-operator example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
  "github.com/prometheus-operator/prometheus-operator example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
  "github.com/slok/sloth pkg/kubernetes/gen/crd/sloth.slok.dev_prometheusservicelevels.yaml"
)
# Pyrra's ServiceLevelObjective CRD is not here: the module proxy refuses
# github.com/pyrra-dev/pyrra (403 "This module version is not available").

tool_peer_crds() {
  local out="${bin_dir}/crds" want="" entry mod path v dir
  for entry in "${peer_crds[@]}"; do
    read -r mod path <<<"${entry}"
    want+="${mod} $(modver crds "${mod}") ${path}"$'\n'
  done
  if [[ -f "${out}/.versions" && "$(cat "${out}/.versions")"$'\n' == "${want}" ]]; then
    log "peer CRDs are up to date"
    return
  fi
  mkdir -p "${out}"
  rm -f "${out}/.versions"
  for entry in "${peer_crds[@]}"; do
    read -r mod path <<<"${entry}"
    dir="$(moddir crds "${mod}")"
    v="$(modver crds "${mod}")"
    # Module cache files are read-only; the copy should not be.
    install -m 0644 "${dir}/${path}" "${out}/.$(basename "${path}").tmp"
    mv -f "${out}/.$(basename "${path}").tmp" "${out}/$(basename "${path}")"
    log "bin/crds/$(basename "${path}") from ${mod}@${v}"
  done
  printf '%s' "${want}" >"${out}/.versions"
}

all=(sloth helm prometheus3 victoriametrics oslo peer-crds)
[[ $# -gt 0 ]] || set -- "${all[@]}"
for t in "$@"; do
  case "${t}" in
    sloth | helm | prometheus3 | victoriametrics | oslo) "tool_${t}" ;;
    peer-crds) tool_peer_crds ;;
    *) log "unknown tool '${t}' (known: ${all[*]})"; exit 2 ;;
  esac
done
