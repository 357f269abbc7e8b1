import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useCallback, useRef, useState } from "react";
import type { Notice } from "../../components/ActionResult";
import {
  appStatusQueryOptions,
  type BaseQuery,
  invalidateAll,
  queryKeys,
} from "../../hooks/queries";
import type { ExportFormat } from "../../ipc/bindings/ExportFormat";
import { errorMessage, exportSessions, refresh, setPaused } from "../../ipc/ipc";
import { plural } from "../../lib/format";
import { MAX_WINDOW } from "./console";
import type { ExportToast } from "./ExportToasts";

/** The console's commands besides actions: refresh now, pause polling, export. */
export function useConsoleCommands(
  baseRef: RefObject<BaseQuery>,
  setNotice: (notice: Notice) => void,
) {
  const qc = useQueryClient();

  const refreshMutation = useMutation({
    mutationFn: refresh,
    onSuccess: () => void invalidateAll(qc),
    onError: (err) => setNotice({ tone: "error", title: `Refresh failed: ${errorMessage(err)}` }),
  });
  const doRefresh = useCallback(() => {
    if (!refreshMutation.isPending) refreshMutation.mutate();
  }, [refreshMutation]);

  // Polling can be paused here or from the tray (`app://status` refetches the status).
  const statusQ = useQuery(appStatusQueryOptions());
  const pauseMutation = useMutation({
    mutationFn: (paused: boolean) => setPaused(paused),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.appStatus }),
    onError: (err, paused) =>
      setNotice({
        tone: "error",
        title: `Could not ${paused ? "pause" : "resume"} polling: ${errorMessage(err)}`,
      }),
  });

  // Every filtered session, in the table's order, to a file in Downloads.
  const [toasts, setToasts] = useState<ExportToast[]>([]);
  const toastKey = useRef(0);
  const dismissToast = useCallback(
    (key: number) => setToasts((prev) => prev.filter((t) => t.key !== key)),
    [],
  );
  const exportMutation = useMutation({
    mutationFn: (format: ExportFormat) =>
      exportSessions({ ...baseRef.current, offset: 0, limit: MAX_WINDOW }, format),
    onSuccess: (result, format) => {
      toastKey.current += 1;
      const key = toastKey.current;
      setToasts((prev) => [
        ...prev.slice(-2),
        {
          key,
          text: `Exported ${plural(result.rows, "session")} as ${format.toUpperCase()}`,
          path: result.path,
        },
      ]);
    },
    onError: (err) => setNotice({ tone: "error", title: `Export failed: ${errorMessage(err)}` }),
  });

  return {
    doRefresh,
    refreshing: refreshMutation.isPending,
    /** Polling is paused; undefined while unknown. */
    paused: statusQ.data?.paused,
    setPaused: pauseMutation.mutate,
    pausing: pauseMutation.isPending,
    exportAs: exportMutation.mutate,
    exporting: exportMutation.isPending,
    toasts,
    dismissToast,
  };
}
