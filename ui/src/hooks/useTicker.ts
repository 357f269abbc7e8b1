import { useSyncExternalStore } from "react";

// One interval for every countdown on screen, running only while one is mounted.
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let now = Date.now();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

function snapshot(): number {
  return now;
}

/** The current time in ms, ticking every second; only the components using it re-render. */
export function useTicker(): number {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
