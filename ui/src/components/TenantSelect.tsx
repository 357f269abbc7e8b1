export type TenantSelectProps = {
  /** The select's `data-testid`. */
  testId: string;
  /** The tenants offered besides "All tenants". */
  tenants: string[];
  /** The chosen tenant; null: all tenants. */
  tenant: string | null;
  /** Called with the chosen tenant, or null for all tenants. */
  onChange: (tenant: string | null) => void;
};

/** A select of one tenant or all tenants. */
export function TenantSelect({ testId, tenants, tenant, onChange }: TenantSelectProps) {
  return (
    <select
      className="tenant-filter"
      data-testid={testId}
      aria-label="Tenant"
      value={tenant ?? ""}
      onChange={(e) => onChange(e.target.value === "" ? null : e.target.value)}
    >
      <option value="">All tenants</option>
      {tenants.map((t) => (
        <option key={t} value={t}>
          {t}
        </option>
      ))}
    </select>
  );
}
