import type { RunbookContent } from "@/lib/runbooks/content";

/** Lists a runbook's match rules; a rule left empty matches anything. */
export function RunbookRules({
  content,
  compact = false,
}: {
  content: RunbookContent;
  compact?: boolean;
}) {
  const rules: [string, string][] = [];
  if (content.services.length > 0) rules.push(["Services", content.services.join(", ")]);
  if (content.metricPattern) rules.push(["Metric", content.metricPattern]);
  if (content.alertNames.length > 0) rules.push(["Alert names", content.alertNames.join(", ")]);
  const labels = Object.entries(content.labels);
  if (labels.length > 0) {
    rules.push(["Labels", labels.map(([key, value]) => `${key}=${value}`).join(", ")]);
  }
  if (content.severities.length > 0) rules.push(["Severities", content.severities.join(", ")]);

  if (rules.length === 0) {
    return <p className="text-xs text-slate-500">No rules: suggested for any incident.</p>;
  }
  if (compact) {
    return (
      <p className="text-xs text-slate-600">
        {rules.map(([name, value]) => `${name.toLowerCase()} ${value}`).join(" · ")}
      </p>
    );
  }
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm" data-testid="runbook-rules">
      {rules.map(([name, value]) => (
        <div key={name} className="contents">
          <dt className="text-slate-500">{name}</dt>
          <dd className="font-mono text-xs text-slate-800">{value}</dd>
        </div>
      ))}
    </dl>
  );
}
