#!/usr/bin/env bash
# Offline checks of the Helm chart in deploy/helm/yinling.
#
#   bash scripts/check-helm.sh
#
# What it does (each step prints "ok - ..." or "FAIL - ..."; the last line is "N passed, N failed"):
#   1. Tools. Helm v3.21.4 is built from source with `go install` (the only way to get it from the
#      registries these machines reach) and cached in ${YINLING_CACHE_DIR:-$HOME/.cache/yinling}/bin;
#      kubernetes-validate (PyPI, it carries the Kubernetes JSON schemas offline) goes into a cached
#      venv under the same directory. A warm cache makes the whole run take seconds.
#   2. `helm lint --strict --kube-version 1.33.0` with the default values and with the Jiangsu example.
#   3. `helm template --kube-version 1.33.0` of: the defaults, the example, the example with the
#      ServiceMonitor enabled, and a values file that gives every secret inline.
#   4. `kubernetes-validate --strict -k 1.33.0` of every render. The tool only WARNs (exit 0) on a
#      kind it has no schema for, so any WARN counts as a failure here. The ServiceMonitor (a CRD,
#      not in the Kubernetes schemas) is split out of its render, which is validated strictly without
#      it; the ServiceMonitor itself gets a structural check (apiVersion, selector = the web Service's
#      labels, endpoint port/path). The validator itself is first shown to reject a broken manifest.
#   5. Invariants of the rendered manifests (Python): YINLING_ENV=production; web and worker never
#      receive YINLING_DATABASE_MIGRATION_URL nor the migration Secret; the migration Job is a
#      pre-install,pre-upgrade hook with the owner URL and without the app URL; hardened security
#      contexts and a /tmp emptyDir everywhere; probes, preStop, grace periods; checksum annotations
#      (and that they change with the config); HPA/PDB/Ingress/NetworkPolicy shapes; the example's
#      3..10 web replicas, host and TLS.
#   6. Values that must be refused: web.replicaCount "three" (schema), an unknown key, a writable
#      root filesystem, YINLING_DATABASE_MIGRATION_URL in extraEnv, YINLING_ENV in config.extra and a
#      secret with neither value nor existingSecret — `helm lint` and `helm template` must both fail,
#      with the expected message.
#
# Environment: YINLING_CACHE_DIR (cache root), GO (go binary; default: go on PATH or
# /usr/local/go/bin/go), KEEP_RENDERS=1 keeps the rendered manifests and prints their folder.
set -euo pipefail

HELM_VERSION=v3.21.4
KUBE_VERSION=1.33.0
KUBERNETES_VALIDATE_VERSION=1.37.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$ROOT/deploy/helm/yinling"
EXAMPLE="$CHART/examples/province-jiangsu.yaml"
CACHE="${YINLING_CACHE_DIR:-$HOME/.cache/yinling}"
BIN="$CACHE/bin"
KV_VENV="$CACHE/venvs/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/check-helm.XXXXXX")"
if [[ "${KEEP_RENDERS:-0}" == 1 ]]; then
  trap 'echo "renders kept in $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
# Keep helm away from the user's own helm configuration and repositories.
export HELM_CONFIG_HOME="$WORK/helm/config" HELM_CACHE_HOME="$WORK/helm/cache" HELM_DATA_HOME="$WORK/helm/data"

