import { describe, expect, it } from "vitest";
import {
  activeFilterCount,
  consoleParams,
  EMPTY_FILTER,
  EMPTY_STATE,
  fieldOfError,
  filterErrors,
  formatConsole,
  parseConsole,
  toSessionFilter,
  toUtc,
} from "./consoleState";

describe("console state in the URL", () => {
  it("round-trips every kind of field", () => {
    const state = {
      mode: "users" as const,
      filter: {
        ...EMPTY_FILTER,
        search: "alice & bob",
        tenants: ["demo", "prod, eu"],
        superuser_only: true,
        ip: "10.0.0.0/8",
        user: "root",
        session_types: ["web"],
        protected: "no" as const,
        created_from: "2025-01-01T08:00",
      },
      sort: { sort: "ip" as const, descending: true },
      userSort: { sort: "sessions" as const, descending: false },
    };
    const text = formatConsole(state);
    expect(text).toContain("mode=users");
    expect(text).toContain("ip=10.0.0.0%2F8");
    expect(parseConsole(text)).toEqual(state);
  });

  it("writes nothing for the empty state and ignores unknown values", () => {
    expect(formatConsole(EMPTY_STATE)).toBe("");
    expect(parseConsole("")).toEqual(EMPTY_STATE);
    const odd = parseConsole("sort=nope&mode=cards&protected=maybe&tenant=");
    expect(odd).toEqual(EMPTY_STATE);
  });

  it("links to a filtered console", () => {
    expect(consoleParams({ tenants: ["prod"], session_id: "s7" })).toBe("tenant=prod&sid=s7");
  });
});

describe("the filter sent to the back end", () => {
  it("keeps only what narrows, trimmed, flags as booleans, times in UTC", () => {
    const f = toSessionFilter({
      ...EMPTY_FILTER,
      search: "  ",
      username: " ali ",
      disabled: "yes",
      current: "no",
      login_types: ["sso"],
      last_activity_to: "2025-03-01T00:00",
    });
    expect(f).toEqual({
      username: "ali",
      disabled: true,
      current: false,
      login_types: ["sso"],
      last_activity_to: new Date("2025-03-01T00:00").toISOString().replace(".000Z", "Z"),
    });
    expect(toSessionFilter(EMPTY_FILTER)).toEqual({});
  });

  it("leaves out what it knows to be invalid and says why", () => {
    const f = { ...EMPTY_FILTER, name: "x".repeat(257), created_from: "yesterday" };
    expect(toSessionFilter(f)).toEqual({});
    expect(filterErrors(f)).toEqual({
      name: "At most 256 characters.",
      created_from: "Not a valid date and time.",
    });
    expect(activeFilterCount(f)).toBe(2);
  });

  it("turns local datetime-local text into RFC 3339 UTC", () => {
    expect(toUtc("2025-06-01T12:30:15")).toBe(
      new Date(2025, 5, 1, 12, 30, 15).toISOString().replace(".000Z", "Z"),
    );
    expect(toUtc("2025-06-01")).toMatch(/^2025-0[56]-\d\dT\d\d:00:00Z$/);
    expect(toUtc("01/06/2025")).toBeNull();
  });

  it("finds the field a back-end message is about", () => {
    expect(fieldOfError('invalid CIDR network "10.0.0.0/99" (expected e.g. 10.0.0.0/8)')).toBe(
      "ip",
    );
    expect(fieldOfError("filter department: longer than 256 characters")).toBe("department");
    expect(fieldOfError("filter created: the range ends before it starts")).toBe("created_to");
    expect(fieldOfError("limit 20000 exceeds 10000")).toBeNull();
  });
});
