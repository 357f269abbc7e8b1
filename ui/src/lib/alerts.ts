import type { Rule } from "../ipc/bindings/Rule";
import type { Severity } from "../ipc/bindings/Severity";

const RULE_LABELS: Record<Rule, string> = {
  superuser_sign_in: "SuperUser sign-in",
  odd_hours: "Odd hours",
  multiple_networks: "Several networks",
  long_session: "Long session",
  too_many_sessions: "Too many sessions",
  new_ip: "New IP",
  tenant_problem: "Tenant problem",
  impossible_travel: "Impossible travel",
};

/** Every rule this window knows, in the order it lists them. */
export const RULES = Object.keys(RULE_LABELS) as Rule[];

/** "SuperUser sign-in"; rules newer than this UI show their raw name. */
export function ruleLabel(rule: Rule): string {
  return RULE_LABELS[rule] ?? rule;
}

const SEVERITY_LABELS: Record<Severity, string> = {
  high: "High",
  medium: "Medium",
  low: "Low",
};

export function severityLabel(severity: Severity): string {
  return SEVERITY_LABELS[severity] ?? severity;
}
