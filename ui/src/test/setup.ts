import { clearMocks } from "@tauri-apps/api/mocks";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

// jsdom has no layout engine. Give elements a viewport-like size so that
// TanStack Virtual (which reads clientWidth/clientHeight of the scroll element)
// renders the rows that would be visible in an 800 px high window.
Object.defineProperty(HTMLElement.prototype, "clientHeight", {
  configurable: true,
  get: () => 600,
});
Object.defineProperty(HTMLElement.prototype, "clientWidth", {
  configurable: true,
  get: () => 1280,
});
Object.defineProperty(HTMLElement.prototype, "offsetHeight", {
  configurable: true,
  get: () => 32,
});
if (!Element.prototype.scrollTo) {
  Element.prototype.scrollTo = () => {};
}

afterEach(() => {
  cleanup();
  clearMocks();
  // The current view lives in location.hash; start every test on a clean URL.
  window.history.replaceState(null, "", "/");
});
