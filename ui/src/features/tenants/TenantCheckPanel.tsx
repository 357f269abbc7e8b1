import type { TenantCheck } from "../../ipc/bindings/TenantCheck";
import { errorMessage } from "../../ipc/ipc";
import { formatDateTime, visible } from "../../lib/format";
import { CLOCK_WARN_MS, describeCapabilities, formatOffset } from "../../lib/tenants";

export type CheckState =
  | { status: "pending" }
  | { status: "done"; check: TenantCheck }
  | { status: "failed"; error: unknown };

function Mark({ ok }: { ok: boolean }) {
  return (
    <span className={ok ? "check-ok" : "check-bad"} role="img" aria-label={ok ? "yes" : "no"}>
      {ok ? "✓" : "✗"}
    </span>
  );
}

/** Result of "Test connection": what works, what the credential may do, or why it failed. */
export function TenantCheckPanel({ state }: { state: CheckState }) {
  if (state.status === "pending") {
    return (
      <div className="tenant-check" data-testid="tenant-check" role="status">
        <span className="spinner" aria-hidden="true" /> Testing connection…
      </div>
    );
  }
  if (state.status === "failed") {
    return (
      <div className="tenant-check error" data-testid="tenant-check" role="alert">
        <strong>Test failed:</strong>{" "}
        <span className="tenant-error">{errorMessage(state.error)}</span>
      </div>
    );
  }
  const c = state.check;
  const offset = c.clock_offset_ms;
  const offsetWarn = offset !== null && Math.abs(offset) > CLOCK_WARN_MS;
  const caps = c.capabilities ? describeCapabilities(c.capabilities) : [];
  const ok = c.reachable && c.authenticated && !c.error;
  return (
    <div
      className={`tenant-check${ok ? " ok" : " error"}`}
      data-testid="tenant-check"
      role="status"
    >
      <dl className="check-facts">
        <div data-testid="check-reachable">
          <dt>Reachable</dt>
          <dd>
            <Mark ok={c.reachable} />
          </dd>
        </div>
        <div data-testid="check-authenticated">
          <dt>Credential accepted</dt>
          <dd>
            <Mark ok={c.authenticated} />
          </dd>
        </div>
        <div data-testid="check-latency">
          <dt>Latency</dt>
          <dd>{c.latency_ms !== null ? `${c.latency_ms} ms` : "–"}</dd>
        </div>
        <div data-testid="check-offset" className={offsetWarn ? "warn" : undefined}>
          <dt>Server clock</dt>
          <dd>
            {offset !== null ? formatOffset(offset) : "–"}
            {c.server_time && <span className="muted"> ({formatDateTime(c.server_time)})</span>}
            {offsetWarn && (
              <span className="check-warn">
                {" "}
                ⚠ differs by more than a minute: login and expiry times may be off
              </span>
            )}
          </dd>
        </div>
        <div data-testid="check-timezone">
          <dt>Server timezone</dt>
          <dd>{c.timezone ?? "–"}</dd>
        </div>
      </dl>
      {c.error && (
        <p className="tenant-error" data-testid="check-error">
          {visible(c.error.message)}
        </p>
      )}
      {c.permissions.length > 0 && (
        <div className="check-section">
          <span className="check-heading">Permissions</span>
          <ul className="chips" aria-label="Permissions">
            {c.permissions.map((p) => (
              <li key={p} className="chip" data-testid="check-permission">
                {p}
              </li>
            ))}
          </ul>
        </div>
      )}
      {caps.length > 0 && (
        <div className="check-section">
          <span className="check-heading">With this credential Vigil can</span>
          <ul className="capabilities" aria-label="Capabilities">
            {caps.map((cap) => (
              <li
                key={cap.key}
                className={cap.can ? "can" : "cannot"}
                data-testid="check-capability"
                data-capability={cap.key}
                data-can={cap.can}
              >
                <Mark ok={cap.can} /> {cap.label}
                {!cap.can && <span className="muted"> (not available)</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
