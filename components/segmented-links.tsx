import Link from "next/link";

/**
 * Renders links as a segmented control and highlights the active one. The
 * links do not prefetch, so that a page that refreshes itself costs one
 * request per refresh.
 */
export function SegmentedLinks({
  label,
  options,
}: {
  label: string;
  options: { key: string; label: string; href: string; active: boolean }[];
}) {
  return (
    <nav
      aria-label={label}
      className="inline-flex max-w-full overflow-x-auto rounded-md border border-slate-200 bg-white p-0.5 shadow-sm"
    >
      {options.map((option) => (
        <Link
          key={option.key}
          href={option.href}
          prefetch={false}
          aria-current={option.active ? "true" : undefined}
          className={
            option.active
              ? "shrink-0 whitespace-nowrap rounded px-3 py-1 text-sm font-medium text-white bg-slate-900"
              : "shrink-0 whitespace-nowrap rounded px-3 py-1 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900"
          }
        >
          {option.label}
        </Link>
      ))}
    </nav>
  );
}
