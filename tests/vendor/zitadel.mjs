// Zitadel's HTTP API, as far as Vigil uses it, as one OpenAPI-shaped document built from
// Zitadel's own protobuf descriptors (npm @zitadel/proto): each service method's
// `google.api.http` rule gives the method, path and body, the file's openapiv2 options
// the base path, and the request and response messages, read by reflection
// (@bufbuild/protobuf), give the schemas in proto3's JSON mapping.
//
//   node zitadel.mjs NODE_MODULES OUT.json
//
// Operations are named `Service.Method`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, out] = process.argv.slice(2);
// The ES modules of the packages in NODE_MODULES (both are "type": "module").
const load = (path) => import(pathToFileURL(join(modules, path)).href);
const { getOption, hasOption, ScalarType } = await load("@bufbuild/protobuf/dist/esm/index.js");
const proto = (p) => load(`@zitadel/proto/es/${p}`);
const { http } = await proto("google/api/annotations_pb.js");
const { openapiv2_swagger } = await proto("protoc-gen-openapiv2/options/annotations_pb.js");

const FILES = [
  ["zitadel/session/v2/session_service_pb.js", "file_zitadel_session_v2_session_service"],
  ["zitadel/user/v2/user_service_pb.js", "file_zitadel_user_v2_user_service"],
  ["zitadel/admin_pb.js", "file_zitadel_admin"],
  ["zitadel/management_pb.js", "file_zitadel_management"],
];

const schemas = {};
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
// proto3 JSON: 64-bit integers are strings, well-known types have their own forms.
const WELL_KNOWN = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string" },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Any": { type: "object" },
  "google.protobuf.Empty": { type: "object", properties: {} },
  "google.protobuf.BoolValue": { type: "boolean" },
  "google.protobuf.StringValue": { type: "string" },
  "google.protobuf.Int32Value": { type: "integer" },
  "google.protobuf.UInt32Value": { type: "integer" },
  "google.protobuf.Int64Value": { type: "string" },
  "google.protobuf.UInt64Value": { type: "string" },
};

function scalar(s) {
  switch (s) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      // Either form is accepted on input; the JSON mapping writes a string.
      return { type: "string", format: "int64" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    default:
      return { type: "integer" };
  }
}

function enumSchema(e) {
  schemas[e.typeName] ??= { type: "string", enum: e.values.map((v) => v.name) };
  return ref(e.typeName);
}

function message(m) {
  if (WELL_KNOWN[m.typeName]) return WELL_KNOWN[m.typeName];
  if (!schemas[m.typeName]) {
    schemas[m.typeName] = { type: "object", properties: {} };
    const props = {};
    for (const f of m.fields) {
      let s;
      if (f.fieldKind === "map") {
        const value =
          f.mapKind === "message" ? message(f.message) : f.mapKind === "enum" ? enumSchema(f.enum) : scalar(f.scalar);
        s = { type: "object", additionalProperties: value };
      } else {
        const one =
          f.message ? message(f.message) : f.enum ? enumSchema(f.enum) : scalar(f.scalar);
        s = f.fieldKind === "list" ? { type: "array", items: one } : one;
      }
      props[f.jsonName] = s;
    }
    schemas[m.typeName].properties = props;
  }
  return ref(m.typeName);
}

const paths = {};
for (const [mod, fileName] of FILES) {
  const file = (await proto(mod))[fileName];
  const base = hasOption(file, openapiv2_swagger) ? getOption(file, openapiv2_swagger).basePath || "/" : "/";
  for (const svc of file.services) {
    for (const m of svc.methods) {
      if (!hasOption(m, http)) continue;
      const rule = getOption(m, http);
      const method = rule.pattern.case;
      if (!["get", "put", "post", "delete", "patch"].includes(method)) continue;
      const template = (base.replace(/\/$/, "") + rule.pattern.value).replace(/\{([\w.]+)(=[^}]*)?\}/g, "{$1}");
      const inPath = new Set([...template.matchAll(/\{([\w.]+)\}/g)].map((x) => x[1]));
      const fields = m.input.fields.filter((f) => !inPath.has(f.name) && !inPath.has(f.jsonName));
      const op = {
        operationId: `${svc.name}.${m.name}`,
        parameters: [],
        responses: { 200: { description: "ok", content: { "application/json": { schema: message(m.output) } } } },
      };
      if (rule.body === "*") {
        message(m.input);
        // The body is the request message without the fields bound to the path.
        const all = schemas[m.input.typeName].properties;
        const body = Object.fromEntries(fields.map((f) => [f.jsonName, all[f.jsonName]]));
        op.requestBody = { content: { "application/json": { schema: { type: "object", properties: body } } } };
      } else if (!rule.body) {
        // Without a body, the remaining scalar fields are query parameters.
        op.parameters = fields.map((f) => ({ name: f.jsonName, in: "query", schema: {} }));
      }
      paths[template] ??= {};
      paths[template][method] = op;
    }
  }
}

writeFileSync(
  out,
  JSON.stringify({
    openapi: "3.0.3",
    info: { title: "Zitadel (from @zitadel/proto)", version: "generated" },
    paths,
    components: { schemas },
  }),
);
console.error(`${Object.keys(paths).length} paths, ${Object.keys(schemas).length} schemas`);
