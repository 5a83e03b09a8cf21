{{/*
Chart name.
*/}}
{{- define "yinling.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: "<release>-<chart>", shortened to 63 characters. Resource names add suffixes, so keep
the prefix at most 40 characters.
*/}}
{{- define "yinling.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "yinling.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "yinling.labels" -}}
helm.sh/chart: {{ include "yinling.chart" . }}
{{ include "yinling.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: yinling
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "yinling.selectorLabels" -}}
app.kubernetes.io/name: {{ include "yinling.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component: (dict "ctx" $ "component" "web").
*/}}
{{- define "yinling.componentLabels" -}}
{{ include "yinling.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "yinling.componentSelectorLabels" -}}
{{ include "yinling.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "yinling.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "yinling.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "yinling.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{- define "yinling.configMapName" -}}
{{ include "yinling.fullname" . }}-config
{{- end }}

{{/* The chart's Secret for the inline application secrets. */}}
{{- define "yinling.secretName" -}}
{{ include "yinling.fullname" . }}-inline
{{- end }}

{{/* The chart's Secret for the inline migration (owner role) URL: a hook resource. */}}
{{- define "yinling.migrationSecretName" -}}
{{ include "yinling.fullname" . }}-inline-migration
{{- end }}

{{- define "yinling.publicUrl" -}}
{{- if .Values.config.publicUrl -}}
{{ .Values.config.publicUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{ ternary "https" "http" .Values.ingress.tls.enabled }}://{{ first .Values.ingress.hosts }}
{{- else -}}
{{ fail "config.publicUrl is required when the ingress is disabled or has no hosts" }}
{{- end -}}
{{- end }}

{{/*
The application's secret settings: environment variable -> secret reference in values.
YINLING_DATABASE_MIGRATION_URL is deliberately absent: only the migration Job receives it.
*/}}
{{- define "yinling.appSecretRefs" -}}
YINLING_DATABASE_URL: {{ toJson .Values.postgresql.url }}
YINLING_REDIS_URL: {{ toJson .Values.redis.url }}
YINLING_S3_ACCESS_KEY: {{ toJson .Values.s3.accessKey }}
YINLING_S3_SECRET_KEY: {{ toJson .Values.s3.secretKey }}
YINLING_SECRET_KEY: {{ toJson .Values.app.secretKey }}
YINLING_PII_KEYS: {{ toJson .Values.app.piiKeys }}
YINLING_KEYCLOAK_CLIENT_SECRET: {{ toJson .Values.keycloak.clientSecret }}
YINLING_KEYCLOAK_ADMIN_CLIENT_SECRET: {{ toJson .Values.keycloak.adminClientSecret }}
{{- end }}

{{/*
Check one secret reference: (dict "name" ENV "ref" REF). Fails the render when neither an inline
value nor an existing Secret is given.
*/}}
{{- define "yinling.checkSecretRef" -}}
{{- if and (not .ref.value) (not .ref.existingSecret) -}}
{{- fail (printf "%s: set either .value (inline) or .existingSecret (name of an existing Secret) in the values" .name) -}}
{{- end -}}
{{- if not .ref.key -}}
{{- fail (printf "%s: .key must not be empty" .name) -}}
{{- end -}}
{{- end }}

{{/*
One env entry for a secret reference: (dict "name" ENV "ref" REF "chartSecret" NAME).
*/}}
{{- define "yinling.secretEnv" -}}
{{- include "yinling.checkSecretRef" . -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ ternary .chartSecret .ref.existingSecret (not (empty .ref.value)) }}
      key: {{ .ref.key }}
{{- end }}

{{/* True ("true") when at least one application secret is given inline. */}}
{{- define "yinling.hasInlineAppSecrets" -}}
{{- $refs := include "yinling.appSecretRefs" . | fromYaml }}
{{- range $name, $ref := $refs }}
{{- if $ref.value }}true{{- end }}
{{- end }}
{{- end }}

{{/*
Environment of web and worker containers: the application secrets, then extraEnv.
*/}}
{{- define "yinling.appEnv" -}}
{{- $chartSecret := include "yinling.secretName" . }}
{{- $refs := include "yinling.appSecretRefs" . | fromYaml }}
{{- range $name := keys $refs | sortAlpha }}
{{ include "yinling.secretEnv" (dict "name" $name "ref" (get $refs $name) "chartSecret" $chartSecret) }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if eq .name "YINLING_DATABASE_MIGRATION_URL" }}
{{- fail "extraEnv: YINLING_DATABASE_MIGRATION_URL is reserved for the migration Job; web and worker pods must not receive the owner role" }}
{{- end }}
{{- if eq .name "YINLING_ENV" }}
{{- fail "extraEnv: YINLING_ENV is always production in this chart" }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Pod annotations that roll the pods when configuration or chart-managed secrets change.
Changes inside an existingSecret do not roll pods: restart them (docs/operations.md).
*/}}
{{- define "yinling.checksumAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
checksum/secret-refs: {{ include "yinling.appSecretRefs" . | sha256sum }}
{{- end }}

{{/* The /tmp emptyDir volume. */}}
{{- define "yinling.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- with .Values.tmpVolume.medium }}
    medium: {{ . }}
    {{- end }}
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end }}

{{/* Soft spread over nodes plus extra constraints: (dict "ctx" $ "component" "web" "values" .Values.web). */}}
{{- define "yinling.topologySpread" -}}
{{- $constraints := list }}
{{- if .values.spreadAcrossNodes }}
{{- $selector := include "yinling.componentSelectorLabels" (dict "ctx" .ctx "component" .component) | fromYaml }}
{{- $constraints = append $constraints (dict "maxSkew" 1 "topologyKey" "kubernetes.io/hostname" "whenUnsatisfiable" "ScheduleAnyway" "labelSelector" (dict "matchLabels" $selector)) }}
{{- end }}
{{- $constraints = concat $constraints .values.topologySpreadConstraints }}
{{- with $constraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* NetworkPolicy egress port list: (dict "ports" LIST "udp" BOOL). */}}
{{- define "yinling.egressPorts" -}}
{{- range .ports }}
- protocol: TCP
  port: {{ . }}
{{- if $.udp }}
- protocol: UDP
  port: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* One NetworkPolicy egress rule: (dict "rule" (dict "ports" LIST "to" PEERS) "udp" BOOL). */}}
{{- define "yinling.egressRule" -}}
- ports:
    {{- include "yinling.egressPorts" (dict "ports" .rule.ports "udp" .udp) | trim | nindent 4 }}
  {{- with .rule.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
