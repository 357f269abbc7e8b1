import { describe, expect, it } from "vitest";
import type { ActionReport } from "../ipc/bindings/ActionReport";
import {
  logoutEffects,
  planForUsers,
  type SelectedUser,
  summarizePlan,
  userRefs,
} from "./userActions";

const user = (tenant: string, name: string, prot = false): SelectedUser => ({
  tenant,
  user_id: `id-${name}`,
  username: name,
  protected: prot,
  sessions: 1,
});

const EFFECTS = new Map([
  [
    "okta-prod",
    "ends the user's Okta sessions; remembered MFA devices are kept (forgetDevices=false)",
  ],
  ["kc", "ends every online and offline session of the user"],
]);

describe("the confirmation says what a force logout does in each tenant", () => {
  it("names each tenant of the selection once, with its kind's effect", () => {
    const users = [user("okta-prod", "ada"), user("okta-prod", "bob"), user("kc", "carol")];
    const plan = planForUsers("logout", users, EFFECTS);
    expect(plan.detail).toContain(
      "Tenant okta-prod: force logout ends the user's Okta sessions; remembered MFA devices are kept (forgetDevices=false).",
    );
    expect(plan.detail).toContain("Tenant kc: force logout ends every online and offline session");
    expect(plan.detail.match(/Tenant okta-prod/g)).toHaveLength(1);
  });

  it("is said for disable and contain too, and not for re-enable", () => {
    const users = [user("okta-prod", "ada")];
    expect(planForUsers("disable", users, EFFECTS).detail).toContain("forgetDevices=false");
    expect(planForUsers("contain", users, EFFECTS).detail).toContain("forgetDevices=false");
    expect(planForUsers("enable", users, EFFECTS).detail).not.toContain("force logout");
  });

  it("leaves out tenants it knows nothing of, and escapes tenant names", () => {
    expect(logoutEffects([user("unknown", "x")], EFFECTS)).toBe("");
    const hostile = new Map([["evil\u202e", "ends every session"]]);
    expect(logoutEffects([user("evil\u202e", "x")], hostile)).not.toContain("\u202e");
  });
});

describe("protected accounts in End & Disable and Contain", () => {
  const root = { ...user("demo", "root", true), sessions: 3 };
  const admin = { ...user("demo", "admin", true), sessions: 2 };
  const alice = user("demo", "alice");

  it("alone: says they will not be disabled and offers a force logout instead", () => {
    const plan = planForUsers("disable", [root]);
    expect(plan.kind).toBe("logout");
    expect(plan.requested).toBe("disable");
    expect(plan.users).toEqual([root]);
    expect(plan.title).toBe("End & Disable");
    expect(plan.message).toBe(
      "root in tenant demo is a protected account: it will not be disabled. End its 3 sessions instead?",
    );
    expect(plan.confirmLabel).toBe("Force logout root");
    expect(plan.message).not.toContain("No account");
  });

  it("several alone: the same, in the plural, for Contain too", () => {
    const plan = planForUsers("contain", [root, admin]);
    expect(plan.kind).toBe("logout");
    expect(plan.requested).toBe("contain");
    expect(plan.title).toBe("Contain user");
    expect(plan.message).toBe(
      "root, admin in tenant demo are protected accounts: they will not be disabled. End their 5 sessions instead?",
    );
    expect(plan.confirmLabel).toBe("Force logout 2 users");
  });

  it("beside others: how many are disabled, and which protected ones are only signed out", () => {
    const plan = planForUsers("disable", [alice, root]);
    expect(plan.kind).toBe("disable");
    expect(plan.requested).toBe("disable");
    expect(plan.users).toEqual([alice]);
    expect(plan.signOutOnly).toEqual([root]);
    expect(plan.message).toBe("Disable 1 account (alice in tenant demo) and end their 1 session?");
    expect(plan.note).toBe(
      "Protected account root in tenant demo will not be disabled: it is only signed out (force logout).",
    );
    expect(plan.confirmLabel).toBe("Disable 1 account, sign out 1 protected");
    expect(planForUsers("disable", [alice, root, admin]).note).toBe(
      "2 protected accounts (root, admin in tenant demo) will not be disabled: they are only signed out (force logout).",
    );
  });

  it("force logout and re-enable take protected accounts like any other", () => {
    for (const kind of ["logout", "enable"] as const) {
      const plan = planForUsers(kind, [alice, root]);
      expect(plan.users).toEqual([alice, root]);
      expect(plan.signOutOnly).toEqual([]);
      expect(plan.note).toBeUndefined();
    }
  });

  it("reports the disabled and the signed-out accounts apart", () => {
    const plan = planForUsers("disable", [alice, root, admin]);
    const [a, r, ad] = userRefs([alice, root, admin]);
    const item = (target: typeof a, ok: boolean) => ({
      target: target ?? { tenant: "", session_id: "" },
      ok,
      already_gone: false,
      error: ok ? null : { code: "forbidden" as const, message: "no" },
      audit_id: 1,
    });
    const report: ActionReport = {
      action_id: "A",
      items: [item(a, true), item(r, true), item(ad, false)],
    };
    const outcome = summarizePlan(plan, report);
    expect(outcome.title).toBe(
      "Disabled 1 account, signed out 1 protected account, sign-out failed for 1 protected account",
    );
    expect(outcome.tone).toBe("warning");
    expect(outcome.doneUsers).toHaveLength(2);
    expect(outcome.failures).toEqual(["admin (tenant demo): no"]);
  });
});
