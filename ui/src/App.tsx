import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { HelpOverlay } from "./components/HelpOverlay";
import { AlertsScreen } from "./features/alerts/AlertsScreen";
import { AlertToasts, pushToast, type Toast } from "./features/alerts/AlertToasts";
import { AuditScreen } from "./features/audit/AuditScreen";
import { SessionsView } from "./features/sessions/SessionsView";
import { SettingsScreen } from "./features/settings/SettingsScreen";
import { TenantsScreen } from "./features/tenants/TenantsScreen";
import { invalidateAll, openAlertCountQueryOptions, settingsQueryOptions } from "./hooks/queries";
import { useHashRoute, type View } from "./hooks/useHashView";
import { useNewAlerts } from "./hooks/useNewAlerts";
import {
  useAppStatusInvalidation,
  useSessionsChangedInvalidation,
} from "./hooks/useSessionsChanged";
import { useTauriEvent } from "./hooks/useTauriEvent";
import { onOpenAlert, refresh } from "./ipc/ipc";
import { consoleParams } from "./lib/consoleState";
import { formatCount, plural } from "./lib/format";
import { isTextEntry, modalOpen } from "./lib/keyboard";
import { applyStoredTheme } from "./lib/theme";

const NAV: { view: View; label: string; key: string }[] = [
  { view: "sessions", label: "Sessions", key: "1" },
  { view: "tenants", label: "Tenants", key: "2" },
  { view: "audit", label: "Audit", key: "3" },
  { view: "alerts", label: "Alerts", key: "4" },
  { view: "settings", label: "Settings", key: "5" },
];

const NAV_ICONS: Record<View, string> = {
  sessions: "☰",
  tenants: "⚙",
  audit: "✎",
  alerts: "⚠",
  settings: "⚒",
};

/** The window: a rail to switch views (Ctrl/Cmd+1…5), the view kept in the URL hash. */
export function App() {
  const qc = useQueryClient();
  const { view, params, navigate, replaceParams } = useHashRoute();
  const setView = useCallback((next: View) => navigate(next), [navigate]);
  const [helpOpen, setHelpOpen] = useState(false);
  // Live updates for every view: sessions, summary and tenants.
  useSessionsChangedInvalidation(qc);
  // Pause state and settings changed (here or from the tray).
  useAppStatusInvalidation(qc);

  // The stored theme, at start and whenever the settings change.
  const theme = useQuery(settingsQueryOptions()).data?.theme;
  useEffect(() => {
    if (theme) applyStoredTheme(theme);
  }, [theme]);

  // Open alerts for the rail badge; new alerts refetch it and pop up a toast.
  const openAlerts = useQuery(openAlertCountQueryOptions());
  const [toasts, setToasts] = useState<Toast[]>([]);
  const toastKey = useRef(0);
  useNewAlerts((alert) => {
    toastKey.current += 1;
    const key = toastKey.current;
    setToasts((prev) => pushToast(prev, { key, alert }));
  });
  const dismissToast = useCallback(
    (key: number) => setToasts((prev) => prev.filter((t) => t.key !== key)),
    [],
  );
  const openAlertCentre = useCallback(() => setView("alerts"), [setView]);

  // A clicked notification: its session in the console, or the alert centre for a
  // tenant-wide alert.
  useTauriEvent(onOpenAlert, ({ tenant, session_id }) => {
    if (session_id === null) navigate("alerts");
    else navigate("sessions", consoleParams({ tenants: [tenant], session_id }));
  });

  const state = useRef({ view, setView, helpOpen });
  state.current = { view, setView, helpOpen };
  useEffect(() => {
    const pollNow = () => {
      const done = () => void invalidateAll(qc);
      refresh().then(done, done);
    };
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const target = mod && !e.shiftKey && !e.altKey && NAV.find((n) => n.key === e.key);
      if (target) {
        e.preventDefault();
        if (!modalOpen()) state.current.setView(target.view);
        return;
      }
      if (e.key === "?" && !mod && !e.altKey && !isTextEntry(e.target)) {
        if (state.current.helpOpen || !modalOpen()) {
          e.preventDefault();
          setHelpOpen((o) => !o);
        }
        return;
      }
      // The session view handles its own refresh keys; elsewhere too, never reload the webview.
      if (state.current.view === "sessions") return;
      if (e.key === "F5" || (mod && !e.shiftKey && e.key.toLowerCase() === "r")) {
        e.preventDefault();
        if (!modalOpen()) pollNow();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [qc]);

  const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
  return (
    <div className="shell">
      <nav className="rail" aria-label="Views">
        <div className="rail-tabs" role="tablist" aria-orientation="vertical">
          {NAV.map((n) => (
            <button
              key={n.view}
              type="button"
              role="tab"
              className={`rail-tab${view === n.view ? " active" : ""}`}
              data-testid={`nav-${n.view}`}
              aria-selected={view === n.view}
              aria-keyshortcuts={`Control+${n.key} Meta+${n.key}`}
              title={`${n.label} (${isMac ? "⌘" : "Ctrl+"}${n.key})`}
              onClick={() => setView(n.view)}
            >
              <span className="rail-icon" aria-hidden="true">
                {NAV_ICONS[n.view]}
              </span>
              {n.label}
              {n.view === "alerts" && openAlerts.data !== undefined && openAlerts.data > 0 && (
                <span
                  className="rail-badge"
                  data-testid="alerts-open-count"
                  title={`${plural(openAlerts.data, "open alert")}`}
                >
                  {openAlerts.data > 999 ? "999+" : formatCount(openAlerts.data)}
                </span>
              )}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="rail-help"
          data-testid="help-button"
          aria-label="Keyboard shortcuts"
          aria-keyshortcuts="?"
          aria-haspopup="dialog"
          title="Keyboard shortcuts (?)"
          onClick={() => setHelpOpen(true)}
        >
          ?
        </button>
      </nav>
      {view === "sessions" ? (
        <SessionsView params={params} onParams={replaceParams} onOpenAlerts={openAlertCentre} />
      ) : view === "audit" ? (
        <AuditScreen onOpenSettings={() => setView("settings")} />
      ) : view === "settings" ? (
        <SettingsScreen />
      ) : view === "alerts" ? (
        <AlertsScreen
          onShowSession={(alertTenant, sessionId) =>
            navigate("sessions", consoleParams({ tenants: [alertTenant], session_id: sessionId }))
          }
        />
      ) : (
        <TenantsScreen
          onShowSessions={(name) => navigate("sessions", consoleParams({ tenants: [name] }))}
        />
      )}
      <AlertToasts toasts={toasts} onOpen={openAlertCentre} onDismiss={dismissToast} />
      {helpOpen && <HelpOverlay onClose={() => setHelpOpen(false)} />}
    </div>
  );
}
