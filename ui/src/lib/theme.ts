import type { Theme } from "../ipc/bindings/Theme";

const STORAGE_KEY = "vigil.theme";

function isTheme(value: unknown): value is Theme {
  return value === "system" || value === "light" || value === "dark";
}

/**
 * Applies a theme to the page: `data-theme` on `<html>` forces light or dark (styles.css
 * reads it); without the attribute the OS decides.
 */
export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}

/** Applies and remembers the stored theme, so that the next start shows it at once. */
export function applyStoredTheme(theme: Theme): void {
  applyTheme(theme);
  try {
    if (theme === "system") localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // No storage (private mode, tests): the settings still apply once loaded.
  }
}

/** At start, before the settings are loaded: the theme of the last run. */
export function applyRememberedTheme(): void {
  try {
    const theme = localStorage.getItem(STORAGE_KEY);
    if (isTheme(theme)) applyTheme(theme);
  } catch {
    // No storage: the OS decides until the settings arrive.
  }
}
