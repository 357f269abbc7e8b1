#!/usr/bin/env bash
# Fetch the vendors' own machine-readable API artifacts that the connector contract tests
# check against (crates/connectors/tests/contract/vendor_artifacts.rs), each from its registry with that
# registry's ordinary client, and write them as JSON into one directory:
#
#   tests/vendor/fetch.sh DIR      # then: VIGIL_VENDOR_ARTIFACTS=DIR cargo test ...
#
# Idempotent: a stamp per artifact names its version; a present stamp skips the fetch.
#
#   google-admin-directory_v1.json, google-admin-reports_v1.json
#       Google's discovery documents, bundled in PyPI google-api-python-client
#   okta-management.json
#       Okta's management OpenAPI 3 document, in the Go module okta-sdk-golang/v5
#   okta-node-sdk-query.json
#       the query parameters of each operation of Okta's Node SDK (npm
#       @okta/okta-sdk-nodejs, generated from a newer management document than the Go
#       module's: it has revokeUserSessions' forgetDevices)
#   salesforce-objects.json
#       the fields (with their types and nullability) and parent relationships of
#       Salesforce's standard objects, from npm jsforce's generated schema types
#   graph.json
#       Microsoft Graph v1.0 as one OpenAPI document, built by graph.py from PyPI
#       msgraph-sdk (request builders: paths, methods, query parameters, body and answer
#       types) and npm @microsoft/microsoft-graph-types (entities, nullable properties)
#   mattermost.json
#       the API v4 operations Vigil uses, as Mattermost's own npm @mattermost/client
#       sends them (its Client4 run with a recording fetch), with answers typed by
#       @mattermost/types (mattermost.mjs)
#   auth0.json
#       the Management API operations Vigil uses, as Auth0's own Node SDK (npm auth0)
#       sends them, run with a recording fetch (auth0.mjs); answers are not described
#   zitadel.json
#       the HTTP API of Zitadel's session v2, user v2, admin and management services,
#       built from Zitadel's own protobuf descriptors in npm @zitadel/proto (zitadel.mjs)
#   ory-kratos.json
#       Ory's OpenAPI 3 document (Kratos admin API), in the Go module ory/client-go
#   route-types/node_modules
#       the TypeScript types of what Slack's incoming webhooks take (npm @slack/webhook
#       and its @slack/types: Block Kit) and of Adaptive Cards (npm adaptivecards) and
#       Bot Framework activities (npm botframework-schema) for Teams, with the
#       TypeScript compiler: Vigil's alert payloads are compiled against them
set -euo pipefail

GOOGLE_CLIENT=2.202.0
OKTA_SDK=v5.0.2
OKTA_NODE_SDK=8.1.0
MSGRAPH_SDK=1.65.0
JSFORCE=3.10.26
MATTERMOST_CLIENT=11.9.0
ZITADEL_PROTO=1.3.1
AUTH0_SDK=7.1.0
GRAPH_TYPES=2.43.1
ORY_CLIENT=v1.22.92
SLACK_WEBHOOK=8.0.2
ADAPTIVECARDS=3.0.6
BOTFRAMEWORK_SCHEMA=4.23.3
TYPESCRIPT=5.9.3

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
PY=${PYTHON:-python3}
# The Go toolchain of these machines lives in /usr/local/go, not always on PATH.
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
log() { echo "[vendor] $*" >&2; }
fresh() { [[ -f $OUT/$1.stamp && "$(cat "$OUT/$1.stamp")" == "$2" ]]; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# YAML to JSON with the test venv's PyYAML (the Rust tests read JSON).
to_json() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys, yaml
# Dates stay strings: JSON has none, and examples hold dates that are not valid ones.
Loader = type("Loader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.load(f, Loader=Loader)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(doc, f)
PYEOF
}

if ! fresh google "$GOOGLE_CLIENT"; then
  log "PyPI google-api-python-client==$GOOGLE_CLIENT (discovery documents)"
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps \
    "google-api-python-client==$GOOGLE_CLIENT" -d "$work/google"
  wheel=$(ls "$work"/google/google_api_python_client-*.whl)
  for api in admin.directory_v1 admin.reports_v1; do
    unzip -p "$wheel" "googleapiclient/discovery_cache/documents/$api.json" \
      >"$OUT/google-${api//admin./admin-}.json"
  done
  echo "$GOOGLE_CLIENT" >"$OUT/google.stamp"
fi

# npm packages (with their dependencies) into a throw-away folder: prints its node_modules.
npm_modules() {
  local dir=$work/npm-$1
  shift
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private": true}' >package.json &&
    npm install --silent --no-audit --no-fund --ignore-scripts "$@" >/dev/null)
  echo "$dir/node_modules"
}

