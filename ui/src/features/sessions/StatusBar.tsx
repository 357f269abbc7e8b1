import { useState } from "react";
import { useNow } from "../../hooks/useNow";
import type { TenantHealth } from "../../ipc/bindings/TenantHealth";
import type { TenantSummary } from "../../ipc/bindings/TenantSummary";
import { formatAgo, formatCount, plural, visible } from "../../lib/format";

/**
 * Up to this many tenants the bar shows each one. Past it (support staff run hundreds),
 * it counts the healthy ones and lists only those that fail or are stale, failing first,
 * so a broken tenant is seen without scrolling through a thousand.
 */
export const LISTED_TENANTS = 12;

export type StatusBarProps = {
  tenants: readonly TenantSummary[] | undefined;
  /** The tenant the session view is filtered to. */
  selected?: string | null;
  /** Clicking a tenant selects it (the caller decides what a second click does). */
  onSelect?: (tenant: string) => void;
};

type State = "error" | "stale" | "ok";

function stateOf(health: TenantHealth): State {
  return health.error ? "error" : health.stale ? "stale" : "ok";
}

function needsAttention(health: TenantHealth): boolean {
  return stateOf(health) !== "ok" || Boolean(health.warning);
}

const RANK: Record<State, number> = { error: 0, stale: 1, ok: 2 };

export function StatusBar({ tenants, selected = null, onSelect }: StatusBarProps) {
  const now = useNow(1000);
  const [expanded, setExpanded] = useState(false);
  const button = (health: TenantHealth) => (
    <TenantStatus
      key={health.tenant}
      health={health}
      now={now}
      selected={selected === health.tenant}
      onSelect={onSelect}
    />
  );
  if (tenants === undefined || tenants.length <= LISTED_TENANTS) {
    return (
      <section className="status-bar" aria-label="Tenant status">
        {tenants === undefined && <span className="muted">Connecting…</span>}
        {tenants?.length === 0 && <span className="muted">No tenants configured</span>}
        {tenants?.map(({ health }) => button(health))}
      </section>
    );
  }
  const problems = tenants
    .map((t) => t.health)
    .filter(needsAttention)
    .sort((a, b) => RANK[stateOf(a)] - RANK[stateOf(b)] || a.tenant.localeCompare(b.tenant));
  const failing = problems.filter((h) => h.error).length;
  const stale = problems.filter((h) => !h.error && h.stale).length;
  const shown = expanded ? problems : problems.slice(0, LISTED_TENANTS);
  const chosen =
    selected !== null && !shown.some((h) => h.tenant === selected)
      ? tenants.find((t) => t.health.tenant === selected)?.health
      : undefined;
  const hidden = problems.length - shown.length;
  return (
    <section className="status-bar" aria-label="Tenant status">
      <span className="status-summary" data-testid="tenant-status-summary" role="status">
        <strong>{plural(tenants.length, "tenant")}</strong>
        {" · "}
        <span className="status-ok">{formatCount(tenants.length - problems.length)} ok</span>
        {failing > 0 && (
          <>
            {" · "}
            <span className="status-error" data-testid="tenants-failing">
              {formatCount(failing)} failing
            </span>
          </>
        )}
        {stale > 0 && (
          <>
            {" · "}
            <span className="status-stale">{formatCount(stale)} stale</span>
          </>
        )}
      </span>
      {shown.map(button)}
      {chosen && button(chosen)}
      {(hidden > 0 || expanded) && problems.length > LISTED_TENANTS && (
        <button
          type="button"
          className="link-button"
          data-testid="tenant-status-more"
          aria-expanded={expanded}
          onClick={() => setExpanded((e) => !e)}
        >
          {expanded ? "Fewer" : `${formatCount(hidden)} more`}
        </button>
      )}
    </section>
  );
}

function TenantStatus({
  health,
  now,
  selected,
  onSelect,
}: {
  health: TenantHealth;
  now: number;
  selected: boolean;
  onSelect?: ((tenant: string) => void) | undefined;
}) {
  const ago = formatAgo(health.last_poll_at, now);
  return (
    <button
      type="button"
      className={`tenant-status ${stateOf(health)}${selected ? " selected" : ""}`}
      data-testid="tenant-status"
      data-tenant={health.tenant}
      aria-pressed={selected}
      title={[
        health.error ? `${health.error.code}: ${health.error.message}` : null,
        selected ? "Show all tenants' sessions" : `Show only ${health.tenant}'s sessions`,
      ]
        .filter(Boolean)
        .join("\n")}
      onClick={() => onSelect?.(health.tenant)}
    >
      <span className="dot" aria-hidden="true" />
      <strong>{health.tenant}</strong>
      <span className="muted">{health.kind}</span>
      {health.error ? (
        <span className="tenant-error">{visible(health.error.message)}</span>
      ) : (
        <span>
          {ago ? `polled ${ago}` : "not polled yet"}
          {health.latency_ms !== null ? ` · ${health.latency_ms} ms` : ""}
        </span>
      )}
      {health.stale && <span className="badge badge-stale">stale</span>}
      {health.warning && (
        <span className="badge badge-stale" title={`Incomplete: ${visible(health.warning)}`}>
          incomplete
        </span>
      )}
    </button>
  );
}
