// Pins the modules whose published CRD YAML the tests apply (hack/tools/build.sh
// peer-crds copies the files into bin/crds/). Nothing imports these modules, so
// do not run `go mod tidy` here: it would drop the requirement. To change a
// version: edit the require line, then `go mod download <module>` updates go.sum.

module sloreco.dev/hack/tools/crds

go 1.26.0

require (
	github.com/prometheus-operator/prometheus-operator v0.85.0
	github.com/slok/sloth v0.16.0
)
