//! A mock tenant whose other side is the vendor's own machine-readable artifact: an
//! OpenAPI 3 document or a Google discovery document, fetched from a registry by
//! `tests/vendor/fetch.sh` into `$VIGIL_VENDOR_ARTIFACTS`.
//!
//! Every request the connector sends is checked against the artifact: the method and path
//! must be an operation it defines, every query parameter one that operation defines, and
//! a JSON body must fit the operation's request schema. Every answer is built from the
//! operation's response schema: every property the schema names is present, filled with
//! a value of its type, and, in every second element of a list, every nullable property
//! is `null`. A test gives realistic values for the fields it cares about ("overlays");
//! an overlay may only name properties the schema defines.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

/// An overlay value that leaves the property out of the answer (a vendor omits what it
/// does not have, e.g. the next page token of the last page).
pub const ABSENT: &str = "$absent";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    OpenApi,
    Discovery,
}

/// One operation of the artifact.
#[derive(Debug, Clone)]
pub struct Op {
    pub id: String,
    pub method: String,
    segments: Vec<String>,
    query: BTreeSet<String>,
    /// OAuth scopes: for OpenAPI, all of them are needed; for discovery, any one.
    pub scopes: Vec<String>,
    request: Option<Value>,
    responses: Vec<(String, Option<Value>)>,
}

pub struct Artifact {
    pub name: String,
    pub kind: Kind,
    doc: Value,
    ops: Vec<Op>,
    global_query: BTreeSet<String>,
}

/// The directory `tests/vendor/fetch.sh` filled.
pub fn dir() -> std::path::PathBuf {
    std::env::var_os("VIGIL_VENDOR_ARTIFACTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            panic!("VIGIL_VENDOR_ARTIFACTS is not set: run through scripts/test, which fetches the vendors' artifacts (tests/vendor/fetch.sh)")
        })
}

fn segments(template: &str) -> Vec<String> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

impl Artifact {
    pub fn load(file: &str, kind: Kind) -> Arc<Self> {
        Arc::new(Self::read(file, kind))
    }

    fn read(file: &str, kind: Kind) -> Self {
        let path = dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mut a = Self {
            name: file.to_owned(),
            kind,
            doc,
            ops: Vec::new(),
            global_query: BTreeSet::new(),
        };
        match kind {
            Kind::OpenApi => a.load_openapi(),
            Kind::Discovery => a.load_discovery(),
        }
        assert!(!a.ops.is_empty(), "{file}: no operations");
        a
    }

