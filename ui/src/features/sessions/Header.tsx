import type { ChangeEvent, RefObject } from "react";
import { PauseIcon, PlayIcon, RefreshIcon } from "../../components/icons";
import { PersonSearch } from "../people/PersonSearch";

export type HeaderProps = {
  search: string;
  onSearch: (value: string) => void;
  searchRef?: RefObject<HTMLInputElement | null>;
  searchError?: string | undefined;
  /** Tenant names to filter by. */
  tenants: readonly string[];
  /** The tenants shown (empty: all). */
  selectedTenants: readonly string[];
  onTenants: (tenants: string[]) => void;
  superuserOnly: boolean;
  onSuperuserOnly: (value: boolean) => void;
  onRefresh: () => void;
  refreshing: boolean;
  /** Polling of every tenant is paused; undefined while unknown (no control shown). */
  paused?: boolean | undefined;
  /** Pauses (true) or resumes (false) polling. */
  onPaused?: (paused: boolean) => void;
  /** A pause or resume is under way. */
  pausing?: boolean;
  /** Opens the person panel for a query (an e-mail address or user name). */
  onFindPerson?: (query: string) => void;
};

const SEVERAL = "\u0000several";

export function Header(props: HeaderProps) {
  const several = props.selectedTenants.length > 1;
  const tenantValue = several ? SEVERAL : (props.selectedTenants[0] ?? "");
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path
            d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5l-8-3Z"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinejoin="round"
          />
          <circle cx="12" cy="11" r="2.5" fill="currentColor" />
        </svg>
        <h1>Vigil</h1>
      </div>
      <div className="search">
        <input
          ref={props.searchRef}
          type="search"
          data-testid="search"
          aria-label="Search sessions"
          aria-keyshortcuts="/"
          aria-invalid={props.searchError ? true : undefined}
          title={
            props.searchError ??
            "Search user name, name, IP, department, organisation, browser and tenant ( / )"
          }
          placeholder="Search user, name, IP, browser…  ( / )"
          value={props.search}
          onChange={(e: ChangeEvent<HTMLInputElement>) => props.onSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape" && props.search !== "") {
              e.preventDefault();
              props.onSearch("");
            }
          }}
          spellCheck={false}
          autoComplete="off"
        />
      </div>
      {props.onFindPerson && <PersonSearch onFind={props.onFindPerson} />}
      <select
        className="tenant-filter"
        data-testid="tenant-filter"
        aria-label="Tenant"
        title="Show the sessions of one tenant (several: use the Tenants filter)"
        value={tenantValue}
        onChange={(e) => props.onTenants(e.target.value === "" ? [] : [e.target.value])}
      >
        <option value="">All tenants</option>
        {several && (
          <option value={SEVERAL} disabled>
            {props.selectedTenants.length} tenants
          </option>
        )}
        {props.tenants.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <label className="toggle">
        <input
          type="checkbox"
          data-testid="superuser-toggle"
          checked={props.superuserOnly}
          onChange={(e) => props.onSuperuserOnly(e.target.checked)}
        />
        <span>SuperUsers only</span>
      </label>
      <button
        type="button"
        className="button"
        data-testid="refresh"
        onClick={props.onRefresh}
        disabled={props.refreshing}
        title="Poll all tenants now (F5)"
        aria-keyshortcuts="F5 Control+R Meta+R"
      >
        <span className={props.refreshing ? "button-icon spin" : "button-icon"} aria-hidden="true">
          <RefreshIcon />
        </span>
        {props.refreshing ? "Refreshing…" : "Refresh"}
      </button>
      {props.paused === false && (
        <button
          type="button"
          className="button"
          data-testid="pause-polling"
          onClick={() => props.onPaused?.(true)}
          disabled={props.pausing}
          title="Stop polling every tenant until resumed (Refresh still polls once)"
        >
          <PauseIcon />
          Pause
        </button>
      )}
      {props.paused === true && (
        <div className="paused-bar" data-testid="polling-paused">
          <span role="status">Polling paused</span>
          <button
            type="button"
            className="button small"
            data-testid="resume-polling"
            onClick={() => props.onPaused?.(false)}
            disabled={props.pausing}
            title="Poll every tenant again at its interval"
          >
            <PlayIcon size={12} />
            Resume
          </button>
        </div>
      )}
    </header>
  );
}
