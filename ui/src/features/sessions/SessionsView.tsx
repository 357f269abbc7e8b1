import { type ReactNode, useCallback, useRef, useState } from "react";
import { ActionResult } from "../../components/ActionResult";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { SessionTable } from "../../components/SessionTable";
import { UserTable } from "../../components/UserTable";
import type { UserRow } from "../../ipc/bindings/UserRow";
import { errorMessage } from "../../ipc/ipc";
import { describeEnd, endButtonLabel } from "../../lib/selection";
import { PersonGroups } from "../people/PersonGroups";
import { PersonPanel } from "../people/PersonPanel";
import { personQueryOf } from "../people/people";
import { ActionToolbar } from "./ActionToolbar";
import { Cards } from "./Cards";
import { ExportToasts } from "./ExportToasts";
import { FilterPanel } from "./FilterPanel";
import { Header } from "./Header";
import { HistoryPanel } from "./HistoryPanel";
import { ListStates } from "./ListStates";
import { StatusBar } from "./StatusBar";
import { useConsoleActions } from "./useConsoleActions";
import { useConsoleCommands } from "./useConsoleCommands";
import { useConsoleData } from "./useConsoleData";
import { useConsoleSelection } from "./useConsoleSelection";
import { useConsoleShortcuts } from "./useConsoleShortcuts";
import { useConsoleState } from "./useConsoleState";
import { useNotice } from "./useNotice";
import { ViewToolbar } from "./ViewToolbar";

export type SessionsViewProps = {
  /** The console's state as URL query text (from the hash). */
  params: string;
  onParams: (params: string) => void;
  onOpenAlerts: () => void;
};

