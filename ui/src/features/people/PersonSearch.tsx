import { type FormEvent, useState } from "react";

export type PersonSearchProps = {
  /** Opens the person panel for this query (trimmed, not empty). */
  onFind: (query: string) => void;
};

/** The header's person look-up: an e-mail address or user name, across every tenant. */
export function PersonSearch({ onFind }: PersonSearchProps) {
  const [text, setText] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = text.trim();
    if (q !== "") onFind(q);
  };
  return (
    <form className="person-search" aria-label="Find a person" onSubmit={submit}>
      <input
        type="search"
        data-testid="person-search"
        aria-label="Find a person by e-mail or user name"
        placeholder="Person: e-mail or user…"
        maxLength={512}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape" && text !== "") {
            e.preventDefault();
            setText("");
          }
        }}
        spellCheck={false}
        autoComplete="off"
      />
      <button
        type="submit"
        className="button"
        data-testid="person-search-go"
        disabled={text.trim() === ""}
        title="Find this person's accounts in every tenant"
      >
        Find person
      </button>
    </form>
  );
}
