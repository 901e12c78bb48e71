"""The API's identity (SPEC §1): group, version, kinds, labels. Imported by the I/O layer and the
pure core alike, so it holds constants only."""

GROUP = "sloreco.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
SERVICELEVELS = "servicelevels"
RECOMMENDATIONS = "slorecommendations"

LABEL_SERVICE_LEVEL = "sloreco.dev/service-level"
LABEL_SLI = "sloreco.dev/sli"
LABEL_STATE = "sloreco.dev/state"
#: The parent's metadata.generation a child was computed for; a spec change makes it stale.
ANNOTATION_GENERATION = "sloreco.dev/parent-generation"

#: The dependency ceiling an availability child was computed under; a new ceiling means a refresh.
ANNOTATION_CEILING = "sloreco.dev/ceiling"

SLIS = ("availability", "latency")
