import type { Counts } from "../ipc/bindings/Counts";
import { formatCount } from "../lib/format";

export type CardsProps = {
  counts: Counts | undefined;
  /** The tenant the counts belong to; null for the totals of all tenants. */
  scope?: string | null;
  superuserOnly: boolean;
  onToggleSuperusers: () => void;
};

function value(counts: Counts | undefined, pick: (c: Counts) => number): string {
  return counts ? formatCount(pick(counts)) : "…";
}

export function Cards({ counts, scope = null, superuserOnly, onToggleSuperusers }: CardsProps) {
  return (
    <section
      className="cards"
      aria-label={scope === null ? "Totals" : `Tenant ${scope}`}
      data-scope={scope ?? ""}
    >
      <div className="card" data-testid="card-active-users">
        <span className="card-label">Active users</span>
        <span className="card-value" data-testid="card-value">
          {value(counts, (c) => c.active_users)}
        </span>
      </div>
      <div className="card" data-testid="card-active-sessions">
        <span className="card-label">Active sessions</span>
        <span className="card-value" data-testid="card-value">
          {value(counts, (c) => c.active_sessions)}
        </span>
      </div>
      <button
        type="button"
        className={`card card-button${superuserOnly ? " active" : ""}${
          counts && counts.superusers_online > 0 ? " has-super" : ""
        }`}
        data-testid="card-superusers"
        aria-pressed={superuserOnly}
        title={superuserOnly ? "Show all sessions" : "Show SuperUser sessions only"}
        onClick={onToggleSuperusers}
      >
        <span className="card-label">SuperUsers online</span>
        <span className="card-value" data-testid="card-value">
          {value(counts, (c) => c.superusers_online)}
        </span>
      </button>
    </section>
  );
}
