import { useNow } from "../../hooks/useNow";
import type { TenantSummary } from "../../ipc/bindings/TenantSummary";
import { formatAgo, visible } from "../../lib/format";

export type StatusBarProps = {
  tenants: readonly TenantSummary[] | undefined;
  /** The tenant the session view is filtered to. */
  selected?: string | null;
  /** Clicking a tenant selects it (the caller decides what a second click does). */
  onSelect?: (tenant: string) => void;
};

export function StatusBar({ tenants, selected = null, onSelect }: StatusBarProps) {
  const now = useNow(1000);
  return (
    <section className="status-bar" aria-label="Tenant status">
      {tenants === undefined && <span className="muted">Connecting…</span>}
      {tenants?.length === 0 && <span className="muted">No tenants configured</span>}
      {tenants?.map(({ health }) => {
        const ago = formatAgo(health.last_poll_at, now);
        const state = health.error ? "error" : health.stale ? "stale" : "ok";
        return (
          <button
            type="button"
            key={health.tenant}
            className={`tenant-status ${state}${selected === health.tenant ? " selected" : ""}`}
            data-testid="tenant-status"
            data-tenant={health.tenant}
            aria-pressed={selected === health.tenant}
            title={[
              health.error ? `${health.error.code}: ${health.error.message}` : null,
              selected === health.tenant
                ? "Show all tenants' sessions"
                : `Show only ${health.tenant}'s sessions`,
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
      })}
    </section>
  );
}
