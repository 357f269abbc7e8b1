import { describe, expect, it } from "vitest";
import {
  effectiveExpiry,
  formatAgo,
  formatCount,
  formatDateTime,
  formatDuration,
  formatTimeLeft,
  personName,
  plural,
  visible,
} from "./format";

describe("format", () => {
  it("shows control characters and bidi overrides instead of obeying them", () => {
    expect(visible("mallory\u001b]0;PWNED\u0007\u001b[2J")).toBe("mallory^[]0;PWNED^G^[[2J");
    expect(visible("gnp.\u202eexe")).toBe("gnp.\\u{202e}exe");
    expect(visible("a\tb\u007f\u009b")).toBe("a^Ib^?\\u{9b}");
    expect(visible("Zoë 山田 مريم")).toBe("Zoë 山田 مريم");
  });

  it("formats counts and plurals", () => {
    expect(formatCount(2013)).toBe("2,013");
    expect(plural(1, "session")).toBe("1 session");
    expect(plural(2013, "session")).toBe("2,013 sessions");
    expect(plural(0, "session")).toBe("0 sessions");
  });

  it("formats local date-times to the second", () => {
    const d = new Date(2025, 2, 4, 9, 5, 7); // local time
    expect(formatDateTime(d.toISOString())).toBe("2025-03-04 09:05:07");
    expect(formatDateTime(null)).toBe("–");
    expect(formatDateTime("not a date")).toBe("–");
  });

  it("formats durations and time left", () => {
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(12 * 60_000 + 30_000)).toBe("12m");
    expect(formatDuration((3 * 60 + 12) * 60_000)).toBe("3h 12m");
    expect(formatDuration(2 * 3_600_000)).toBe("2h");
    expect(formatDuration((52 * 60 + 5) * 60_000)).toBe("2d 4h");
    expect(formatTimeLeft(1_000_000 + (3 * 60 + 12) * 60_000, 1_000_000)).toBe("in 3h 12m");
    expect(formatTimeLeft(1_000, 2_000)).toBe("expired");
  });

  it("formats 'ago'", () => {
    const now = Date.parse("2025-01-01T12:00:00Z");
    expect(formatAgo("2025-01-01T11:59:57Z", now)).toBe("3 s ago");
    expect(formatAgo("2025-01-01T11:55:00Z", now)).toBe("5 min ago");
    expect(formatAgo("2025-01-01T09:00:00Z", now)).toBe("3 h ago");
    expect(formatAgo(null, now)).toBeNull();
  });

  it("builds a person's name", () => {
    expect(personName({ display_name: "Alice A.", first_name: "A", last_name: "B" })).toBe(
      "Alice A.",
    );
    expect(personName({ display_name: " ", first_name: "Alice", last_name: "Smith" })).toBe(
      "Alice Smith",
    );
    expect(personName({ display_name: null, first_name: null, last_name: "Smith" })).toBe("Smith");
    expect(personName({ display_name: null, first_name: null, last_name: null })).toBeNull();
  });

  it("takes the earlier of hard and idle expiry", () => {
    const last = "2025-01-01T10:00:00Z";
    const idle = Date.parse(last) + 1800_000;
    expect(
      effectiveExpiry({
        expires_at: "2025-01-01T20:00:00Z",
        last_activity_at: last,
        idle_timeout_seconds: 1800,
      }),
    ).toBe(idle);
    expect(
      effectiveExpiry({
        expires_at: "2025-01-01T10:10:00Z",
        last_activity_at: last,
        idle_timeout_seconds: 1800,
      }),
    ).toBe(Date.parse("2025-01-01T10:10:00Z"));
    expect(
      effectiveExpiry({ expires_at: null, last_activity_at: last, idle_timeout_seconds: null }),
    ).toBeNull();
  });
});
