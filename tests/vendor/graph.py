"""Microsoft Graph as one OpenAPI 3 document, built from two of Microsoft's own artifacts.

Microsoft publishes no Graph OpenAPI document in a package registry. Its generated SDKs
carry the same facts:

- PyPI `msgraph-sdk`: every request builder holds its URL template (path and query
  parameters), the HTTP methods it sends, its request body type and its answer type;
- npm `@microsoft/microsoft-graph-types`: every entity as a TypeScript interface, with
  the properties Graph may send as `null` typed `NullableOption<T>`.

    python3 graph.py MSGRAPH_SDK_WHEEL MICROSOFT_GRAPH_D_TS OUT.json

Operations are named `METHOD /path` (the SDK has no operation ids). Standard library only.
"""

import json
import re
import sys
import zipfile

wheel, dts, out = sys.argv[1:4]

# ------------------------------------------------------------------ the entity types ---
text = open(dts, encoding="utf-8").read()
schemas = {}

for m in re.finditer(r"^export type (\w+) =((?:\s*\|?\s*\"[^\"]*\")+);", text, re.M):
    schemas[m.group(1)] = {"type": "string", "enum": re.findall(r"\"([^\"]*)\"", m.group(2))}


def type_schema(t):
    t = t.strip()
    nullable = False
    m = re.fullmatch(r"NullableOption<(.+)>", t)
    if m:
        t, nullable = m.group(1).strip(), True
    if t.endswith("[]"):
        s = {"type": "array", "items": type_schema(t[:-2])}
    elif t in ("string", "number", "boolean"):
        s = {"type": {"number": "number"}.get(t, t)}
    elif re.fullmatch(r"\w+", t) and t not in ("any", "unknown", "object"):
        s = {"$ref": f"#/components/schemas/{t}"}
    else:
        s = {}
    if nullable:
        s = {"allOf": [s], "nullable": True} if "$ref" in s else {**s, "nullable": True}
    return s


for m in re.finditer(r"^export interface (\w+)(?: extends (\w+))? \{(\}|\n.*?^\})", text, re.M | re.S):
    name, base, body = m.groups()
    props = {}
    for p in re.finditer(r"^    (\"[^\"]+\"|\w+)\??: (.+);$", body, re.M):
        props[p.group(1).strip('"')] = type_schema(p.group(2))
    own = {"type": "object", "properties": props}
    schemas[name] = {"allOf": [{"$ref": f"#/components/schemas/{base}"}, own]} if base else own

missing = {r.rsplit("/", 1)[1] for r in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schemas))} - set(schemas)
if missing:
    sys.exit(f"error: types referenced but not parsed from {dts}: {sorted(missing)[:10]}")

# Every entity may carry its OData type.
if "Entity" in schemas:
    schemas["Entity"]["properties"]["@odata.type"] = {"type": "string"}

# ------------------------------------------------------------------- the operations ---
PRIMITIVE = {"get_bool_value": "boolean", "get_str_value": "string", "get_int_value": "integer",
             "get_float_value": "number", "get_datetime_value": "string"}
paths = {}
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    by_base = {}
    for n in names:
        by_base.setdefault(n.rsplit("/", 1)[-1], []).append(n)

    def model_schema(type_name, module_hint):
        """An answer type: a known entity, a collection of one, or a small generated
        model (`…PostResponse`) read from its field deserializers."""
        if type_name in schemas:
            return {"$ref": f"#/components/schemas/{type_name}"}
        if type_name.endswith("CollectionResponse"):
            item = type_name[: -len("CollectionResponse")]
            return {"type": "object", "properties": {
                "@odata.context": {"type": "string"},
                "@odata.nextLink": {"type": "string", "nullable": True},
                "@odata.count": {"type": "integer", "nullable": True},
                "value": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            }}
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", type_name).lower() + ".py"
        candidates = [n for n in by_base.get(snake, ()) if n.startswith(module_hint)]
        if not candidates:
            return {}
        src = z.read(candidates[0]).decode()
        props = {f: {"type": PRIMITIVE[g], "nullable": True}
                 for f, g in re.findall(r"\"([^\"]+)\": lambda n : setattr\(self, '\w+', n\.(get_\w+_value)\(\)\)", src)
                 if g in PRIMITIVE}
        return {"type": "object", "properties": props}

    for name in sorted(names):
        if not name.endswith("_request_builder.py") or not name.startswith("msgraph/generated/"):
            continue
        src = z.read(name).decode()
        m = re.search(r"super\(\).__init__\(request_adapter, \"\{\+baseurl\}([^\"]+)\"", src)
        if not m:
            continue
        template = m.group(1)
        path, _, query = template.partition("{?")
        path = path.replace("%2D", "-")
        query_names = [q.replace("%24", "$") for q in query.rstrip("}").split(",") if q]
        item = {}
        folder = name.rsplit("/", 1)[0]
        for method, args, answer in re.findall(
                r"async def (get|post|patch|put|delete)\(self,(.*?)\) -> (Optional\[\w+\]|None|bytes|Optional\[bytes\]):", src):
            op = {
                "operationId": f"{method.upper()} {path}",
                "parameters": [{"name": q, "in": "query", "schema": {"type": "string"}} for q in query_names],
                "responses": {},
            }
            body = re.match(r"body: (\w+)", args)
            if body:
                op["requestBody"] = {"content": {"application/json": {
                    "schema": model_schema(body.group(1), folder)}}}
            t = re.fullmatch(r"Optional\[(\w+)\]", answer)
            if t and t.group(1) != "bytes":
                op["responses"]["2XX"] = {"description": "success", "content": {
                    "application/json": {"schema": model_schema(t.group(1), folder)}}}
            else:
                op["responses"]["2XX"] = {"description": "success"}
            item[method] = op
        if item:
            paths[path] = item

doc = {
    "openapi": "3.0.3",
    "info": {"title": "Microsoft Graph v1.0, from msgraph-sdk and microsoft-graph-types",
             "version": "generated"},
    "servers": [{"url": "https://graph.microsoft.com/v1.0"}],
    "paths": paths,
    "components": {"schemas": schemas},
}
with open(out, "w", encoding="utf-8") as f:
    json.dump(doc, f)
print(f"{len(paths)} paths, {len(schemas)} schemas", file=sys.stderr)
