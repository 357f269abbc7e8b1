/** True when keys typed into `target` are text (shortcuts without Ctrl/Cmd leave them alone). */
export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
  }
  return false;
}

/** True while a modal dialog (confirmation, help, tenant form) is open. */
export function modalOpen(): boolean {
  return document.querySelector('[aria-modal="true"]') !== null;
}
