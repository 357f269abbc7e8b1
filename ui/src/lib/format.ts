import type { Session } from "../ipc/bindings/Session";

const NUMBER = new Intl.NumberFormat("en-US");

export const DASH = "–";

/**
 * Characters a renderer would obey rather than show: C0 controls, DEL, C1 controls, bidi
 * embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the invisible
 * marks that reorder text (U+061C, U+200E, U+200F). The same set as the core's
 * `text::is_unsafe`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]/g;

/**
 * Tenant text as people should see it: every character a renderer would obey (a bidi
 * override turning `gnp.exe` around, a control character) written as a visible escape,
 * `^[` for ESC and `\u{202e}` style otherwise, as the CLI shows it.
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.codePointAt(0) ?? 0;
    if (code < 0x20) return `^${String.fromCharCode(0x40 + code)}`;
    if (code === 0x7f) return "^?";
    return `\\u{${code.toString(16)}}`;
  });
}

export function formatCount(n: number): string {
  return NUMBER.format(n);
}

/** "1 session" / "2,013 sessions". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time to the second: "2025-03-14 09:26:53". */
export function formatDateTime(iso: string | null | undefined): string {
  const t = parseTime(iso);
  if (t === null) return DASH;
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Compact duration: "45s", "12m", "3h 12m", "2d 4h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
}

/** "in 3h 12m" or "expired". */
export function formatTimeLeft(targetMs: number, nowMs: number): string {
  const left = targetMs - nowMs;
  return left <= 0 ? "expired" : `in ${formatDuration(left)}`;
}

/** "3 s ago", "5 min ago", "2 h ago". */
export function formatAgo(iso: string | null | undefined, nowMs: number): string | null {
  const t = parseTime(iso);
  if (t === null) return null;
  const s = Math.max(0, Math.floor((nowMs - t) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** display_name, else first + last name, else null. */
export function personName(
  s: Pick<Session, "display_name" | "first_name" | "last_name">,
): string | null {
  const display = s.display_name?.trim();
  if (display) return display;
  const joined = [s.first_name, s.last_name]
    .map((p) => p?.trim())
    .filter(Boolean)
    .join(" ");
  return joined || null;
}

/**
 * When the session ends: the earlier of its hard expiry and its idle expiry
 * (last activity + idle timeout), as epoch ms; null when unknown.
 */
export function effectiveExpiry(
  s: Pick<Session, "expires_at" | "last_activity_at" | "idle_timeout_seconds">,
): number | null {
  const hard = parseTime(s.expires_at);
  const last = parseTime(s.last_activity_at);
  const idle =
    last !== null && s.idle_timeout_seconds !== null && s.idle_timeout_seconds > 0
      ? last + s.idle_timeout_seconds * 1000
      : null;
  if (hard === null) return idle;
  if (idle === null) return hard;
  return Math.min(hard, idle);
}
