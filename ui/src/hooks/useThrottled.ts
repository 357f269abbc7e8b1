import { useEffect, useMemo, useRef } from "react";
import { throttle } from "../lib/throttle";

/**
 * `fn` throttled to once per `intervalMs` (see `throttle`); the latest `fn` runs. A trailing
 * run still pending when the component unmounts is cancelled.
 */
export function useThrottled(fn: () => void, intervalMs: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const throttled = useMemo(() => throttle(() => latest.current(), intervalMs), [intervalMs]);
  useEffect(() => () => throttled.cancel(), [throttled]);
  return throttled.call;
}
