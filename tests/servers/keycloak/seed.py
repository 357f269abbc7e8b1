"""Seed the Keycloak started by start.sh: a realm, users, clients and sessions.

Reads KEYCLOAK_URL, KEYCLOAK_ADMIN_PASSWORD (the bootstrap admin of the master realm)
and WORKDIR from the environment; writes WORKDIR/fixture.json and WORKDIR/seed.env.
Only the standard library: it runs with the machine's python3.
"""

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

URL = os.environ["KEYCLOAK_URL"]
ADMIN_PASSWORD = os.environ["KEYCLOAK_ADMIN_PASSWORD"]
WORKDIR = os.environ["WORKDIR"]
REALM = "vigil-test"
T0 = time.monotonic()

# The roles the README tells administrators to grant Vigil's service account.
README_ROLES = ["view-users", "manage-users", "view-realm", "view-clients"]
# What the README said before: the poll fails with these, and Test connection must say so.
WEAK_ROLES = ["view-users", "manage-users"]

# Sign-ins: (client, offline?, X-Forwarded-For). "app" and "batch" are public clients
# with direct access grants; "batch" only ever signs in offline, so it has offline
# sessions and no online ones.
USERS = [
    {"username": "ops", "first": "Øps", "last": "Tëam", "realm_admin": True,
     "signins": [("app", False, "192.0.2.55")]},
    {"username": "alice", "first": "Ålice", "last": "Liddell",
     "signins": [("app", False, "203.0.113.10"), ("app", True, "2001:db8::42")]},
    {"username": "bob", "first": "Bob", "last": "Builder",
     "signins": [("app", False, "198.51.100.7")]},
    {"username": "carol", "first": "Carol", "last": "Dänvers",
     "signins": [("app", False, "203.0.113.25"), ("app", False, "198.51.100.200"),
                 ("batch", True, "2001:db8:85a3::8a2e:370:7334")]},
    {"username": "mallory", "first": "Mallory", "last": "Mallet",
     "signins": [("app", False, "198.51.100.66")]},
    {"username": "lilei", "first": "李", "last": "雷",
     "signins": [("batch", True, "192.0.2.99")]},
    {"username": "dave", "first": "Dave", "last": "Nosession", "signins": []},
    # A realm admin through a group, not a direct role mapping.
    {"username": "grace", "first": "Grace", "last": "Höpper", "admin_group": True,
     "signins": [("app", False, "192.0.2.77")]},
]


def step(msg):
    print(f"[keycloak] {msg} (+{time.monotonic() - T0:.1f} s)", file=sys.stderr)