START=$SECONDS
PASSED=0
FAILED=0
ok()   { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad()  { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
step() { echo; echo "== $* ($((SECONDS - START))s)"; }

# ----------------------------------------------------------------------------------------------
step "tools"
mkdir -p "$BIN" "$CACHE/venvs"
HELM="$BIN/helm"
if [[ -x "$HELM" ]] && [[ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then
  echo "helm $HELM_VERSION: cached at $HELM"
else
  GO_BIN="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
  [[ -x "$GO_BIN" ]] || { echo "go not found (set GO=/path/to/go); it is needed to build helm" >&2; exit 1; }
  echo "building helm $HELM_VERSION with $("$GO_BIN" version) (takes a few minutes once) ..."
  t0=$SECONDS
  GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO_BIN" install \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "built helm in $((SECONDS - t0))s"
fi
"$HELM" version --template 'helm {{.Version}} ({{.GoVersion}})'; echo

if [[ -x "$KV_VENV/bin/kubernetes-validate" ]] && "$KV_VENV/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
  echo "kubernetes-validate $KUBERNETES_VALIDATE_VERSION: cached at $KV_VENV"
else
  rm -rf "$KV_VENV"
  if command -v uv >/dev/null 2>&1; then
    UV_PYTHON_DOWNLOADS=never uv venv --quiet --python "$(command -v python3)" "$KV_VENV"
    uv pip install --quiet --python "$KV_VENV/bin/python" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  else
    python3 -m venv "$KV_VENV"
    "$KV_VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  fi
fi
KV="$KV_VENV/bin/kubernetes-validate"
PY="$KV_VENV/bin/python"   # has PyYAML (a dependency of kubernetes-validate)
echo "kubernetes-validate $("$KV" --version)"

# ----------------------------------------------------------------------------------------------
# Values files used below (renders go to $WORK/NAME.yaml, values files to $WORK/values/).
mkdir -p "$WORK/values"
cat > "$WORK/values/inline-secrets.yaml" <<'EOF'
postgresql:
  url: {value: "postgresql+asyncpg://yinling_app:app-pw@pg:5432/yinling", existingSecret: "", key: database-url}
  migrationUrl: {value: "postgresql+asyncpg://yinling_owner:owner-pw@pg:5432/yinling", existingSecret: "", key: database-migration-url}
redis:
  url: {value: "redis://:redis-pw@redis:6379/0", existingSecret: "", key: redis-url}
s3:
  accessKey: {value: "minio-access", existingSecret: "", key: s3-access-key}
  secretKey: {value: "minio-secret-key", existingSecret: "", key: s3-secret-key}
keycloak:
  clientSecret: {value: "kc-client", existingSecret: "", key: keycloak-client-secret}
  adminClientSecret: {value: "kc-admin", existingSecret: "", key: keycloak-admin-client-secret}
app:
  secretKey: {value: "0123456789abcdef0123456789abcdef", existingSecret: "", key: secret-key}
  piiKeys: {value: "k2-new,k1-old", existingSecret: "", key: pii-keys}
EOF
cat > "$WORK/values/bad-replicas.yaml" <<'EOF'
web:
  replicaCount: "three"
EOF
cat > "$WORK/values/bad-unknown-key.yaml" <<'EOF'
replicas: 3
EOF
cat > "$WORK/values/bad-writable-root.yaml" <<'EOF'
securityContext:
  readOnlyRootFilesystem: false
EOF
cat > "$WORK/values/bad-migration-env.yaml" <<'EOF'
extraEnv:
  - name: YINLING_DATABASE_MIGRATION_URL
    value: postgresql+asyncpg://yinling_owner:pw@pg/yinling
EOF
cat > "$WORK/values/bad-env-override.yaml" <<'EOF'
config:
  extra:
    YINLING_ENV: development
EOF
cat > "$WORK/values/bad-missing-secret.yaml" <<'EOF'
redis:
  url: {value: "", existingSecret: "", key: redis-url}
EOF
cat > "$WORK/values/bad-hpa-range.yaml" <<'EOF'
web:
  autoscaling: {minReplicas: 5, maxReplicas: 3}
EOF
cat > "$WORK/values/bad-same-key.yaml" <<'EOF'
s3:
  accessKey: {value: "a", existingSecret: "", key: dup}
  secretKey: {value: "b", existingSecret: "", key: dup}
EOF
cat > "$WORK/values/other-log-level.yaml" <<'EOF'
config:
  logLevel: DEBUG
EOF

# ----------------------------------------------------------------------------------------------
step "helm lint --strict --kube-version $KUBE_VERSION"
lint() {  # lint NAME [helm args...]
  local name="$1"; shift
  if "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$CHART" "$@" > "$WORK/lint-$name.log" 2>&1; then
    ok "helm lint --strict ($name)"
  else
    bad "helm lint --strict ($name)"; sed 's/^/    /' "$WORK/lint-$name.log"
  fi
}
lint defaults
lint jiangsu-example -f "$EXAMPLE"
lint inline-secrets -f "$WORK/values/inline-secrets.yaml"

# ----------------------------------------------------------------------------------------------
step "helm template --kube-version $KUBE_VERSION"
render() {  # render NAME [helm args...]  -> $WORK/NAME.yaml
  local name="$1"; shift
  if "$HELM" template yinling "$CHART" --namespace yinling --kube-version "$KUBE_VERSION" "$@" \
       > "$WORK/$name.yaml" 2> "$WORK/render-$name.log"; then
    ok "helm template ($name): $(grep -c '^kind:' "$WORK/$name.yaml") manifests"
  else
    bad "helm template ($name)"; sed 's/^/    /' "$WORK/render-$name.log"
  fi
}
render defaults
render jiangsu-example -f "$EXAMPLE"
render jiangsu-example-servicemonitor -f "$EXAMPLE" --set serviceMonitor.enabled=true \
  --set-string serviceMonitor.labels.release=kube-prometheus-stack
render inline-secrets -f "$WORK/values/inline-secrets.yaml"
render defaults-other-log-level -f "$WORK/values/other-log-level.yaml"

# ----------------------------------------------------------------------------------------------
step "kubernetes-validate --strict -k $KUBE_VERSION"
# Split CRD-backed resources (ServiceMonitor) out of a render: NAME.yaml -> NAME.core.yaml + NAME.crds.yaml
"$PY" - "$WORK/jiangsu-example-servicemonitor.yaml" <<'EOF'
import sys, yaml
src = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(src)) if d]
core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
crds = [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
yaml.safe_dump_all(core, open(src.replace(".yaml", ".core.yaml"), "w"), sort_keys=False)
yaml.safe_dump_all(crds, open(src.replace(".yaml", ".crds.yaml"), "w"), sort_keys=False)
EOF

cat > "$WORK/broken.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  replicas: "two"
  notAField: true
  selector: {matchLabels: {app: broken}}
  template:
    metadata: {labels: {app: broken}}
    spec:
      containers: [{name: c, image: x}]
EOF
if "$KV" --strict -k "$KUBE_VERSION" "$WORK/broken.yaml" > "$WORK/kv-broken.log" 2>&1; then
  bad "kubernetes-validate rejects a broken Deployment (it accepted it: validation would prove nothing)"
else
  ok "kubernetes-validate rejects a broken Deployment (self-test)"
fi

validate() {  # validate FILE LABEL
  local file="$1" label="$2" log="$WORK/kv-$(basename "$1").log"
  if "$KV" --strict -k "$KUBE_VERSION" "$file" > "$log" 2>&1 && ! grep -qE '^(WARN|ERROR|FATAL)' "$log"; then
    ok "kubernetes-validate --strict ($label): $(grep -c '^INFO' "$log") resources valid, no unknown kinds"
  else
    bad "kubernetes-validate --strict ($label)"; grep -vE '^INFO' "$log" | sed 's/^/    /'
  fi
}
validate "$WORK/defaults.yaml" defaults
validate "$WORK/jiangsu-example.yaml" jiangsu-example
validate "$WORK/inline-secrets.yaml" inline-secrets
validate "$WORK/jiangsu-example-servicemonitor.core.yaml" "jiangsu-example + ServiceMonitor, CRD split out"

# ----------------------------------------------------------------------------------------------
step "invariants of the rendered manifests"
cat > "$WORK/invariants.py" <<'EOF'
import sys, yaml

work = sys.argv[1]
passed = failed = 0

def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"FAIL - {what}")

def load(name):
    return [d for d in yaml.safe_load_all(open(f"{work}/{name}.yaml")) if d]

def find(docs, kind, suffix=None):
    return [d for d in docs if d["kind"] == kind and (suffix is None or d["metadata"]["name"].endswith(suffix))]

def one(docs, kind, suffix=None):
    found = find(docs, kind, suffix)
    return found[0] if len(found) == 1 else None

APP_SECRETS = {"YINLING_DATABASE_URL", "YINLING_REDIS_URL", "YINLING_S3_ACCESS_KEY", "YINLING_S3_SECRET_KEY",
               "YINLING_SECRET_KEY", "YINLING_PII_KEYS", "YINLING_KEYCLOAK_CLIENT_SECRET",
               "YINLING_KEYCLOAK_ADMIN_CLIENT_SECRET"}
CONFIG_VARS = {"YINLING_ENV", "YINLING_PUBLIC_URL", "YINLING_LOG_FORMAT", "YINLING_LOG_LEVEL",
               "YINLING_RATE_LIMIT_PER_MINUTE", "YINLING_UPLOAD_MAX_BYTES", "YINLING_DATA_DIR",
               "YINLING_DATABASE_POOL_SIZE", "YINLING_DATABASE_MAX_OVERFLOW", "YINLING_DB_APP_ROLE",
               "YINLING_S3_ENDPOINT", "YINLING_S3_BUCKET", "YINLING_S3_SECURE", "YINLING_S3_REGION",
               "YINLING_KEYCLOAK_URL", "YINLING_KEYCLOAK_REALM", "YINLING_KEYCLOAK_CLIENT_ID",
               "YINLING_KEYCLOAK_ADMIN_CLIENT_ID"}

def hardened(label, pod):
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 10001
          and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          f"{label}: pod runs as non-root uid 10001 with seccomp RuntimeDefault")
    check(pod.get("automountServiceAccountToken") is False, f"{label}: no service-account token mounted")
    tmp = [v for v in pod.get("volumes", []) if v["name"] == "tmp" and "emptyDir" in v]
    check(len(tmp) == 1, f"{label}: /tmp is an emptyDir")
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
              and sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001
              and "ALL" in sc.get("capabilities", {}).get("drop", [])
              and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
              f"{label}/{c['name']}: read-only root fs, no privilege escalation, capabilities dropped")
        check({"name": "tmp", "mountPath": "/tmp"} in c.get("volumeMounts", []), f"{label}/{c['name']}: /tmp mounted")
        check("limits" in c.get("resources", {}) and "requests" in c.get("resources", {}),
              f"{label}/{c['name']}: resource requests and limits set")

