import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../ipc/bindings/AuditEntry";
import { AUDIT_COLUMNS, buildAuditCsv, buildAuditJson, csvCell } from "./auditExport";

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 1,
  action_id: "act-1",
  requested_at: "2025-01-01T09:00:00Z",
  actor: "admin",
  tenant: "demo",
  action: "end_session",
  target: "s1",
  target_user: "alice",
  state: "confirmed",
  updated_at: "2025-01-01T09:00:05Z",
  http_status: 204,
  result_code: null,
  message: null,
  ...over,
});

describe("audit export", () => {
  it("quotes every cell and doubles quotes (RFC 4180)", () => {
    expect(csvCell("plain")).toBe('"plain"');
    expect(csvCell('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('""');
    expect(csvCell(204)).toBe('"204"');
  });

  it("defuses cells that a spreadsheet would run as a formula", () => {
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell("+1")).toBe('"\'+1"');
    expect(csvCell("-2")).toBe('"\'-2"');
    expect(csvCell("@SUM(A1)")).toBe('"\'@SUM(A1)"');
    expect(csvCell("a=b")).toBe('"a=b"');
  });

  it("builds a CSV with a header row and CRLF line ends", () => {
    const csv = buildAuditCsv([
      entry(),
      entry({ id: 2, target_user: "=cmd|' /C calc'!A0", message: 'bad "quote"', state: "failed" }),
    ]);
    const lines = csv.split("\r\n");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe("");
    expect(lines[0]).toBe(AUDIT_COLUMNS.map((c) => `"${c}"`).join(","));
    expect(lines[1]).toBe(
      '"1","act-1","2025-01-01T09:00:00Z","admin","demo","end_session","s1","alice","confirmed","2025-01-01T09:00:05Z","204","",""',
    );
    expect(lines[2]).toContain(`"'=cmd|' /C calc'!A0"`);
    expect(lines[2]).toContain('"bad ""quote"""');
  });

  it("exports JSON as the entries themselves", () => {
    const entries = [entry(), entry({ id: 2 })];
    expect(JSON.parse(buildAuditJson(entries))).toEqual(entries);
  });
});
