{{/*
The reconciler's rules: exactly the calls its Kubernetes adapters make
(test/integration/rbac proves it against the calls the suite records).
*/}}
{{- define "op.reconcilerRules" -}}
# Read and converge ExposedAPIs; patch adds and removes the cleanup finalizer.
- apiGroups: ["oda.tmforum.org"]
  resources: ["exposedapis"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["oda.tmforum.org"]
  resources: ["exposedapis/status"]
  verbs: ["patch"]
# ownerReferences with blockOwnerDeletion on the Ingress, Secret and
# ServiceMonitor made for an ExposedAPI (OwnerReferencesPermissionEnforcement).
- apiGroups: ["oda.tmforum.org"]
  resources: ["exposedapis/finalizers"]
  verbs: ["update"]
# The owning Component's entries (url, developerUI, ready). The Canvas CRD has
# no status subresource; /status is used where a cluster's CRD has one.
- apiGroups: ["oda.tmforum.org"]
  resources: ["components"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["oda.tmforum.org"]
  resources: ["components/status"]
  verbs: ["patch"]
# The Ingress routing the API path to the implementing Service.
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# The subscription-key Secret beside each ExposedAPI (watched: a deleted or
# edited key is put back).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update"]
# Implementation readiness: the Service and its EndpointSlices.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["list", "watch"]
# Metrics APIs: scrape annotations on the Pods behind the Service
# (OPENMETRICS_IMPLEMENTATION PrometheusAnnotation or DataDogAnnotation) ...
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "patch"]
# ... or a prometheus-operator ServiceMonitor (the default).
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# Events about each ExposedAPI.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
