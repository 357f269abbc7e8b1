import type { AuditEntry } from "../ipc/bindings/AuditEntry";

export const AUDIT_COLUMNS: readonly (keyof AuditEntry)[] = [
  "id",
  "action_id",
  "requested_at",
  "actor",
  "tenant",
  "action",
  "target",
  "target_user",
  "state",
  "updated_at",
  "http_status",
  "result_code",
  "message",
];

/**
 * One CSV cell per RFC 4180 (always quoted, quotes doubled). Text starting with `= + - @`
 * (or tab / CR) is prefixed with `'` so that spreadsheets do not run it as a formula.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/** CSV with a header row, CRLF line ends (RFC 4180). */
export function buildAuditCsv(entries: readonly AuditEntry[]): string {
  const lines = [AUDIT_COLUMNS.map((c) => csvCell(c)).join(",")];
  for (const e of entries) lines.push(AUDIT_COLUMNS.map((c) => csvCell(e[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export function buildAuditJson(entries: readonly AuditEntry[]): string {
  return `${JSON.stringify(entries, null, 2)}\n`;
}

/** Saves `text` as a file through a temporary `<a download>`. */
export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  try {
    a.click();
  } finally {
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

/** "vigil-audit-20250314-092653" in local time. */
export function exportBaseName(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `vigil-audit-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}