def call(method, path, body=None, token=None, form=None, headers=None, ok=(200, 201, 204)):
    h = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(URL + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        text = e.read()
        status = e.code
    if status not in ok:
        sys.exit(f"error: {method} {path} -> {status} {text[:300]!r}")
    return json.loads(text) if text else None


master = call("POST", "/realms/master/protocol/openid-connect/token", form={
    "grant_type": "password", "client_id": "admin-cli",
    "username": "admin", "password": ADMIN_PASSWORD})["access_token"]


def admin(method, path, body=None):
    return call(method, f"/admin/realms/{REALM}{path}", body, token=master)


# sslRequired none: sign-ins come "from" documentation addresses via X-Forwarded-For, and
# Keycloak would otherwise demand HTTPS of every address that is not private.
call("POST", "/admin/realms", {"realm": REALM, "enabled": True, "sslRequired": "none"},
     token=master)
step(f"realm {REALM} created")

for client in ("app", "batch"):
    admin("POST", "/clients", {"clientId": client, "publicClient": True,
                               "directAccessGrantsEnabled": True,
                               "standardFlowEnabled": False})
rm = admin("GET", "/clients?clientId=realm-management")[0]["id"]
rm_roles = {r["name"]: r for r in admin("GET", f"/clients/{rm}/roles")}


def service_client(client_id, roles):
    secret = secrets.token_urlsafe(24)
    admin("POST", "/clients", {"clientId": client_id, "publicClient": False, "secret": secret,
                               "serviceAccountsEnabled": True, "standardFlowEnabled": False,
                               "directAccessGrantsEnabled": False})
    uuid = admin("GET", f"/clients?clientId={client_id}")[0]["id"]
    account = admin("GET", f"/clients/{uuid}/service-account-user")
    admin("POST", f"/users/{account['id']}/role-mappings/clients/{rm}",
          [rm_roles[r] for r in roles])
    return secret


vigil_secret = service_client("vigil", README_ROLES)
weak_secret = service_client("vigil-weak", WEAK_ROLES)
step("clients created")

for u in USERS:
    u["password"] = f"vigil-test-{u['username']}-pw"
    admin("POST", "/users", {
        "username": u["username"], "enabled": True, "firstName": u["first"],
        "lastName": u["last"], "email": f"{u['username']}@example.org", "emailVerified": True,
        "credentials": [{"type": "password", "value": u["password"], "temporary": False}]})
    u["id"] = admin("GET", f"/users?username={u['username']}&exact=true")[0]["id"]
    if u.get("realm_admin"):
        admin("POST", f"/users/{u['id']}/role-mappings/clients/{rm}", [rm_roles["realm-admin"]])
    if u.get("admin_group"):
        group = admin("GET", "/groups?search=security-admins&exact=true")
        if not group:
            admin("POST", "/groups", {"name": "security-admins"})
            group = admin("GET", "/groups?search=security-admins&exact=true")
        gid = group[0]["id"]
        admin("POST", f"/groups/{gid}/role-mappings/clients/{rm}", [rm_roles["realm-admin"]])
        admin("PUT", f"/users/{u['id']}/groups/{gid}")
step(f"{len(USERS)} users created")


def sign_in(u, client, offline, ip):
    form = {"grant_type": "password", "client_id": client,
            "username": u["username"], "password": u["password"]}
    if offline:
        form["scope"] = "openid offline_access"
    r = call("POST", f"/realms/{REALM}/protocol/openid-connect/token", form=form,
             headers={"X-Forwarded-For": ip, "User-Agent": "vigil-seed"})
    return {"id": r["session_state"], "client": client, "offline": offline, "ip": ip,
            "refresh_token": r["refresh_token"]}


for u in USERS:
    u["sessions"] = [sign_in(u, *s) for s in u.pop("signins")]
total = sum(len(u["sessions"]) for u in USERS)
step(f"{total} sign-ins")

# Every session is listed by the admin API the way the tests will expect.
clients = {c["clientId"]: c["id"] for c in admin("GET", "/clients?first=0&max=100")}
listed = set()
for name in ("app", "batch"):
    for kind, offline in (("user-sessions", False), ("offline-sessions", True)):
        for s in admin("GET", f"/clients/{clients[name]}/{kind}?first=0&max=100"):
            listed.add((s["id"], offline))
expected = {(s["id"], s["offline"]) for u in USERS for s in u["sessions"]}
if listed != expected:
    sys.exit(f"error: sessions listed {sorted(listed)} != signed in {sorted(expected)}")

fixture = {
    "url": URL,
    "realm": REALM,
    "client_id": "vigil",
    "readme_roles": README_ROLES,
    "weak_client_id": "vigil-weak",
    "weak_roles": WEAK_ROLES,
    "expected_sessions": total,
    "users": [{k: u[k] for k in ("id", "username", "first", "last", "password", "sessions")}
              | {"realm_admin": bool(u.get("realm_admin") or u.get("admin_group"))} for u in USERS],
}
with open(os.path.join(WORKDIR, "fixture.json"), "w") as f:
    json.dump(fixture, f, indent=2, ensure_ascii=False)
    f.write("\n")
with open(os.path.join(WORKDIR, "seed.env"), "w") as f:
    f.write(f"KEYCLOAK_REALM={REALM}\nKEYCLOAK_CLIENT_ID=vigil\n"
            f"KEYCLOAK_CLIENT_SECRET={vigil_secret}\n"
            f"KEYCLOAK_WEAK_CLIENT_ID=vigil-weak\nKEYCLOAK_WEAK_CLIENT_SECRET={weak_secret}\n"
            f"KEYCLOAK_EXPECTED_SESSIONS={total}\n")
step("fixture written")
