{{/* The prefix of every object: the release name ("apim-operator" in the generated manifests). */}}
{{- define "op.name" -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end }}

{{- define "op.labels" -}}
app.kubernetes.io/part-of: oda-apim-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* Labels of one part: `include "op.part" (list . "webhook")`. */}}
{{- define "op.part" -}}
{{- $ctx := index . 0 }}{{ $part := index . 1 -}}
app.kubernetes.io/name: {{ include "op.name" $ctx }}-{{ $part }}
app.kubernetes.io/component: {{ $part }}
{{ include "op.labels" $ctx }}
{{- end }}

{{- define "op.selector" -}}
{{- $ctx := index . 0 }}{{ $part := index . 1 -}}
app.kubernetes.io/name: {{ include "op.name" $ctx }}-{{ $part }}
{{- end }}

{{- define "op.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end }}

{{/* "true" when monitoredNamespaces is a list of plain names: rights are then granted per namespace. */}}
{{- define "op.namespaced" -}}
{{- $plain := gt (len .Values.monitoredNamespaces) 0 -}}
{{- range .Values.monitoredNamespaces }}{{ if or (contains "*" .) (hasPrefix "!" .) }}{{ $plain = false }}{{ end }}{{ end -}}
{{ $plain }}
{{- end }}

{{- define "op.redisUrl" -}}
{{- if .Values.redis.bundled.enabled -}}
redis://{{ include "op.name" . }}-redis:6379
{{- else -}}
{{ required "redis.external.url is required when redis.bundled.enabled is false" .Values.redis.external.url }}
{{- end }}
{{- end }}

{{/* The Redis settings of every container that queues or works jobs. */}}
{{- define "op.redisEnv" -}}
- name: REDIS_URL
  value: {{ include "op.redisUrl" . | quote }}
{{- if not .Values.redis.bundled.enabled }}
{{- with .Values.redis.external }}
{{- if eq .auth "entra" }}
- name: REDIS_AUTH
  value: entra
{{- end }}
{{- if .username }}
- name: REDIS_USERNAME
  value: {{ .username | quote }}
{{- end }}
{{- if .passwordSecret.name }}
- name: REDIS_PASSWORD_FILE
  value: /redis-auth/password
{{- end }}
{{- if .tlsCaSecret.name }}
- name: REDIS_TLS_CA_FILE
  value: /redis-ca/ca.crt
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* OpenTelemetry: the standard OTEL_* variables, only when an endpoint is set (tracing is off otherwise). */}}
{{- define "op.tracingEnv" -}}
{{- with .root.Values.tracing }}
{{- if .otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .otlpEndpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .protocol | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "oda-apim-operator-%s" $.component | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .sampler | quote }}
{{- if .samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .samplerArg | quote }}
{{- end }}
{{- if .resourceAttributes }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ .resourceAttributes | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "op.redisMounts" -}}
{{- if not .Values.redis.bundled.enabled }}
{{- if .Values.redis.external.passwordSecret.name }}
- name: redis-auth
  mountPath: /redis-auth
  readOnly: true
{{- end }}
{{- if .Values.redis.external.tlsCaSecret.name }}
- name: redis-ca
  mountPath: /redis-ca
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "op.redisVolumes" -}}
{{- if not .Values.redis.bundled.enabled }}
{{- with .Values.redis.external.passwordSecret }}{{ if .name }}
- name: redis-auth
  secret:
    secretName: {{ .name }}
    defaultMode: 288
    items: [{ key: {{ .key }}, path: password }]
{{- end }}{{ end }}
{{- with .Values.redis.external.tlsCaSecret }}{{ if .name }}
- name: redis-ca
  secret:
    secretName: {{ .name }}
    defaultMode: 288
    items: [{ key: {{ .key }}, path: ca.crt }]
{{- end }}{{ end }}
{{- end }}
{{- end }}

{{/* Pod-level security of the operator's own containers (the image's node user, numeric so runAsNonRoot can check it). */}}
{{- define "op.podSecurity" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "op.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Spread over nodes and zones unless the values give constraints. */}}
{{- define "op.spread" -}}
{{- $ctx := index . 0 }}{{ $part := index . 1 }}{{ $given := index . 2 -}}
{{- if $given }}
{{ toYaml $given }}
{{- else }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "op.selector" (list $ctx $part) | nindent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "op.selector" (list $ctx $part) | nindent 6 }}
{{- end }}
{{- end }}

{{- define "op.pullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{- define "op.tlsSecret" -}}
{{- if .Values.certificates.certManager -}}
{{ include "op.name" . }}-webhook-tls
{{- else -}}
{{ required "certificates.existingSecret is required when certificates.certManager is false" .Values.certificates.existingSecret }}
{{- end }}
{{- end }}

{{/* The reconcile queue's name, as in shared/jobs.ts (RECONCILE_QUEUE). */}}
{{- define "op.queueName" -}}exposedapi-reconcile{{- end }}

{{/* The queue depth the scalers act on: one number for the queue, whatever the replica count. */}}
{{- define "op.queueDepthQuery" -}}
max(apim_operator_queue_depth{job="{{ include "op.name" . }}-reconciler", namespace="{{ .Release.Namespace }}", queue="{{ include "op.queueName" . }}"})
{{- end }}
