import { describe, expect, it } from "vitest";
import { ALERTS_FILE, makeRoute } from "../../test/fixtures";
import {
  describeScope,
  describeTarget,
  draftOf,
  newRoute,
  routeOf,
  secretLabel,
  validateRoute,
} from "./routes";
import { emptyExclusion, tuningDraftOf, tuningOf, validateTuning } from "./tuning";

describe("the route form's model", () => {
  it("starts a new route from the back end's defaults", () => {
    expect(newRoute()).toEqual(makeRoute(""));
  });

  it("gives back the same route when nothing was changed", () => {
    for (const r of [
      ...ALERTS_FILE.routes,
      makeRoute("mail", {
        kind: "email",
        smtp_host: "smtp.example.org",
        smtp_port: 587,
        from: "vigil@example.org",
        to: ["a@example.org", "b@example.org"],
        username: "vigil",
        ca_certificate: "/etc/ca.pem",
      }),
      makeRoute("siem", { kind: "syslog", host: "siem", port: 6514, transport: "tls" }),
    ]) {
      expect(routeOf(draftOf(r), r)).toEqual(r);
    }
  });

  it("empties the fields the chosen kind does not use", () => {
    const r = makeRoute("x", { url: "https://a.example/", ca_certificate: "/ca.pem" });
    const d = { ...draftOf(r), kind: "syslog" as const, host: " siem ", port: "" };
    const out = routeOf(d, r);
    expect(out.url).toBeNull();
    expect(out.host).toBe("siem");
    expect(out.port).toBeNull();
    expect(out.ca_certificate).toBe("/ca.pem");
    // Slack keeps no URL in the file; a CA the file has stays (the form does not show it).
    const slack = routeOf({ ...draftOf(r), kind: "slack" }, r);
    expect(slack.url).toBeNull();
    expect(slack.ca_certificate).toBe("/ca.pem");
  });

  it("finds what the back end would refuse anyway", () => {
    const d = draftOf(makeRoute("x", { kind: "email" }));
    expect(Object.keys(validateRoute({ ...d, name: " " }, [])).sort()).toEqual([
      "from",
      "name",
      "smtp_host",
      "to",
    ]);
    expect(validateRoute({ ...d, smtp_port: "70000" }, []).smtp_port).toBeDefined();
    expect(validateRoute({ ...d, max_per_minute: "601" }, []).max_per_minute).toBeDefined();
    expect(validateRoute(d, ["x"]).name).toBe("Another route has this name.");
  });

  it("labels the secret by kind and describes the route", () => {
    expect(secretLabel("webhook")).toBe("Signing key (optional)");
    expect(secretLabel("slack")).toBe("Incoming webhook URL");
    expect(secretLabel("teams")).toBe("Incoming webhook URL");
    expect(secretLabel("email")).toBe("SMTP password");
    expect(secretLabel("syslog")).toBeNull();
    expect(describeScope({ tenants: [], tags: [] })).toBe("every tenant");
    expect(describeScope({ tenants: ["a", "b"], tags: ["eu"] })).toBe("tenants a, b · tags eu");
    expect(
      describeTarget(
        makeRoute("s", { kind: "syslog", host: "siem", port: 6514, transport: "tls" }),
      ),
    ).toBe("siem:6514 (TLS, CEF, local0)");
  });
});

describe("the tuning form's model", () => {
  it("gives back the same tuning when nothing was changed", () => {
    const { routes: _, ...tuning } = ALERTS_FILE;
    const d = tuningDraftOf(ALERTS_FILE);
    expect(validateTuning(d)).toEqual({});
    expect(tuningOf(d)).toEqual(tuning);
  });

  it("checks merge windows, networks, reasons and days", () => {
    const d = tuningDraftOf(ALERTS_FILE);
    const x = { ...emptyExclusion(), until: "2026-13-01" };
    const scope = { key: 999, tenants: "", tags: "", off: [], merge_minutes: "1441" };
    const errors = validateTuning({
      ...d,
      merge_minutes: "-1",
      networks: [{ key: 998, name: "n", cidrs: " , ", tenants: "", tags: "" }],
      exclusions: [x],
      scopes: [scope],
    });
    expect(Object.keys(errors).sort()).toEqual(
      [
        "merge_minutes",
        "networks.998.cidrs",
        `exclusions.${x.key}.reason`,
        `exclusions.${x.key}.until`,
        `exclusions.${x.key}.user`,
        "scopes.999.merge_minutes",
      ].sort(),
    );
    // An RFC 3339 time, as the file may have it, is left to the back end.
    const ok = { ...x, user: "bob", reason: "r", until: "2026-01-31T12:00:00Z" };
    expect(validateTuning({ ...d, exclusions: [ok] })).toEqual({});
    expect(validateTuning({ ...d, exclusions: [{ ...ok, until: "2024-02-29" }] })).toEqual({});
    expect(
      Object.keys(validateTuning({ ...d, exclusions: [{ ...ok, until: "2025-02-29" }] })),
    ).toEqual([`exclusions.${x.key}.until`]);
  });
});
