import { useEffect, useState } from "react";
import type { Notice } from "../../components/ActionResult";

/** How long a success or info banner stays. */
const NOTICE_MS = 8_000;

/**
 * The console's banner. Success and info banners go after a while; errors, warnings and
 * banners that follow an action's lifecycle stay until dismissed.
 */
export function useNotice() {
  const [notice, setNotice] = useState<Notice | null>(null);
  useEffect(() => {
    if (!notice || notice.tone === "error" || notice.tone === "warning" || notice.action) return;
    const t = setTimeout(() => setNotice((n) => (n === notice ? null : n)), NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice]);
  return { notice, setNotice };
}
