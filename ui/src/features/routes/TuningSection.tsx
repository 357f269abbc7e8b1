import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useId, useMemo, useRef, useState } from "react";
import { FormField } from "../../components/FormField";
import { SaveBar } from "../../components/SaveBar";
import { alertsConfigQueryOptions, queryKeys } from "../../hooks/queries";
import type { AlertsFile } from "../../ipc/bindings/AlertsFile";
import type { Rule } from "../../ipc/bindings/Rule";
import { errorMessage, saveAlertsConfig } from "../../ipc/ipc";
import { RULES, ruleLabel } from "../../lib/alerts";
import { visible } from "../../lib/format";
import {
  emptyExclusion,
  emptyNetwork,
  emptyScope,
  type ListName,
  MAX_MERGE_MINUTES,
  type TuningDraft,
  type TuningErrors,
  tuningDraftOf,
  tuningOf,
  validateTuning,
} from "./tuning";

type Item = { key: number };

/** The test id prefix of each list's items: `tuning-<prefix>`, `tuning-<prefix>-<field>`. */
const ITEM_TEST_IDS: Record<ListName, string> = {
  networks: "network",
  exclusions: "exclusion",
  scopes: "scope",
};

function TuningForm({ stored }: { stored: AlertsFile }) {
  const qc = useQueryClient();
  const ids = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const base = useMemo(() => tuningDraftOf(stored), [stored]);
  /** Null: nothing changed, the form follows what is stored. */
  const [edits, setEdits] = useState<TuningDraft | null>(null);
  const [errors, setErrors] = useState<TuningErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (!saved) return;
    const t = setTimeout(() => setSaved(false), 6_000);
    return () => clearTimeout(t);
  }, [saved]);

  const draft = edits ?? base;
  const dirty = edits !== null;

  const change = (update: (d: TuningDraft) => TuningDraft, errorKey?: string) => {
    setEdits((e) => update(e ?? base));
    setSaved(false);
    setError(null);
    if (errorKey && errors[errorKey]) setErrors(({ [errorKey]: _, ...rest }) => rest);
  };

  /** Changes one field of one item of a list. */
  const setItem = <L extends ListName>(
    list: L,
    key: number,
    field: string,
    value: string | Rule[],
  ) =>
    change(
      (d) => ({
        ...d,
        [list]: (d[list] as Item[]).map((i) => (i.key === key ? { ...i, [field]: value } : i)),
      }),
      `${list}.${key}.${field}`,
    );

  const addItem = (list: ListName) => {
    const item =
      list === "networks"
        ? emptyNetwork()
        : list === "exclusions"
          ? emptyExclusion()
          : emptyScope();
    change((d) => ({ ...d, [list]: [...d[list], item] }));
    // Focus the new item's first field once it is drawn.
    setTimeout(() =>
      formRef.current
        ?.querySelector<HTMLElement>(`[data-item="${list}.${item.key}"] input`)
        ?.focus(),
    );
  };

  const removeItem = (list: ListName, key: number) =>
    change((d) => ({ ...d, [list]: (d[list] as Item[]).filter((i) => i.key !== key) }));

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || !dirty) return;
    setError(null);
    setSaved(false);
    const found = validateTuning(draft);
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first) {
      formRef.current?.querySelector<HTMLElement>(`[data-field="${first}"]`)?.focus();
      return;
    }
    setBusy(true);
    try {
      // The routes as last stored (their section may have saved since).
      const current = qc.getQueryData<AlertsFile>(queryKeys.alertsConfig) ?? stored;
      const result = await saveAlertsConfig({ ...current, ...tuningOf(draft) });
      qc.setQueryData(queryKeys.alertsConfig, result);
      if (!alive.current) return;
      setEdits(null);
      setSaved(true);
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  const onRevert = () => {
    setEdits(null);
    setErrors({});
    setError(null);
    setSaved(false);
  };

  /** A text field of an item of a list. */
  const itemText = <L extends ListName>(
    list: L,
    item: TuningDraft[L][number],
    name: string,
    label: string,
    placeholder?: string,
    help?: ReactNode,
  ) => {
    const key = `${list}.${item.key}.${name}`;
    return (
      <FormField
        id={`${ids}-${key}`}
        field={key}
        testId={`tuning-${ITEM_TEST_IDS[list]}-${name}`}
        label={label}
        hint={help}
        error={errors[key]}
      >
        {(p) => (
          <input
            {...p}
            type="text"
            value={String((item as Record<string, unknown>)[name] ?? "")}
            placeholder={placeholder}
            onChange={(e) => setItem(list, item.key, name, e.target.value)}
            spellCheck={false}
            autoComplete="off"
          />
        )}
      </FormField>
    );
  };

  /** Checkboxes of the rules (a multi-select); none picked means what `noneMeans` says. */
  const rulePicks = (
    list: "exclusions" | "scopes",
    key: number,
    name: "rules" | "off",
    legend: string,
    picked: readonly Rule[],
    noneMeans: string,
  ) => (
    <fieldset className="rule-picks" data-testid={`tuning-${ITEM_TEST_IDS[list]}-${name}`}>
      <legend>
        {legend} <span className="field-help">({noneMeans})</span>
      </legend>
      {RULES.map((r) => (
        <label key={r} className="toggle">
          <input
            type="checkbox"
            data-testid={`tuning-${ITEM_TEST_IDS[list]}-rule`}
            data-rule={r}
            checked={picked.includes(r)}
            onChange={(e) =>
              setItem(
                list,
                key,
                name,
                e.target.checked
                  ? RULES.filter((x) => x === r || picked.includes(x))
                  : picked.filter((x) => x !== r),
              )
            }
          />
          <span>{ruleLabel(r)}</span>
        </label>
      ))}
    </fieldset>
  );

  const itemBox = (list: ListName, key: number, title: string, children: ReactNode) => (
    <fieldset
      key={key}
      className="tuning-item"
      data-testid={`tuning-${ITEM_TEST_IDS[list]}`}
      data-item={`${list}.${key}`}
    >
      <legend>{title}</legend>
      <div className="tuning-fields">{children}</div>
      <div className="settings-actions">
        <button
          type="button"
          className="button small danger-outline"
          data-testid={`tuning-${ITEM_TEST_IDS[list]}-remove`}
          onClick={() => removeItem(list, key)}
        >
          Remove
        </button>
      </div>
    </fieldset>
  );

  const addButton = (list: ListName, label: string) => (
    <div className="settings-actions">
      <button
        type="button"
        className="button small"
        data-testid={`tuning-${ITEM_TEST_IDS[list]}-add`}
        onClick={() => addItem(list)}
      >
        {label}
      </button>
    </div>
  );

  return (
    <form
      ref={formRef}
      className="tuning-form"
      onSubmit={(e) => void onSubmit(e)}
      noValidate
      aria-label="Alert tuning"
    >
      <FormField
        id={`${ids}-merge_minutes`}
        field="merge_minutes"
        testId="tuning-merge-minutes"
        label="Merge a user's alerts within (minutes)"
        hint="A user's new alert within this many minutes of an earlier one adds to it instead of alerting again. 0: off."
        error={errors.merge_minutes}
      >
        {(p) => (
          <input
            {...p}
            type="number"
            min={0}
            max={MAX_MERGE_MINUTES}
            step={1}
            inputMode="numeric"
            value={draft.merge_minutes}
            onChange={(e) =>
              change((d) => ({ ...d, merge_minutes: e.target.value }), "merge_minutes")
            }
          />
        )}
      </FormField>

      <h4>Trusted networks</h4>
      <p className="field-help">
        VPN egress or office networks the several-networks, new-IP and impossible-travel rules
        ignore.
      </p>
      {draft.networks.length === 0 && <p className="muted">None.</p>}
      {draft.networks.map((n, i) =>
        itemBox(
          "networks",
          n.key,
          n.name.trim() ? visible(n.name.trim()) : `Network ${i + 1}`,
          <>
            {itemText("networks", n, "name", "Name", "office")}
            {itemText(
              "networks",
              n,
              "cidrs",
              "Networks (CIDR)",
              "203.0.113.0/24, 2001:db8::/32",
              "Comma separated.",
            )}
            {itemText("networks", n, "tenants", "Tenants", "every tenant")}
            {itemText("networks", n, "tags", "Tags", "production")}
          </>,
        ),
      )}
      {addButton("networks", "Add network")}

      <h4>Exclusions</h4>
      <p className="field-help">
        Silence a user's alerts (or everyone's, for some rules), with a reason. What they silence is
        still kept, marked as suppressed, in the alert centre's full list.
      </p>
      {draft.exclusions.length === 0 && <p className="muted">None.</p>}
      {draft.exclusions.map((x, i) =>
        itemBox(
          "exclusions",
          x.key,
          x.user.trim() ? visible(x.user.trim()) : `Exclusion ${i + 1}`,
          <>
            {itemText(
              "exclusions",
              x,
              "user",
              "User",
              "everyone",
              "User name, id or e-mail address.",
            )}
            {itemText("exclusions", x, "reason", "Reason", "break-glass account, checked daily")}
            {itemText(
              "exclusions",
              x,
              "until",
              "Until (optional)",
              "YYYY-MM-DD",
              "Through that day (UTC); empty: no expiry.",
            )}
            {itemText("exclusions", x, "tenants", "Tenants", "every tenant")}
            {itemText("exclusions", x, "tags", "Tags", "production")}
            {rulePicks("exclusions", x.key, "rules", "Rules", x.rules, "none: every rule")}
          </>,
        ),
      )}
      {addButton("exclusions", "Add exclusion")}

      <h4>Rules per tenant</h4>
      <p className="field-help">
        Turn rules off, or change the merge window, for some tenants or tags.
      </p>
      {draft.scopes.length === 0 && <p className="muted">None.</p>}
      {draft.scopes.map((s, i) =>
        itemBox(
          "scopes",
          s.key,
          `Scope ${i + 1}`,
          <>
            {itemText("scopes", s, "tenants", "Tenants", "every tenant")}
            {itemText("scopes", s, "tags", "Tags", "lab")}
            {itemText("scopes", s, "merge_minutes", "Merge window (minutes)", "the general one")}
            {rulePicks("scopes", s.key, "off", "Rules off", s.off, "none: all stay on")}
          </>,
        ),
      )}
      {addButton("scopes", "Add scope")}

      {error !== null && (
        <div className="form-error" role="alert" data-testid="tuning-error">
          {visible(error)}
        </div>
      )}
      <SaveBar
        label="Save tuning"
        savedText="Tuning saved"
        testIdPrefix="tuning"
        dirty={dirty}
        busy={busy}
        saved={saved}
        onRevert={onRevert}
      />
    </form>
  );
}

/** Alert tuning: merging, trusted networks, exclusions and rules per tenant (`[alerts]`). */
export function TuningSection() {
  const ids = useId();
  const configQ = useQuery(alertsConfigQueryOptions());

  let body: ReactNode;
  if (configQ.data) {
    body = <TuningForm stored={configQ.data} />;
  } else if (configQ.isError) {
    body = (
      <div className="form-error" role="alert" data-testid="tuning-load-error">
        Could not read the alert tuning: {errorMessage(configQ.error)}{" "}
        <button type="button" className="button small" onClick={() => void configQ.refetch()}>
          Try again
        </button>
      </div>
    );
  } else {
    body = (
      <p className="muted" role="status">
        <span className="spinner" aria-hidden="true" /> Loading the alert tuning…
      </p>
    );
  }

  return (
    <section
      className="settings-section tuning-section"
      data-testid="tuning-section"
      aria-labelledby={`${ids}-title`}
    >
      <h3 id={`${ids}-title`}>Alert tuning</h3>
      {body}
    </section>
  );
}
