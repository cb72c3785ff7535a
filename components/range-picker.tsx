import {
  buildHref,
  formatRangeBound,
  RANGE_KEYS,
  RANGE_PRESETS,
  type RangeSelection,
} from "@/app/(dashboard)/_lib/search-params";
import { SegmentedLinks } from "@/components/segmented-links";

/**
 * Renders the range presets as links and a from/to form for a custom
 * range. The form is a plain GET form, so it works without JavaScript, and
 * `keep` carries the page's other filters (such as the service).
 */
export function RangePicker({
  path,
  selection,
  keep = {},
}: {
  path: string;
  selection: RangeSelection;
  keep?: Record<string, string | undefined>;
}) {
  const custom = selection.key === "custom";
  // Date inputs show days: `to` is exclusive, so its day is the one before.
  const fromDay = custom ? formatRangeBound(selection.from).slice(0, 10) : "";
  const toDay = custom
    ? new Date(selection.to.getTime() - 1).toISOString().slice(0, 10)
    : "";

  return (
    <div className="flex max-w-full flex-wrap items-center gap-2">
      <SegmentedLinks
        label="Time range"
        options={RANGE_KEYS.map((key) => ({
          key,
          label: RANGE_PRESETS[key].label,
          href: buildHref(path, { ...keep, range: key }),
          active: key === selection.key,
        }))}
      />
      <form
        method="get"
        action={path}
        aria-label="Custom range"
        className={`flex flex-wrap items-center gap-1.5 rounded-md border p-0.5 pl-2 text-sm shadow-sm ${
          custom ? "border-slate-900 bg-white" : "border-slate-200 bg-white"
        }`}
      >
        {Object.entries(keep).map(([name, value]) =>
          value === undefined ? null : (
            <input key={name} type="hidden" name={name} value={value} />
          ),
        )}
        <input type="hidden" name="range" value="custom" />
        <label className="flex items-center gap-1 text-slate-600">
          From
          <input
            type="date"
            name="from"
            defaultValue={fromDay}
            required
            className="rounded border-slate-200 px-1.5 py-0.5 text-sm"
          />
        </label>
        <label className="flex items-center gap-1 text-slate-600">
          to
          <input
            type="date"
            name="to"
            defaultValue={toDay}
            required
            className="rounded border-slate-200 px-1.5 py-0.5 text-sm"
          />
        </label>
        <button
          type="submit"
          className="rounded bg-slate-900 px-2.5 py-1 text-sm font-medium text-white hover:bg-slate-700"
        >
          Apply
        </button>
      </form>
    </div>
  );
}

/** Shows why the custom range in the address was not used. */
export function RangeNotice({ message }: { message: string }) {
  return (
    <p
      role="alert"
      className="mb-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800"
      data-testid="range-error"
    >
      {message}
    </p>
  );
}
