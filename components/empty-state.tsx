import type { ReactNode } from "react";

/** Renders the placeholder of a section with no data yet: what is missing and how to get it. */
export function EmptyState({
  title,
  children,
  icon,
}: {
  title: string;
  children?: ReactNode;
  icon?: ReactNode;
}) {
  return (
    <div
      className="flex flex-col items-center justify-center rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center"
      data-testid="empty-state"
    >
      {icon && <div className="mb-3 text-slate-400">{icon}</div>}
      <p className="text-sm font-medium text-slate-900">{title}</p>
      {children && (
        <div className="mt-1 max-w-md text-sm text-slate-500">{children}</div>
      )}
    </div>
  );
}
