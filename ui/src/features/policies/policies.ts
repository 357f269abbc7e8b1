import { queryOptions } from "@tanstack/react-query";
import type { ActionReport } from "../../ipc/bindings/ActionReport";
import type { PolicyConfig } from "../../ipc/bindings/PolicyConfig";
import { listPolicies } from "../../ipc/ipc";

/** The policy form, as typed. */
export type PolicyDraft = {
  name: string;
  idleOver: string;
  olderThan: string;
  tenants: string;
  tags: string;
  except: string;
};

export const EMPTY_DRAFT: PolicyDraft = {
  name: "",
  idleOver: "",
  olderThan: "",
  tenants: "",
  tags: "",
  except: "",
};

/** The name a policy typed in the window goes by in the audit log. */
export const AD_HOC_NAME = "ad hoc";

/** "a, b ,, c" → ["a", "b", "c"]. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** What is wrong with the draft before asking the back end (null: nothing); the back end
 * checks the spans themselves. */
export function draftError(d: PolicyDraft): string | null {
  const idle = d.idleOver.trim();
  const older = d.olderThan.trim();
  if (idle === "" && older === "") {
    return "Say which sessions to end: idle over (e.g. 8h) and/or older than (e.g. 30d).";
  }
  return null;
}

export function policyOfDraft(d: PolicyDraft): PolicyConfig {
  return {
    name: d.name.trim() || AD_HOC_NAME,
    idle_over: d.idleOver.trim() || null,
    older_than: d.olderThan.trim() || null,
    tenants: splitList(d.tenants),
    tags: splitList(d.tags),
    except: splitList(d.except),
    every: null,
  };
}

/** "idle over 8h · older than 30d · tenants a, b · tags prod · except alice · every 1h". */
export function describePolicy(p: PolicyConfig): string {
  const parts: string[] = [];
  if (p.idle_over) parts.push(`idle over ${p.idle_over}`);
  if (p.older_than) parts.push(`older than ${p.older_than}`);
  parts.push(p.tenants.length > 0 ? `tenants ${p.tenants.join(", ")}` : "");
  if (p.tags.length > 0) parts.push(`tags ${p.tags.join(", ")}`);
  if (p.tenants.length === 0 && p.tags.length === 0) parts.push("every tenant");
  if (p.except.length > 0) parts.push(`except ${p.except.join(", ")}`);
  parts.push(p.every ? `runs every ${p.every}` : "by hand only");
  return parts.filter(Boolean).join(" · ");
}

/** Ended (or already gone) and failed items of a run. */
export function runCounts(report: ActionReport): { ended: number; failed: number } {
  const ended = report.items.filter((i) => i.ok || i.already_gone).length;
  return { ended, failed: report.items.length - ended };
}

export function policiesQueryOptions() {
  return queryOptions({ queryKey: ["policies"] as const, queryFn: listPolicies });
}
