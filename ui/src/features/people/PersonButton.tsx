import { PersonIcon } from "./PersonIcon";

/** An account as the person button names it. */
export type PersonButtonUser = { username: string; tenant: string };

/** Opens the person panel for an account's user (a session row, a user row, a grouped row). */
export function PersonButton({ user, onOpen }: { user: PersonButtonUser; onOpen: () => void }) {
  return (
    <button
      type="button"
      className="icon-button person-button"
      data-testid="open-person"
      tabIndex={-1}
      aria-label={`Person: every account of ${user.username} (tenant ${user.tenant})`}
      title="Person: this user's accounts and sessions in every tenant"
      onClick={(e) => {
        e.stopPropagation();
        onOpen();
      }}
    >
      <PersonIcon />
    </button>
  );
}