/** The session console: every tenant's active sessions (or users), filtered, and the actions. */
export function SessionsView({ params, onParams, onOpenAlerts }: SessionsViewProps) {
  const c = useConsoleState(params, onParams);
  const { mode, f, setFilter, setFiltersOpen } = c;
  const { notice, setNotice } = useNotice();
  const data = useConsoleData({
    mode,
    f,
    base: c.base,
    userBase: c.userBase,
    clientErrors: c.clientErrors,
    filtersActive: c.filtersActive,
    setFiltersOpen,
  });
  const { active, rowsTotal, serverError, serverField, summaryTenants, scope } = data;
  const sel = useConsoleSelection({
    mode,
    base: c.base,
    userBase: c.userBase,
    listKey: c.listKey,
    rowsTotal,
    setNotice,
  });
  const actions = useConsoleActions({ mode, selection: sel, cannotEnd: data.cannotEnd, setNotice });
  const commands = useConsoleCommands(c.baseRef, setNotice);

  const [historyOpen, setHistoryOpen] = useState(false);
  /** The person panel's query (null: closed). */
  const [personQuery, setPersonQuery] = useState<string | null>(null);
  const [groupByPerson, setGroupByPerson] = useState(false);
  const openPerson = useCallback(
    (u: Pick<UserRow, "email" | "username">) => setPersonQuery(personQueryOf(u)),
    [],
  );
  const toggleFilters = useCallback(() => setFiltersOpen((o) => !o), [setFiltersOpen]);

  const searchRef = useRef<HTMLInputElement>(null);
  useConsoleShortcuts({
    requestEnd: actions.requestEnd,
    selectAll: sel.selectAll,
    doRefresh: commands.doRefresh,
    clearSelection: sel.clearSelection,
    clearFilters: c.clearFilters,
    setMode: c.setMode,
    mode,
    toggleFilters,
    searchRef,
    dialogOpen:
      actions.pendingEnd !== null ||
      actions.pendingPlan !== null ||
      historyOpen ||
      personQuery !== null,
  });

  const { sessions, users, onlyUser } = sel;
  const { pendingEnd, pendingPlan } = actions;
  let table: ReactNode;
  if (mode === "sessions") {
    table = (
      <SessionTable
        base={c.base}
        total={data.total}
        selection={sessions.selection}
        allSelected={sel.allSelected}
        focusIndex={sessions.focusIndex}
        onFocusIndex={sessions.setFocusIndex}
        sort={c.sort}
        onSort={c.onSort}
        layout={c.layout}
        onLayout={c.setLayout}
        filtered={c.filtered}
        stale={data.stale}
        signInLog={data.signInLog}
        onRowClick={sessions.onRowClick}
        onToggleAll={sel.onToggleAll}
        onOpenPerson={openPerson}
      />
    );
  } else if (groupByPerson) {
    table = (
      <PersonGroups
        base={c.userBase}
        total={data.userTotal}
        selection={users.selection}
        stale={data.stale}
        onRowClick={users.onRowClick}
        onForceLogout={actions.forceLogout}
        onOpenPerson={setPersonQuery}
      />
    );
  } else {
    table = (
      <UserTable
        base={c.userBase}
        sessionBase={c.base}
        total={data.userTotal}
        selection={users.selection}
        allSelected={sel.allSelected}
        onToggleAll={sel.onToggleAll}
        focusIndex={users.focusIndex}
        onFocusIndex={users.setFocusIndex}
        sort={c.userSort}
        onSort={c.onUserSort}
        expanded={sel.expanded}
        onToggleExpand={sel.toggleExpand}
        stale={data.stale}
        onRowClick={users.onRowClick}
        onForceLogout={actions.forceLogout}
        onEndSession={actions.endOne}
        onOpenPerson={openPerson}
      />
    );
  }

  return (
    <div className="app">
      <Header
        search={f.search}
        searchRef={searchRef}
        searchError={data.errors.search}
        onSearch={(search) => setFilter({ search })}
        tenants={data.tenantNames}
        selectedTenants={f.tenants}
        onTenants={(tenants) => setFilter({ tenants })}
        superuserOnly={f.superuser_only}
        onSuperuserOnly={(superuser_only) => setFilter({ superuser_only })}
        onRefresh={commands.doRefresh}
        refreshing={commands.refreshing}
        paused={commands.paused}
        onPaused={commands.setPaused}
        pausing={commands.pausing}
        onFindPerson={setPersonQuery}
      />
      <Cards
        counts={data.cardCounts}
        openAlerts={data.scopeAlerts}
        scope={scope}
        superuserOnly={f.superuser_only}
        onToggleSuperusers={c.toggleSuperusers}
        mode={mode}
        onMode={c.setMode}
        onOpenAlerts={onOpenAlerts}
        tenants={summaryTenants}
        alertsByTenant={data.alertsByTenant}
        onTenant={c.toggleTenant}
      />
      {data.summaryQ.isError && (
        <div className="inline-error" role="alert" data-testid="summary-error">
          Could not load the summary: {errorMessage(data.summaryQ.error)}
        </div>
      )}
      <ViewToolbar
        mode={mode}
        onMode={c.setMode}
        groupByPerson={groupByPerson}
        onGroupByPerson={setGroupByPerson}
        countText={data.countText}
        staleError={
          active.isError && active.data && serverError === null ? errorMessage(active.error) : null
        }
        filterError={serverError !== null && serverField === null ? serverError : null}
        panelCount={c.panelCount}
        filtersOpen={c.filtersOpen}
        onToggleFilters={toggleFilters}
        canClearFilters={c.typedFilterActive}
        onClearFilters={c.clearFilters}
        layout={c.layout}
        onLayout={c.setLayout}
        onResetLayout={c.resetLayout}
        exporting={commands.exporting}
        onExport={commands.exportAs}
      />
      {c.filtersOpen && (
        <FilterPanel
          filter={f}
          onChange={setFilter}
          errors={data.errors}
          facets={data.facets}
          tenantNames={data.tenantNames}
        />
      )}
      <ActionToolbar
        noun={mode === "sessions" ? "session" : "user"}
        rowsTotal={rowsTotal}
        selecting={sel.selecting}
        onSelectAll={() => void sel.selectAll()}
        selectedCount={sel.selectedCount}
        bulkTotal={
          sel.bulk && mode === "sessions" && sel.bulk.total > sessions.selection.size
            ? sel.bulk.total
            : null
        }
        onClearSelection={sel.clearSelection}
        canEnd={mode === "sessions"}
        ending={actions.endPending}
        onEnd={actions.requestEnd}
        busy={actions.busy}
        onUserAction={actions.requestUserAction}
        canShowHistory={onlyUser !== undefined}
        onHistory={() => setHistoryOpen(true)}
      />
      {notice && <ActionResult notice={notice} onDismiss={() => setNotice(null)} />}
      <main className="main">
        <ListStates
          mode={mode}
          head={active}
          serverError={serverError}
          rowsTotal={rowsTotal}
          filtersActive={c.filtersActive}
          onClearFilters={c.clearFilters}
        >
          {table}
        </ListStates>
      </main>
      <StatusBar
        tenants={summaryTenants}
        selected={scope.length === 1 ? (scope[0] ?? null) : null}
        onSelect={c.toggleTenant}
      />
      {pendingEnd && (
        <ConfirmDialog
          title="End sessions"
          message={describeEnd([...pendingEnd.sel.values()])}
          detail={[
            [...pendingEnd.sel.values()].some((s) => s.current) ||
            (pendingEnd.sel === sessions.selection && sel.includesOwn)
              ? "This includes your own session: you will be signed out of that tenant."
              : "Users are signed out immediately and must log in again.",
            pendingEnd.left,
          ]
            .filter(Boolean)
            .join(" ")}
          confirmLabel={endButtonLabel(pendingEnd.sel.size)}
          busy={actions.endPending}
          onConfirm={() => actions.runEnd(pendingEnd.sel)}
          onCancel={actions.cancelEnd}
        />
      )}
      {pendingPlan && (
        <ConfirmDialog
          title={pendingPlan.title}
          message={pendingPlan.message}
          detail={pendingPlan.detail}
          confirmLabel={pendingPlan.confirmLabel}
          busy={actions.userActionPending || pendingPlan.users.length === 0}
          onConfirm={() => actions.runUserAction(pendingPlan)}
          onCancel={actions.cancelPlan}
        >
          {pendingPlan.note && (
            <p className="dialog-note" data-testid="plan-protected-note">
              {pendingPlan.note}
            </p>
          )}
        </ConfirmDialog>
      )}
      {historyOpen && onlyUser && (
        <HistoryPanel
          tenant={onlyUser.tenant}
          username={onlyUser.username}
          onClose={() => setHistoryOpen(false)}
        />
      )}
      {personQuery !== null && (
        <PersonPanel key={personQuery} query={personQuery} onClose={() => setPersonQuery(null)} />
      )}
      <ExportToasts toasts={commands.toasts} onDismiss={commands.dismissToast} />
    </div>
  );
}