go_module_dir() {
  (cd "$work" && { [[ -f go.mod ]] || go mod init vigil.invalid/vendor >/dev/null 2>&1; } &&
    go mod download -json "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
}

if ! fresh okta "$OKTA_SDK"; then
  command -v go >/dev/null || { echo "error: go is needed to fetch Okta's OpenAPI document" >&2; exit 1; }
  log "Go module github.com/okta/okta-sdk-golang/v5@$OKTA_SDK (okta/api/openapi.yaml)"
  dir=$(go_module_dir "github.com/okta/okta-sdk-golang/v5@$OKTA_SDK")
  to_json "$dir/okta/api/openapi.yaml" "$OUT/okta-management.json"
  echo "$OKTA_SDK" >"$OUT/okta.stamp"
fi

if ! fresh okta-node "$OKTA_NODE_SDK"; then
  log "npm @okta/okta-sdk-nodejs@$OKTA_NODE_SDK (query parameters per operation)"
  (cd "$work" && npm pack --silent "@okta/okta-sdk-nodejs@$OKTA_NODE_SDK" >/dev/null)
  mkdir -p "$work/okta-node"
  tar -xzf "$work"/okta-okta-sdk-nodejs-*.tgz -C "$work/okta-node"
  "$PY" - "$work/okta-node/package/src/generated/apis" "$OUT/okta-node-sdk-query.json" <<'PYEOF'
import json, os, re, sys
# Each generated request factory is `async name(...) { ... setQueryParam('p', ...) ... }`.
ops = {}
for name in sorted(os.listdir(sys.argv[1])):
    if not name.endswith("Api.js"):
        continue
    with open(os.path.join(sys.argv[1], name), encoding="utf-8") as f:
        src = f.read()
    for chunk in re.split(r"\n  async ", src)[1:]:
        op = chunk.split("(", 1)[0]
        params = re.findall(r"setQueryParam\('([^']+)'", chunk)
        if re.fullmatch(r"\w+", op) and params:
            ops.setdefault(op, sorted(set(params)))
if "revokeUserSessions" not in ops:
    sys.exit("error: no revokeUserSessions in the Okta Node SDK")
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(ops, f, indent=1, sort_keys=True)
PYEOF
  echo "$OKTA_NODE_SDK" >"$OUT/okta-node.stamp"
fi

if ! fresh graph "$MSGRAPH_SDK+$GRAPH_TYPES"; then
  log "PyPI msgraph-sdk==$MSGRAPH_SDK and npm @microsoft/microsoft-graph-types@$GRAPH_TYPES (Graph as OpenAPI)"
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps \
    "msgraph-sdk==$MSGRAPH_SDK" -d "$work/graph"
  (cd "$work/graph" && npm pack --silent "@microsoft/microsoft-graph-types@$GRAPH_TYPES" >/dev/null)
  tar -xzf "$work"/graph/microsoft-microsoft-graph-types-*.tgz -C "$work/graph"
  "$PY" "$(dirname "$0")/graph.py" "$work"/graph/msgraph_sdk-*.whl \
    "$work/graph/package/microsoft-graph.d.ts" "$OUT/graph.json"
  echo "$MSGRAPH_SDK+$GRAPH_TYPES" >"$OUT/graph.stamp"
fi

if ! fresh salesforce "$JSFORCE"; then
  log "npm jsforce@$JSFORCE (Salesforce's standard objects)"
  mkdir -p "$work/jsforce"
  (cd "$work/jsforce" && npm pack --silent "jsforce@$JSFORCE" >/dev/null &&
    tar -xzf jsforce-*.tgz package/lib/types/standard-schema.d.ts)
  "$PY" - "$work/jsforce/package/lib/types/standard-schema.d.ts" "$OUT/salesforce-objects.json" <<'PYEOF'
import json, re, sys
src = open(sys.argv[1], encoding="utf-8").read()
objects = {}
for kind, name, body in re.findall(r"^type (Fields|ParentReferences)\$(\w+) = \{\n(.*?)^\};", src, re.M | re.S):
    o = objects.setdefault(name, {"fields": {}, "parents": {}})
    for field, t in re.findall(r"^    (\w+): (.+);$", body, re.M):
        nullable = t.endswith(" | null")
        t = t[: -len(" | null")] if nullable else t
        if kind == "Fields":
            o["fields"][field] = {"type": t, "nullable": nullable}
        else:
            m = re.fullmatch(r"SObjectDefinition\$(\w+)", t)
            if m:
                o["parents"][field] = m.group(1)
for must in ("AuthSession", "LoginHistory", "User", "UserLogin", "PermissionSetAssignment"):
    if not objects.get(must, {}).get("fields"):
        sys.exit(f"error: jsforce's schema has no {must}")
json.dump(objects, open(sys.argv[2], "w", encoding="utf-8"))
PYEOF
  echo "$JSFORCE" >"$OUT/salesforce.stamp"
fi

if ! fresh mattermost "$MATTERMOST_CLIENT"; then
  log "npm @mattermost/client and @mattermost/types $MATTERMOST_CLIENT (API v4 as Client4 sends it)"
  modules=$(npm_modules mattermost "@mattermost/client@$MATTERMOST_CLIENT" "@mattermost/types@$MATTERMOST_CLIENT")
  node "$(dirname "$0")/mattermost.mjs" "$modules" "$OUT/mattermost.json"
  echo "$MATTERMOST_CLIENT" >"$OUT/mattermost.stamp"
fi

if ! fresh zitadel "$ZITADEL_PROTO"; then
  log "npm @zitadel/proto@$ZITADEL_PROTO (Zitadel's protobuf descriptors)"
  modules=$(npm_modules zitadel "@zitadel/proto@$ZITADEL_PROTO")
  node "$(dirname "$0")/zitadel.mjs" "$modules" "$OUT/zitadel.json"
  echo "$ZITADEL_PROTO" >"$OUT/zitadel.stamp"
fi

# The stamp names the SDK and the list of calls recorded (auth0.mjs): a new call re-records.
AUTH0_STAMP="$AUTH0_SDK+refresh-tokens"
if ! fresh auth0 "$AUTH0_STAMP"; then
  log "npm auth0@$AUTH0_SDK (Management API as Auth0's Node SDK sends it)"
  modules=$(npm_modules auth0 "auth0@$AUTH0_SDK")
  node "$(dirname "$0")/auth0.mjs" "$modules" "$OUT/auth0.json"
  echo "$AUTH0_STAMP" >"$OUT/auth0.stamp"
fi

if ! fresh ory "$ORY_CLIENT"; then
  command -v go >/dev/null || { echo "error: go is needed to fetch Ory's OpenAPI document" >&2; exit 1; }
  log "Go module github.com/ory/client-go@$ORY_CLIENT (api/openapi.yaml)"
  dir=$(go_module_dir "github.com/ory/client-go@$ORY_CLIENT")
  to_json "$dir/api/openapi.yaml" "$OUT/ory-kratos.json"
  echo "$ORY_CLIENT" >"$OUT/ory.stamp"
fi
ROUTE_TYPES="$SLACK_WEBHOOK+$ADAPTIVECARDS+$BOTFRAMEWORK_SCHEMA+$TYPESCRIPT"
if ! fresh route-types "$ROUTE_TYPES"; then
  log "npm @slack/webhook@$SLACK_WEBHOOK, adaptivecards@$ADAPTIVECARDS, botframework-schema@$BOTFRAMEWORK_SCHEMA, typescript@$TYPESCRIPT (alert payload types)"
  rm -rf "$OUT/route-types"
  mkdir -p "$OUT/route-types"
  (cd "$OUT/route-types" && echo '{"private": true}' >package.json &&
    npm install --silent --no-audit --no-fund --ignore-scripts \
      "@slack/webhook@$SLACK_WEBHOOK" "adaptivecards@$ADAPTIVECARDS" \
      "botframework-schema@$BOTFRAMEWORK_SCHEMA" "typescript@$TYPESCRIPT" >/dev/null)
  echo "$ROUTE_TYPES" >"$OUT/route-types.stamp"
fi
log "artifacts in $OUT"