    fn load_openapi(&mut self) {
        let doc = self.doc.clone();
        let default_security = doc.get("security").cloned().unwrap_or(Value::Null);
        // The path of the first server URL (`…/v1.0`) comes before every template.
        let prefix = doc["servers"][0]["url"]
            .as_str()
            .map(url_path)
            .unwrap_or_default();
        for (template, item) in doc["paths"].as_object().unwrap() {
            let template = &format!(
                "{}/{}",
                prefix.trim_end_matches('/'),
                template.trim_start_matches('/')
            );
            let shared = item.get("parameters").cloned().unwrap_or(json!([]));
            for (method, op) in item.as_object().unwrap() {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    continue;
                }
                let mut query = BTreeSet::new();
                for p in shared
                    .as_array()
                    .unwrap()
                    .iter()
                    .chain(op["parameters"].as_array().into_iter().flatten())
                {
                    let p = self.resolve(p);
                    if p["in"] == "query" {
                        query.insert(p["name"].as_str().unwrap().to_owned());
                    }
                }
                let security = op.get("security").unwrap_or(&default_security);
                let scopes = security
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|req| req.get("oauth2").and_then(Value::as_array))
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                let body = op.get("requestBody").map(|b| self.resolve(b));
                let request = body.and_then(|b| json_schema(&b["content"]));
                let mut responses = Vec::new();
                for (status, r) in op["responses"].as_object().into_iter().flatten() {
                    let r = self.resolve(r);
                    responses.push((status.clone(), json_schema(&r["content"])));
                }
                self.ops.push(Op {
                    id: op["operationId"]
                        .as_str()
                        .map_or_else(|| format!("{method} {template}"), str::to_owned),
                    method: method.to_uppercase(),
                    segments: segments(template),
                    query,
                    scopes,
                    request,
                    responses,
                });
            }
        }
    }

    fn load_discovery(&mut self) {
        self.global_query = self.doc["parameters"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let base = format!(
            "{}{}",
            self.doc["rootUrl"].as_str().unwrap_or(""),
            self.doc["servicePath"].as_str().unwrap_or("")
        );
        let prefix = url_path(&base);
        let mut stack = vec![self.doc.clone()];
        while let Some(node) = stack.pop() {
            for (_, m) in node["methods"].as_object().into_iter().flatten() {
                let template = m["flatPath"].as_str().or(m["path"].as_str()).unwrap();
                let query = m["parameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, p)| p["location"] == "query")
                    .map(|(n, _)| n.clone())
                    .collect();
                self.ops.push(Op {
                    id: m["id"].as_str().unwrap().to_owned(),
                    method: m["httpMethod"].as_str().unwrap().to_owned(),
                    segments: segments(&format!("{prefix}{template}")),
                    query,
                    scopes: m["scopes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect(),
                    request: m.get("request").cloned(),
                    responses: vec![("200".into(), m.get("response").cloned())],
                });
            }
            for (_, r) in node["resources"].as_object().into_iter().flatten() {
                stack.push(r.clone());
            }
        }
    }

    /// Adds the query parameters another artifact of the same vendor defines for these
    /// operations (by operation id): `{"operationId": ["param", …]}`.
    pub fn load_with_query(file: &str, kind: Kind, query_file: &str) -> Arc<Self> {
        let mut a = Self::read(file, kind);
        let path = dir().join(query_file);
        let extra: HashMap<String, Vec<String>> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for op in &mut a.ops {
            if let Some(names) = extra.get(&op.id) {
                op.query.extend(names.iter().cloned());
            }
        }
        a.name = format!("{file} + {query_file}");
        Arc::new(a)
    }

    /// Follows `$ref`s: `#/…` pointers (OpenAPI) or schema names (discovery).
    pub fn resolve(&self, v: &Value) -> Value {
        let mut v = v.clone();
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                return v;
            };
            v = match r.strip_prefix('#') {
                Some(pointer) => self.doc.pointer(pointer),
                None => self.doc["schemas"].get(r),
            }
            .unwrap_or_else(|| panic!("{}: unresolved $ref {r}", self.name))
            .clone();
        }
        panic!("{}: $ref loop", self.name)
    }

    /// The schema with `$ref`s followed and `allOf` merged into one.
    fn flat(&self, schema: &Value) -> Value {
        let s = self.resolve(schema);
        let Some(parts) = s.get("allOf").and_then(Value::as_array) else {
            return s;
        };
        let mut out = s.clone();
        out.as_object_mut().unwrap().remove("allOf");
        let mut props = Map::new();
        let mut required = Vec::new();
        for p in parts {
            let p = self.flat(p);
            if let Some(m) = p["properties"].as_object() {
                props.extend(m.clone());
            }
            if let Some(r) = p["required"].as_array() {
                required.extend(r.clone());
            }
            for k in ["type", "nullable", "description"] {
                if let (Some(v), None) = (p.get(k), out.get(k)) {
                    out[k] = v.clone();
                }
            }
        }
        if let Some(m) = s["properties"].as_object() {
            props.extend(m.clone());
        }
        out["properties"] = Value::Object(props);
        out["required"] = Value::Array(required);
        out
    }

    pub fn find(&self, method: &str, path: &str) -> Option<&Op> {
        let segs = segments(path);
        let matching = |op: &&Op| {
            op.method == method
                && op.segments.len() == segs.len()
                && op.segments.iter().zip(&segs).all(|(t, s)| {
                    (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                })
        };
        // A literal segment wins over a parameter (`/users/me` before `/users/{id}`).
        self.ops
            .iter()
            .filter(matching)
            .max_by_key(|op| op.segments.iter().filter(|t| !t.starts_with('{')).count())
    }

    pub fn op(&self, id: &str) -> &Op {
        self.ops
            .iter()
            .find(|o| o.id == id)
            .unwrap_or_else(|| panic!("{}: no operation {id}", self.name))
    }

    /// Why this request is not one the artifact defines, if it is not.
    pub fn check(&self, req: &Request) -> Result<&Op, String> {
        let method = req.method.as_str();
        let path = req.url.path().to_owned();
        let op = self
            .find(method, &path)
            .ok_or_else(|| format!("{method} {path} is not an operation of {}", self.name))?;
        for (name, _) in req.url.query_pairs() {
            if !op.query.contains(name.as_ref()) && !self.global_query.contains(name.as_ref()) {
                return Err(format!(
                    "{method} {path}: query parameter `{name}` is not defined for {} (it has {:?})",
                    op.id, op.query
                ));
            }
        }
        if let Some(schema) = &op.request {
            if !req.body.is_empty() {
                let body: Value = serde_json::from_slice(&req.body)
                    .map_err(|e| format!("{}: body is not JSON: {e}", op.id))?;
                let mut errs = Vec::new();
                self.validate(schema, &body, "body", &mut errs, 0);
                if !errs.is_empty() {
                    return Err(format!("{}: {}", op.id, errs.join("; ")));
                }
            }
        } else if !req.body.is_empty() && self.kind == Kind::OpenApi {
            return Err(format!("{}: a body where the operation takes none", op.id));
        }
        Ok(op)
    }

    fn validate(&self, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>, depth: u32) {
        if depth > 12 {
            return;
        }
        let s = self.flat(schema);
        if v.is_null() {
            if s["nullable"] != true {
                errs.push(format!("{at} is null"));
            }
            return;
        }
        if let Some(values) = s["enum"].as_array()
            && !values.contains(v)
        {
            errs.push(format!("{at} = {v} is not one of {values:?}"));
        }
        let ty = s["type"]
            .as_str()
            .unwrap_or(if s.get("properties").is_some() {
                "object"
            } else {
                ""
            });
        // proto3's JSON mapping writes 64-bit integers as strings and reads either form.
        let int64 = matches!(s["format"].as_str(), Some("int64" | "uint64"));
        let fits = match ty {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string() || (int64 && (v.is_i64() || v.is_u64())),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => true,
        };
        if !fits {
            errs.push(format!("{at} = {v} is not of type {ty}"));
            return;
        }
        if let (Some(obj), Some(props)) = (v.as_object(), s["properties"].as_object()) {
            for r in s["required"].as_array().into_iter().flatten() {
                if let Some(r) = r.as_str().filter(|r| !obj.contains_key(*r)) {
                    errs.push(format!("{at}.{r} is required"));
                }
            }
            for (k, val) in obj {
                match props.get(k) {
                    Some(p) => self.validate(p, val, &format!("{at}.{k}"), errs, depth + 1),
                    None if !props.is_empty() && s.get("additionalProperties").is_none() => {
                        errs.push(format!("{at}.{k} is not a property the artifact defines"));
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(list)) = (s.get("items"), v.as_array()) {
            for (i, item) in list.iter().enumerate() {
                self.validate(items, item, &format!("{at}[{i}]"), errs, depth + 1);
            }
        }
    }

    /// A value of this schema with the overlay's values in it. `nulls`: every nullable
    /// property the overlay does not set is `null`.
    pub fn build(&self, schema: &Value, overlay: Option<&Value>, nulls: bool, depth: u32) -> Value {
        // Entity graphs (Graph's user reaches its drive, manager, groups …) are finite but
        // vast: past this many generated values, only what the overlay sets is filled in.
        let mut budget = 4_000usize;
        self.build_in(schema, overlay, nulls, depth, &mut budget)
    }

    fn build_in(
        &self,
        schema: &Value,
        overlay: Option<&Value>,
        nulls: bool,
        depth: u32,
        budget: &mut usize,
    ) -> Value {
        *budget = budget.saturating_sub(1);
        let s = self.flat(schema);
        let s = match s.get("oneOf").or(s.get("anyOf")).and_then(Value::as_array) {
            Some(choices) if s.get("properties").is_none() => self.flat(&choices[0]),
            _ => s,
        };
        let nullable = s["nullable"] == true
            || s["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "null"));
        if overlay.is_none() && nulls && nullable {
            return Value::Null;
        }
        let ty = s["type"]
            .as_str()
            .unwrap_or(if s.get("properties").is_some() {
                "object"
            } else {
                "any"
            });
        match (ty, overlay) {
            ("object", o) => {
                let props = s["properties"].as_object().cloned().unwrap_or_default();
                if props.is_empty() {
                    return o.cloned().unwrap_or_else(|| json!({}));
                }
                let o = o.map(|o| {
                    o.as_object()
                        .unwrap_or_else(|| panic!("overlay {o} for an object"))
                });
                if let Some(o) = o {
                    for k in o.keys() {
                        assert!(
                            props.contains_key(k),
                            "{}: the overlay sets `{k}`, which the schema does not define (it has {:?})",
                            self.name,
                            props.keys().collect::<Vec<_>>()
                        );
                    }
                }
                let mut out = Map::new();
                for (k, p) in &props {
                    let pv = self.flat(p);
                    if pv["writeOnly"] == true {
                        continue;
                    }
                    let sub = o.and_then(|o| o.get(k));
                    if (sub.is_none() && (depth > 5 || *budget == 0))
                        || sub.is_some_and(|v| v == ABSENT)
                    {
                        continue;
                    }
                    out.insert(k.clone(), self.build_in(p, sub, nulls, depth + 1, budget));
                }
                Value::Object(out)
            }
            ("array", Some(Value::Array(items))) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.build_in(
                            &s["items"],
                            Some(item),
                            nulls || i % 2 == 1,
                            depth + 1,
                            budget,
                        )
                    })
                    .collect(),
            ),
            ("array", None) if depth > 5 => json!([]),
            ("array", None) if *budget == 0 => json!([]),
            ("array", None) => json!([self.build_in(&s["items"], None, nulls, depth + 1, budget)]),
            (_, Some(o)) => o.clone(),
            ("string", None) => {
                if let Some(first) = s["enum"].as_array().and_then(|e| e.first()) {
                    return first.clone();
                }
                json!(match s["format"].as_str() {
                    Some("date-time") => "2026-11-30T12:00:00.000Z",
                    Some("date") => "2026-11-30",
                    Some("uuid") => "6f1c3a52-7d4e-4b8a-9c21-0e5d2f7a8b90",
                    Some("ipv4") => "192.0.2.1",
                    Some("ipv6") => "2001:db8::1",
                    Some("uri") => "https://example.com/x",
                    Some("email") => "someone@example.com",
                    Some("int64" | "uint64" | "int32") => "1",
                    _ => "x",
                })
            }
            ("integer" | "number", None) => json!(1),
            ("boolean", None) => json!(false),
            // Discovery's "any": the artifact promises nothing about its shape.
            (_, None) => json!("x"),
        }
    }

    /// The response body of `op` for `status`, from its schema and the overlay; `nulls`:
    /// every nullable property the overlay does not set is `null`.
    pub fn response(
        &self,
        op: &Op,
        status: u16,
        overlay: Option<&Value>,
        nulls: bool,
    ) -> Option<Value> {
        if self.kind == Kind::Discovery {
            // Discovery documents name one response schema and no statuses; Google answers
            // 204 where a method has no response.
            return match (&op.responses[0].1, status) {
                (Some(schema), 200) => Some(self.build(schema, overlay, nulls, 0)),
                _ => None,
            };
        }
        let schema = op
            .responses
            .iter()
            .find(|(code, _)| code == &status.to_string())
            .or_else(|| {
                op.responses.iter().find(|(code, _)| {
                    code.ends_with("XX") && code.starts_with(&status.to_string()[..1])
                })
            })
            .or_else(|| op.responses.iter().find(|(code, _)| code == "default"))
            .unwrap_or_else(|| {
                panic!(
                    "{}: status {status} is not documented for {} (it has {:?})",
                    self.name,
                    op.id,
                    op.responses.iter().map(|r| &r.0).collect::<Vec<_>>()
                )
            });
        schema.1.as_ref().map(|s| self.build(s, overlay, nulls, 0))
    }
}

fn json_schema(content: &Value) -> Option<Value> {
    let content = content.as_object()?;
    content
        .iter()
        .find(|(mt, _)| mt.starts_with("application/json") || mt.ends_with("+json"))
        .and_then(|(_, c)| c.get("schema").cloned())
}

fn url_path(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p))
        .to_owned()
}

