import type { Counts } from "../../ipc/bindings/Counts";
import type { TenantSummary } from "../../ipc/bindings/TenantSummary";
import type { Mode } from "../../lib/consoleState";
import { formatCount, plural } from "../../lib/format";

export type CardsProps = {
  counts: Counts | undefined;
  /** Open alerts in the same scope as `counts`. */
  openAlerts?: number | undefined;
  /** The tenants the counts belong to; empty for the totals of all tenants. */
  scope?: readonly string[];
  superuserOnly: boolean;
  onToggleSuperusers: () => void;
  /** The console's view: Active users opens the Users view, Active sessions the Sessions view. */
  mode?: Mode;
  onMode?: (mode: Mode) => void;
  onOpenAlerts?: () => void;
  /** Per-tenant counts (from the summary) and open alerts per tenant. */
  tenants?: readonly TenantSummary[] | undefined;
  alertsByTenant?: Readonly<Record<string, number>> | undefined;
  /** Clicking a tenant's card shows only that tenant (again: all tenants). */
  onTenant?: (tenant: string) => void;
};

function value(counts: Counts | undefined, pick: (c: Counts) => number): string {
  return counts ? formatCount(pick(counts)) : "…";
}

function scopeLabel(scope: readonly string[]): string {
  if (scope.length === 0) return "Totals";
  if (scope.length === 1) return `Tenant ${scope[0]}`;
  return `${scope.length} tenants`;
}

export function Cards(props: CardsProps) {
  const { counts, scope = [], superuserOnly, mode = "sessions" } = props;
  const alerts = props.openAlerts;
  return (
    <>
      <section className="cards" aria-label={scopeLabel(scope)} data-scope={scope.join(",")}>
        <button
          type="button"
          className={`card card-button${mode === "users" ? " active" : ""}`}
          data-testid="card-active-users"
          aria-pressed={mode === "users"}
          title="One row per user (U)"
          onClick={() => props.onMode?.("users")}
        >
          <span className="card-label">Active users</span>
          <span className="card-value" data-testid="card-value">
            {value(counts, (c) => c.active_users)}
          </span>
        </button>
        <button
          type="button"
          className={`card card-button${mode === "sessions" ? " active" : ""}`}
          data-testid="card-active-sessions"
          aria-pressed={mode === "sessions"}
          title="One row per session (U)"
          onClick={() => props.onMode?.("sessions")}
        >
          <span className="card-label">Active sessions</span>
          <span className="card-value" data-testid="card-value">
            {value(counts, (c) => c.active_sessions)}
          </span>
        </button>
        <button
          type="button"
          className={`card card-button card-super${superuserOnly ? " active" : ""}${
            counts && counts.superusers_online > 0 ? " has-super" : ""
          }`}
          data-testid="card-superusers"
          aria-pressed={superuserOnly}
          title={superuserOnly ? "Show all sessions" : "Show SuperUser sessions only"}
          onClick={props.onToggleSuperusers}
        >
          <span className="card-label">SuperUsers online</span>
          <span className="card-value" data-testid="card-value">
            {value(counts, (c) => c.superusers_online)}
          </span>
        </button>
        <button
          type="button"
          className={`card card-button${alerts !== undefined && alerts > 0 ? " has-alerts" : ""}`}
          data-testid="card-open-alerts"
          title="Open the alert centre (Ctrl/Cmd+4)"
          onClick={props.onOpenAlerts}
        >
          <span className="card-label">Open alerts</span>
          <span className="card-value" data-testid="card-value">
            {alerts === undefined ? "…" : formatCount(alerts)}
          </span>
        </button>
      </section>
      {props.tenants && props.tenants.length > 0 && (
        <section className="tenant-cards" aria-label="Per tenant">
          {cardsShown(props.tenants, scope, props.alertsByTenant).map(({ health, counts: c }) => {
            const name = health.tenant;
            const pressed = scope.length === 1 && scope[0] === name;
            const open = props.alertsByTenant?.[name] ?? 0;
            return (
              <button
                key={name}
                type="button"
                className={`tenant-card${pressed ? " active" : ""}${health.stale ? " stale" : ""}`}
                data-testid="tenant-card"
                data-tenant={name}
                aria-pressed={pressed}
                title={pressed ? "Show all tenants" : `Show only ${name}`}
                onClick={() => props.onTenant?.(name)}
              >
                <strong>{name}</strong>
                <span>{plural(c.active_users, "user")}</span>
                <span>{plural(c.active_sessions, "session")}</span>
                <span className={c.superusers_online > 0 ? "warn" : undefined}>
                  {formatCount(c.superusers_online)} super
                </span>
                {open > 0 && <span className="danger">{plural(open, "alert")}</span>}
                {health.stale && <span className="badge badge-stale">stale</span>}
                {health.capabilities?.sign_in_log && (
                  <span
                    className="badge badge-log"
                    title="Sessions derived from the sign-in log (no live session list)"
                  >
                    sign-in log
                  </span>
                )}
              </button>
            );
          })}
          {props.tenants.length > CARDS_SHOWN && (
            <span className="muted tenant-cards-more" data-testid="tenant-cards-more">
              {plural(props.tenants.length - CARDS_SHOWN, "more tenant")}: choose one in the Tenants
              filter
            </span>
          )}
        </section>
      )}
    </>
  );
}

/** Per-tenant cards at most; past it, the ones that need a look first. */
export const CARDS_SHOWN = 12;

/**
 * Every tenant's card while they fit; otherwise the chosen tenant, then those with open
 * alerts, SuperUsers online or stale sessions, then the largest, `CARDS_SHOWN` in all.
 */
export function cardsShown(
  tenants: readonly TenantSummary[],
  scope: readonly string[],
  alertsByTenant: Readonly<Record<string, number>> | undefined,
): readonly TenantSummary[] {
  if (tenants.length <= CARDS_SHOWN) return tenants;
  const chosen = new Set(scope);
  // Each tenant's weights once, then one sort on them.
  const weighed = tenants.map((t) => ({
    t,
    w: [
      chosen.has(t.health.tenant) ? 1 : 0,
      alertsByTenant?.[t.health.tenant] ?? 0,
      t.counts.superusers_online,
      t.health.stale ? 1 : 0,
      t.counts.active_sessions,
    ],
  }));
  weighed.sort((a, b) => {
    for (let i = 0; i < a.w.length; i++) {
      const d = (b.w[i] ?? 0) - (a.w[i] ?? 0);
      if (d !== 0) return d;
    }
    return a.t.health.tenant.localeCompare(b.t.health.tenant);
  });
  return weighed.slice(0, CARDS_SHOWN).map(({ t }) => t);
}
