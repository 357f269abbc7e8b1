// The alert tuning form's model: `[alerts]` without its routes, as typed, and its checks.
import type { AlertsFile } from "../../ipc/bindings/AlertsFile";
import limits from "../../ipc/bindings/limits.json";
import type { Rule } from "../../ipc/bindings/Rule";
import type { WindowLimits } from "../../ipc/bindings/WindowLimits";
import { splitList } from "../policies/policies";

/** The part of `[alerts]` the tuning section edits (the routes have their own section). */
export type Tuning = Pick<
  AlertsFile,
  "merge_minutes" | "trusted_networks" | "exclusions" | "rules"
>;

/** Each item has a `key` of its own: React's list key and the id of its fields. */
export type NetworkDraft = {
  key: number;
  name: string;
  cidrs: string;
  tenants: string;
  tags: string;
};

export type ExclusionDraft = {
  key: number;
  user: string;
  rules: Rule[];
  tenants: string;
  tags: string;
  reason: string;
  until: string;
};

export type ScopeDraft = {
  key: number;
  tenants: string;
  tags: string;
  off: Rule[];
  merge_minutes: string;
};

export type TuningDraft = {
  merge_minutes: string;
  networks: NetworkDraft[];
  exclusions: ExclusionDraft[];
  scopes: ScopeDraft[];
};

export type ListName = "networks" | "exclusions" | "scopes";

/**
 * Errors by field: `merge_minutes`, or `<list>.<key>.<field>` for an item's field
 * (`exclusions.3.reason`); `<list>.<key>` for the item as a whole.
 */
export type TuningErrors = Record<string, string>;

/** The longest merge window the back end accepts (a day). */
export const MAX_MERGE_MINUTES = (limits as WindowLimits).max_merge_minutes;

let lastKey = 0;
export function nextKey(): number {
  lastKey += 1;
  return lastKey;
}

export function emptyNetwork(): NetworkDraft {
  return { key: nextKey(), name: "", cidrs: "", tenants: "", tags: "" };
}

export function emptyExclusion(): ExclusionDraft {
  return { key: nextKey(), user: "", rules: [], tenants: "", tags: "", reason: "", until: "" };
}

export function emptyScope(): ScopeDraft {
  return { key: nextKey(), tenants: "", tags: "", off: [], merge_minutes: "" };
}

export function tuningDraftOf(f: Tuning): TuningDraft {
  return {
    merge_minutes: String(f.merge_minutes),
    networks: f.trusted_networks.map((n) => ({
      key: nextKey(),
      name: n.name,
      cidrs: n.cidrs.join(", "),
      tenants: n.tenants.join(", "),
      tags: n.tags.join(", "),
    })),
    exclusions: f.exclusions.map((x) => ({
      key: nextKey(),
      user: x.user,
      rules: [...x.rules],
      tenants: x.tenants.join(", "),
      tags: x.tags.join(", "),
      reason: x.reason,
      until: x.until,
    })),
    scopes: f.rules.map((r) => ({
      key: nextKey(),
      tenants: r.tenants.join(", "),
      tags: r.tags.join(", "),
      off: [...r.off],
      merge_minutes: r.merge_minutes === null ? "" : String(r.merge_minutes),
    })),
  };
}

/** A merge window as typed: whole minutes from 0 to a day, else NaN. */
function minutes(text: string): number {
  const t = text.trim();
  const v = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  return v <= MAX_MERGE_MINUTES ? v : Number.NaN;
}

const MINUTES_ERROR = `Whole minutes from 0 to ${MAX_MERGE_MINUTES} (a day).`;

/** `YYYY-MM-DD` of a real day. */
function isDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().startsWith(text);
}

/**
 * What is wrong with the draft before asking the back end, which checks it all again
 * (the networks' CIDRs and RFC 3339 times among others).
 */
export function validateTuning(d: TuningDraft): TuningErrors {
  const errors: TuningErrors = {};
  if (Number.isNaN(minutes(d.merge_minutes))) errors.merge_minutes = MINUTES_ERROR;
  for (const n of d.networks) {
    if (splitList(n.cidrs).length === 0)
      errors[`networks.${n.key}.cidrs`] = "At least one network, e.g. 203.0.113.0/24.";
  }
  for (const x of d.exclusions) {
    if (x.reason.trim() === "")
      errors[`exclusions.${x.key}.reason`] = "Say why: it is shown on every alert it silences.";
    const until = x.until.trim();
    // An RFC 3339 time (as the file may have it) is left to the back end.
    if (until !== "" && !isDay(until) && !/^\d{4}-\d{2}-\d{2}T/.test(until))
      errors[`exclusions.${x.key}.until`] = "A day as YYYY-MM-DD, or empty for no expiry.";
    if (x.user.trim() === "" && x.rules.length === 0)
      errors[`exclusions.${x.key}.user`] =
        "Name a user or pick rules: everyone for every rule would silence all alerts.";
  }
  for (const s of d.scopes) {
    if (s.merge_minutes.trim() !== "" && Number.isNaN(minutes(s.merge_minutes)))
      errors[`scopes.${s.key}.merge_minutes`] = `${MINUTES_ERROR} Empty: the general one.`;
  }
  return errors;
}

/** The tuning the draft describes (call after `validateTuning` found nothing). */
export function tuningOf(d: TuningDraft): Tuning {
  return {
    merge_minutes: minutes(d.merge_minutes),
    trusted_networks: d.networks.map((n) => ({
      name: n.name.trim(),
      cidrs: splitList(n.cidrs),
      tenants: splitList(n.tenants),
      tags: splitList(n.tags),
    })),
    exclusions: d.exclusions.map((x) => ({
      user: x.user.trim(),
      rules: [...x.rules],
      tenants: splitList(x.tenants),
      tags: splitList(x.tags),
      reason: x.reason.trim(),
      until: x.until.trim(),
    })),
    rules: d.scopes.map((s) => ({
      tenants: splitList(s.tenants),
      tags: splitList(s.tags),
      off: [...s.off],
      merge_minutes: s.merge_minutes.trim() === "" ? null : minutes(s.merge_minutes),
    })),
  };
}
