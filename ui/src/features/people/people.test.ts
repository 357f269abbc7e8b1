import { describe, expect, it } from "vitest";
import type { ContainItem } from "../../ipc/bindings/ContainItem";
import type { UserRow } from "../../ipc/bindings/UserRow";
import { groupByPerson, personKeyOf, personQueryOf, summarizeContain } from "./people";

function row(tenant: string, username: string, email: string | null = null): UserRow {
  return {
    tenant,
    user_id: `${tenant}-${username}`,
    username,
    email,
    display_name: null,
    department: null,
    organisation: null,
    superuser: false,
    protected: false,
    disabled: false,
    current: false,
    sessions: 1,
    ips: 1,
    last_login: null,
    last_ip: null,
    last_activity_at: null,
  };
}

function item(state: ContainItem["outcome"]): ContainItem {
  return {
    tenant: "demo",
    user_id: "u1",
    username: "alice",
    step: "logout",
    outcome: state,
    effect: "",
    audit_id: null,
  };
}

describe("person keys", () => {
  it("takes the address, else a user name that is one, else the user name", () => {
    expect(personKeyOf(row("a", "alice", " Alice@Example.ORG "))).toBe("alice@example.org");
    expect(personKeyOf(row("a", "Bob@Example.org"))).toBe("bob@example.org");
    expect(personKeyOf(row("a", " Carol "))).toBe("carol");
    // Not an address: the user name decides.
    expect(personKeyOf(row("a", "dave", "n/a"))).toBe("dave");
    expect(personQueryOf(row("a", "alice", " Alice@Example.ORG "))).toBe("Alice@Example.ORG");
    expect(personQueryOf(row("a", "alice", ""))).toBe("alice");
  });

  it("groups rows in order of their first row and lists each tenant once", () => {
    const groups = groupByPerson([
      row("demo", "alice", "alice@example.org"),
      row("demo", "bob"),
      row("prod", "a.ex", "ALICE@example.org"),
      row("prod", "Bob"),
      row("prod", "alice2", "alice@example.org"),
    ]);
    expect(groups.map((g) => [g.key, g.tenants, g.rows.map((r) => r.index)])).toEqual([
      ["alice@example.org", ["demo", "prod"], [0, 2, 4]],
      ["bob", ["demo", "prod"], [1, 3]],
    ]);
  });
});

describe("contain summary", () => {
  const report = (items: ContainItem[], unchecked: string[] = []) => ({
    person: "alice",
    action_id: "A1",
    items,
    unchecked_tenants: unchecked,
  });

  it("is all confirmed only when nothing is open and every tenant was checked", () => {
    expect(summarizeContain(report([item({ state: "confirmed" })]))).toEqual({
      tone: "success",
      title: "Contained: all confirmed",
    });
    // Accepted where nothing can observe it: done, and said as such.
    expect(
      summarizeContain(report([item({ state: "confirmed" }), item({ state: "accepted" })])),
    ).toEqual({
      tone: "success",
      title: "Contained: done (1 item confirmed, 1 item accepted by the tenant)",
    });
    expect(
      summarizeContain(
        report([
          item({ state: "confirmed" }),
          item({ state: "not_confirmed", reason: "still listed" }),
          item({ state: "not_confirmed", reason: "still listed" }),
          item({ state: "refused", reason: "protected" }),
        ]),
      ),
    ).toEqual({ tone: "warning", title: "Contained: 2 items not confirmed" });
    expect(
      summarizeContain(
        report(
          [
            item({ state: "confirmed" }),
            item({ state: "failed", error: { code: "forbidden", message: "no" } }),
          ],
          ["okta"],
        ),
      ),
    ).toEqual({ tone: "error", title: "Contained: 1 item failed, 1 tenant not checked" });
    expect(summarizeContain(report([item({ state: "not_offered", reason: "no API" })]))).toEqual({
      tone: "error",
      title: "Nothing was sent: no step could be taken",
    });
  });
});