/// What a test answers to one request of an operation.
pub struct Reply {
    pub status: u16,
    pub overlay: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn ok(overlay: Value) -> Self {
        Self {
            status: 200,
            overlay: Some(overlay),
            headers: Vec::new(),
        }
    }
    pub fn status(status: u16) -> Self {
        Self {
            status,
            overlay: None,
            headers: Vec::new(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Script = dyn Fn(&Op, &Request) -> Option<Reply> + Send + Sync;

/// The mock: every request is checked against the artifact and answered from it.
#[derive(Clone)]
pub struct ArtifactMock {
    pub artifact: Arc<Artifact>,
    script: Arc<Script>,
    pub violations: Arc<Mutex<Vec<String>>>,
    pub calls: Arc<Mutex<Vec<(String, String)>>>,
}

impl ArtifactMock {
    pub fn new(
        artifact: Arc<Artifact>,
        script: impl Fn(&Op, &Request) -> Option<Reply> + Send + Sync + 'static,
    ) -> Self {
        Self {
            artifact,
            script: Arc::new(script),
            violations: Arc::default(),
            calls: Arc::default(),
        }
    }

    /// Mounts the mock for every request not matched by a more specific mock.
    pub async fn mount(&self, server: &wiremock::MockServer) {
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(self.clone())
            .with_priority(50)
            .mount(server)
            .await;
    }

    /// Panics unless every one of these operations was called.
    pub fn assert_called(&self, ids: &[&str]) {
        let called = self.called();
        for id in ids {
            assert!(
                called.iter().any(|c| c == id),
                "{id} was not called: {called:?}"
            );
        }
    }

    /// The operations called, in order.
    pub fn called(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.0.clone())
            .collect()
    }

    /// Panics with every request that did not fit the artifact.
    pub fn assert_clean(&self) {
        let v = self.violations.lock().unwrap();
        assert!(
            v.is_empty(),
            "requests the vendor's artifact does not define:\n{}",
            v.join("\n")
        );
    }

    /// Every operation called is allowed by the scopes granted.
    pub fn assert_scopes(&self, granted: &[String]) {
        let has = |s: &String| granted.iter().any(|g| g == s);
        for id in self.called() {
            let op = self.artifact.op(&id);
            if op.scopes.is_empty() {
                continue;
            }
            let ok = match self.artifact.kind {
                Kind::OpenApi => op.scopes.iter().all(has),
                Kind::Discovery => op.scopes.iter().any(has),
            };
            assert!(
                ok,
                "{} needs the scopes {:?} ({}), but the token was asked for {granted:?}",
                op.id,
                op.scopes,
                if self.artifact.kind == Kind::OpenApi {
                    "all"
                } else {
                    "one"
                }
            );
        }
    }
}

impl Respond for ArtifactMock {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let op = match self.artifact.check(req) {
            Ok(op) => op.clone(),
            Err(why) => {
                self.violations.lock().unwrap().push(why.clone());
                return ResponseTemplate::new(599).set_body_string(why);
            }
        };
        self.calls
            .lock()
            .unwrap()
            .push((op.id.clone(), req.url.to_string()));
        let reply = (self.script)(&op, req).unwrap_or_else(|| Reply {
            status: op
                .responses
                .iter()
                .filter_map(|(c, _)| c.parse::<u16>().ok())
                .find(|c| (200..300).contains(c))
                .unwrap_or(200),
            overlay: None,
            headers: Vec::new(),
        });
        let body = if reply.status == 204 {
            None
        } else {
            // Every second answer of an operation has its nullable properties null (lists
            // have them null in every second row besides). Where the artifact does not
            // describe the answer, the test's own JSON is sent.
            let nth = {
                let calls = self.calls.lock().unwrap();
                calls.iter().filter(|c| c.0 == op.id).count()
            };
            self.artifact
                .response(&op, reply.status, reply.overlay.as_ref(), nth % 2 == 0)
                .or_else(|| reply.overlay.clone())
        };
        let mut t = ResponseTemplate::new(reply.status);
        if let Some(b) = body {
            t = t.set_body_json(b);
        }
        for (k, v) in &reply.headers {
            t = t.append_header(k.as_str(), v.as_str());
        }
        t
    }
}

/// The OAuth scopes a token request asked for (form `scope`, or the `scope` claim of a
/// JWT `assertion`), split on spaces.
pub fn requested_scopes(req: &Request) -> Vec<String> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    if let Some(s) = form.get("scope") {
        return s.split_whitespace().map(str::to_owned).collect();
    }
    if let Some(a) = form.get("assertion") {
        use base64::Engine;
        let claims = a
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or_default();
        return claims["scope"]
            .as_str()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
    }
    Vec::new()
}
