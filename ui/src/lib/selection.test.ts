import { describe, expect, it } from "vitest";
import {
  describeEnd,
  endButtonLabel,
  type SelectedSession,
  sessionKey,
  summarizeReport,
  toRefs,
} from "./selection";

const sel = (tenant: string, id: string, user: string): SelectedSession => ({
  tenant,
  id,
  user_id: `uid-${user}`,
  username: user,
  current: false,
  protected: false,
});

describe("selection helpers", () => {
  it("keys by tenant and id with a NUL separator", () => {
    expect(sessionKey("demo", "abc")).toBe("demo\u0000abc");
  });

  it("labels the End button", () => {
    expect(endButtonLabel(0)).toBe("End session");
    expect(endButtonLabel(1)).toBe("End session");
    expect(endButtonLabel(3)).toBe("End 3 sessions");
  });

  it("describes what will be ended", () => {
    expect(describeEnd([sel("demo", "1", "alice")])).toBe("End 1 session of alice (tenant demo)?");
    expect(describeEnd([sel("demo", "1", "alice"), sel("demo", "2", "alice")])).toBe(
      "End 2 sessions of alice (tenant demo)?",
    );
    // Same user id in two tenants is two users.
    const many = [
      sel("a", "1", "alice"),
      sel("a", "2", "alice"),
      sel("a", "3", "bob"),
      sel("b", "4", "alice"),
    ];
    expect(describeEnd(many)).toBe("End 4 sessions of 3 users in 2 tenants?");
    expect(describeEnd([sel("a", "1", "alice"), sel("a", "2", "bob")])).toBe(
      "End 2 sessions of 2 users in tenant a?",
    );
  });

  it("summarises an action report", () => {
    const s = new Map([
      [sessionKey("a", "1"), sel("a", "1", "alice")],
      [sessionKey("a", "2"), sel("a", "2", "bob")],
      [sessionKey("b", "3"), sel("b", "3", "carol")],
    ]);
    expect(toRefs(s)).toEqual([
      { tenant: "a", session_id: "1" },
      { tenant: "a", session_id: "2" },
      { tenant: "b", session_id: "3" },
    ]);
    const all = summarizeReport(
      {
        action_id: "a1",
        items: toRefs(s).map((target) => ({
          target,
          ok: true,
          already_gone: false,
          error: null,
          audit_id: null,
        })),
      },
      s,
    );
    expect(all).toMatchObject({ tone: "success", title: "Ended 3 sessions", failures: [] });
    expect(all.doneKeys).toHaveLength(3);

    const mixed = summarizeReport(
      {
        action_id: "a2",
        items: [
          {
            target: { tenant: "a", session_id: "1" },
            ok: true,
            already_gone: false,
            error: null,
            audit_id: 1,
          },
          {
            target: { tenant: "a", session_id: "2" },
            ok: true,
            already_gone: true,
            error: null,
            audit_id: 2,
          },
          {
            target: { tenant: "b", session_id: "3" },
            ok: false,
            already_gone: false,
            error: { code: "forbidden", message: "not allowed" },
            audit_id: 3,
          },
        ],
      },
      s,
    );
    expect(mixed.tone).toBe("warning");
    expect(mixed.title).toBe("Ended 1 session, 1 was already gone, failed to end 1 session");
    expect(mixed.failures).toEqual(["carol (tenant b): not allowed"]);
    expect(mixed.doneKeys).toEqual([sessionKey("a", "1"), sessionKey("a", "2")]);
  });
});
