{{/* Labels every object carries: the kustomization's, plus Helm's standard ones. */}}
{{- define "sloreco.labels" -}}
app.kubernetes.io/name: sloreco
app.kubernetes.io/component: operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}
