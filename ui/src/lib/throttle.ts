export type Throttled = { call: () => void; cancel: () => void };

/**
 * Runs `fn` at most once per `intervalMs`: the first call runs at once, calls
 * during the interval collapse into one trailing run at its end.
 */
export function throttle(fn: () => void, intervalMs: number): Throttled {
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  return {
    call() {
      if (timer !== null) return;
      const wait = last + intervalMs - Date.now();
      if (wait <= 0) run();
      else timer = setTimeout(run, wait);
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