def env_names(c):
    return {e["name"] for e in c.get("env", [])}

def common(name, secret_names_expected_in_pods):
    docs = load(name)
    label = name
    cm = one(docs, "ConfigMap", "-config")
    check(cm is not None and cm["data"].get("YINLING_ENV") == "production", f"{label}: ConfigMap sets YINLING_ENV=production")
    check(cm is not None and CONFIG_VARS <= set(cm["data"]), f"{label}: ConfigMap carries every non-secret YINLING_* setting")
    check(cm is not None and not (set(cm["data"]) & (APP_SECRETS | {"YINLING_DATABASE_MIGRATION_URL"})),
          f"{label}: no secret in the ConfigMap")
    job = one(docs, "Job", "-migrate")
    check(job is not None, f"{label}: one migration Job")
    migration_secret = None
    if job:
        ann = job["metadata"].get("annotations", {})
        check(ann.get("helm.sh/hook") == "pre-install,pre-upgrade", f"{label}: migration Job is a pre-install,pre-upgrade hook")
        c = job["spec"]["template"]["spec"]["containers"][0]
        check(c.get("args") == ["db", "upgrade"], f"{label}: migration Job runs `yinling db upgrade`")
        envs = {e["name"]: e for e in c.get("env", [])}
        check("YINLING_DATABASE_MIGRATION_URL" in envs, f"{label}: migration Job gets YINLING_DATABASE_MIGRATION_URL")
        check(envs.get("YINLING_ENV", {}).get("value") == "production", f"{label}: migration Job runs with YINLING_ENV=production")
        check(not (set(envs) & APP_SECRETS), f"{label}: migration Job gets none of the application's secrets")
        if "YINLING_DATABASE_MIGRATION_URL" in envs:
            migration_secret = envs["YINLING_DATABASE_MIGRATION_URL"]["valueFrom"]["secretKeyRef"]
        hardened(f"{label}/job", job["spec"]["template"]["spec"])
    for comp in ("web", "worker"):
        dep = one(docs, "Deployment", f"-{comp}")
        check(dep is not None, f"{label}: one {comp} Deployment")
        if not dep:
            continue
        tpl = dep["spec"]["template"]
        pod = tpl["spec"]
        c = pod["containers"][0]
        names = env_names(c)
        check("YINLING_DATABASE_MIGRATION_URL" not in names, f"{label}/{comp}: no YINLING_DATABASE_MIGRATION_URL")
        refs = [e["valueFrom"]["secretKeyRef"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        check(migration_secret is None or migration_secret not in refs,
              f"{label}/{comp}: does not read the owner-role secret key")
        check(APP_SECRETS <= names, f"{label}/{comp}: receives every application secret")
        check({r["name"] for r in refs} <= secret_names_expected_in_pods,
              f"{label}/{comp}: secrets come from {sorted(secret_names_expected_in_pods)}")
        check(any(s.get("configMapRef", {}).get("name") == cm["metadata"]["name"] for s in c.get("envFrom", [])),
              f"{label}/{comp}: environment from the ConfigMap")
        ann = tpl["metadata"].get("annotations", {})
        check({"checksum/config", "checksum/secret"} <= set(ann), f"{label}/{comp}: checksum annotations roll pods on change")
        hardened(f"{label}/{comp}", pod)
        hpa = one(docs, "HorizontalPodAutoscaler", f"-{comp}")
        check(hpa is not None and hpa["apiVersion"] == "autoscaling/v2"
              and hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"],
              f"{label}/{comp}: autoscaling/v2 HPA targets the Deployment")
        check(hpa is None or "replicas" not in dep["spec"], f"{label}/{comp}: replicas left to the HPA")
        pdb = one(docs, "PodDisruptionBudget", f"-{comp}")
        check(pdb is not None and pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"],
              f"{label}/{comp}: PodDisruptionBudget selects the pods")
        np = one(docs, "NetworkPolicy", f"-{comp}")
        check(np is not None and np["spec"]["podSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
              and set(np["spec"]["policyTypes"]) == {"Ingress", "Egress"},
              f"{label}/{comp}: NetworkPolicy restricts ingress and egress")
        if comp == "web":
            check(c["args"][:1] == ["serve"] and "--port" in c["args"], f"{label}/web: runs `yinling serve`")
            check("FORWARDED_ALLOW_IPS" in names, f"{label}/web: uvicorn trusts the ingress's X-Forwarded-For")
            check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/ready", f"{label}/web: readiness probe GET /ready")
            check(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health", f"{label}/web: liveness probe GET /health")
            sleep = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
            check(sleep[:1] == ["sleep"] and int(sleep[1]) < pod["terminationGracePeriodSeconds"],
                  f"{label}/web: preStop sleep shorter than the grace period")
            ports = [r.get("port") for r in np["spec"]["ingress"][0]["ports"]] if np else []
            check(ports == ["http"], f"{label}/web: NetworkPolicy admits only the http port")
            dns = [r for r in np["spec"]["egress"] if {"protocol": "UDP", "port": 53} in r["ports"]] if np else []
            check(len(dns) == 1, f"{label}/web: NetworkPolicy allows DNS egress")
        else:
            check(c["args"] == ["worker"], f"{label}/worker: runs `yinling worker`")
            check("readinessProbe" not in c and "httpGet" not in c.get("livenessProbe", {}),
                  f"{label}/worker: no HTTP probe (the worker serves no HTTP)")
            check(np is not None and np["spec"].get("ingress") == [], f"{label}/worker: accepts no connections")
            check(pod["terminationGracePeriodSeconds"] >= 30, f"{label}/worker: grace period to finish a job")
    svc = one(docs, "Service", "-web")
    web = one(docs, "Deployment", "-web")
    check(svc is not None and web is not None and svc["spec"]["selector"] == web["spec"]["selector"]["matchLabels"],
          f"{label}: Service selects the web pods")
    mnp = one(docs, "NetworkPolicy", "-migration")
    check(mnp is not None and mnp["metadata"]["annotations"].get("helm.sh/hook") == "pre-install,pre-upgrade",
          f"{label}: the migration Job's NetworkPolicy is a hook created before it")
    ing = one(docs, "Ingress")
    check(ing is not None and ing["spec"].get("tls") and ing["spec"]["tls"][0]["secretName"]
          and ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == svc["metadata"]["name"],
          f"{label}: Ingress with TLS routes to the web Service")
    return docs

# defaults: everything from the existing Secrets named in values.yaml; the chart creates no Secret.
docs = common("defaults", {"yinling-secrets"})
check(not find(docs, "Secret"), "defaults: no Secret created when every secret is an existingSecret")
check(not find(docs, "ServiceMonitor"), "defaults: ServiceMonitor off by default")

# the Jiangsu example
docs = common("jiangsu-example", {"yinling-pg-app", "yinling-redis", "yinling-s3", "yinling-keycloak", "yinling-app"})
hpa = one(docs, "HorizontalPodAutoscaler", "-web")
check(hpa and hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] == 10, "jiangsu-example: web HPA 3..10 replicas")
ing = one(docs, "Ingress")
check(ing and ing["spec"]["rules"][0]["host"] == "yinling.example.gov.cn"
      and ing["spec"]["tls"][0]["hosts"] == ["yinling.example.gov.cn"], "jiangsu-example: Ingress yinling.example.gov.cn with TLS")
job = one(docs, "Job", "-migrate")
ref = job["spec"]["template"]["spec"]["containers"][0]["env"][-1]["valueFrom"]["secretKeyRef"]
check(ref == {"name": "yinling-pg-owner", "key": "database-migration-url"}, "jiangsu-example: migration Job reads yinling-pg-owner")

# the example with the ServiceMonitor: produced, and consistent with the Service
crds = [d for d in yaml.safe_load_all(open(f"{work}/jiangsu-example-servicemonitor.crds.yaml")) if d]
core = [d for d in yaml.safe_load_all(open(f"{work}/jiangsu-example-servicemonitor.core.yaml")) if d]
sm = crds[0] if len(crds) == 1 else None
check(sm is not None and sm["kind"] == "ServiceMonitor" and sm["apiVersion"] == "monitoring.coreos.com/v1",
      "servicemonitor: exactly one monitoring.coreos.com/v1 ServiceMonitor rendered")
svc = one(core, "Service", "-web")
if sm and svc:
    check(all(svc["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()),
          "servicemonitor: selector matches the web Service's labels")
    ep = sm["spec"]["endpoints"][0]
    check(ep["port"] == svc["spec"]["ports"][0]["name"] and ep["path"] == "/metrics", "servicemonitor: scrapes port http, /metrics")
    check(sm["metadata"]["labels"].get("release") == "kube-prometheus-stack", "servicemonitor: carries the Prometheus selector label")
    check(set(sm["spec"]) <= {"selector", "endpoints", "namespaceSelector", "jobLabel"} and
          set(ep) <= {"port", "path", "scheme", "interval", "scrapeTimeout"}, "servicemonitor: only known fields")

# inline secrets: the chart's Secret holds the app secrets, a separate hook Secret holds the owner URL
docs = common("inline-secrets", {"yinling-inline"})
secrets = {d["metadata"]["name"]: d for d in find(docs, "Secret")}
app = secrets.get("yinling-inline")
mig = secrets.get("yinling-inline-migration")
check(app is not None and len(app["data"]) == 8 and "database-migration-url" not in app["data"],
      "inline-secrets: the chart's Secret has the 8 application secrets and not the owner URL")
check(mig is not None and list(mig["data"]) == ["database-migration-url"]
      and mig["metadata"]["annotations"].get("helm.sh/hook") == "pre-install,pre-upgrade"
      and "hook-succeeded" in mig["metadata"]["annotations"].get("helm.sh/hook-delete-policy", "")
      and int(mig["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0,
      "inline-secrets: owner URL in its own hook Secret, created before the Job and deleted after success")

# a config change changes the pods' checksum (pods roll); the secret checksum stays
a = one(load("defaults"), "Deployment", "-web")["spec"]["template"]["metadata"]["annotations"]
b = one(load("defaults-other-log-level"), "Deployment", "-web")["spec"]["template"]["metadata"]["annotations"]
check(a["checksum/config"] != b["checksum/config"] and a["checksum/secret"] == b["checksum/secret"],
      "checksum/config changes with config.logLevel, checksum/secret does not")

print(f"INVARIANTS {passed} {failed}")
sys.exit(1 if failed else 0)
EOF
set +e
"$PY" "$WORK/invariants.py" "$WORK" > "$WORK/invariants.log" 2>&1
inv_rc=$?
set -e
grep -v '^INVARIANTS' "$WORK/invariants.log"
read -r _ inv_passed inv_failed < <(grep '^INVARIANTS' "$WORK/invariants.log" || echo "INVARIANTS 0 1")
PASSED=$((PASSED + inv_passed))
FAILED=$((FAILED + inv_failed))
if [[ $inv_rc -ne 0 && $inv_failed -eq 0 ]]; then bad "invariants script crashed"; fi

# ----------------------------------------------------------------------------------------------
step "values that must be refused"
refuse() {  # refuse FILE EXPECTED-MESSAGE-REGEX DESCRIPTION
  local file="$1" expect="$2" what="$3" cmd log
  for cmd in lint template; do
    log="$WORK/refuse-$cmd-$(basename "$file").log"
    if [[ $cmd == lint ]]; then
      "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$CHART" -f "$file" > "$log" 2>&1 && rc=0 || rc=$?
    else
      "$HELM" template yinling "$CHART" --kube-version "$KUBE_VERSION" -f "$file" > "$log" 2>&1 && rc=0 || rc=$?
    fi
    if [[ $rc -ne 0 ]] && grep -qE "$expect" "$log"; then
      ok "helm $cmd refuses $what: $(grep -oE "$expect" "$log" | head -1)"
    elif [[ $rc -ne 0 ]]; then
      bad "helm $cmd refuses $what, but without the expected message /$expect/"; sed 's/^/    /' "$log"
    else
      bad "helm $cmd accepted $what"
    fi
  done
}
refuse "$WORK/values/bad-replicas.yaml" "/web/replicaCount'?: got string, want integer" 'web.replicaCount: "three"'
refuse "$WORK/values/bad-unknown-key.yaml" "additional properties 'replicas' not allowed" "an unknown top-level key"
refuse "$WORK/values/bad-writable-root.yaml" "/securityContext/readOnlyRootFilesystem'?: value must be true" "a writable root filesystem"
refuse "$WORK/values/bad-migration-env.yaml" "/extraEnv/0/name" "YINLING_DATABASE_MIGRATION_URL in extraEnv"
refuse "$WORK/values/bad-env-override.yaml" "invalid propertyName 'YINLING_ENV'" "YINLING_ENV in config.extra"
refuse "$WORK/values/bad-missing-secret.yaml" "at '/redis/url': 'anyOf' failed" "a secret with neither value nor existingSecret"

# Cross-field rules live in the templates (`fail`). `helm lint` runs templates in lint mode, where
# `fail` is only logged, so for these the render (and thus install/upgrade) is what must fail.
refuse_render() {  # refuse_render FILE EXPECTED-MESSAGE-REGEX DESCRIPTION
  local file="$1" expect="$2" what="$3" log="$WORK/refuse-render-$(basename "$1").log"
  "$HELM" template yinling "$CHART" --kube-version "$KUBE_VERSION" -f "$file" > "$log" 2>&1 && rc=0 || rc=$?
  if [[ $rc -ne 0 ]] && grep -qE "$expect" "$log"; then
    ok "helm template refuses $what: $(grep -oE "$expect" "$log" | head -1)"
  else
    bad "helm template should refuse $what with /$expect/ (rc=$rc)"; sed 's/^/    /' "$log"
  fi
}
refuse_render "$WORK/values/bad-hpa-range.yaml" "minReplicas [(]5[)] must not exceed maxReplicas [(]3[)]" "web HPA minReplicas > maxReplicas"
refuse_render "$WORK/values/bad-same-key.yaml" "use the same key .dup." "two inline secrets under the same key"

# ----------------------------------------------------------------------------------------------
echo
echo "checked chart $CHART with helm $HELM_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION, Kubernetes $KUBE_VERSION in $((SECONDS - START))s"
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
