import { describe, expect, it } from "vitest";
import { logoutEffects, planForUsers, type SelectedUser } from "./userActions";

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
