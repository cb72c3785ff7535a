import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";

import { LocalTime } from "@/components/local-time";

// The content of the Alertmanager or Grafana alert that opened an incident, read
// from the data of the incident's "opened" event. Annotations are Markdown
// rendered by react-markdown, which ignores raw HTML and drops javascript:
// links, so alert text cannot inject script into the page.

type AlertData = {
  source?: string;
  receiver?: string;
  fingerprint?: string;
  startsAt?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
  values?: Record<string, number>;
  valueString?: string;
};

function stringRecord(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {};
  }
  const record: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") record[key] = entry;
  }
  return record;
}

/** Reads the alert fields of an "opened" event, or null for another event. */
export function alertFromEventData(data: unknown): AlertData | null {
  if (data === null || typeof data !== "object") return null;
  const raw = data as Record<string, unknown>;
  if (typeof raw.fingerprint !== "string") return null;
  const text = (value: unknown) =>
    typeof value === "string" && value !== "" ? value : undefined;
  const values: Record<string, number> = {};
  if (raw.values && typeof raw.values === "object") {
    for (const [key, entry] of Object.entries(raw.values)) {
      if (typeof entry === "number") values[key] = entry;
    }
  }
  return {
    source: text(raw.source),
    receiver: text(raw.receiver),
    fingerprint: raw.fingerprint,
    startsAt: text(raw.startsAt),
    labels: stringRecord(raw.labels),
    annotations: stringRecord(raw.annotations),
    generatorURL: text(raw.generatorURL),
    values: Object.keys(values).length > 0 ? values : undefined,
    valueString: text(raw.valueString),
  };
}

/** Returns the URL when it is absolute http(s), else null. */
function safeLink(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:"
      ? parsed.toString()
      : null;
  } catch {
    return null;
  }
}

/** Summary and description come first, as Alertmanager templates use them. */
const LEADING_ANNOTATIONS = ["summary", "description", "message"];

export function AlertDetails({ alert }: { alert: AlertData }) {
  const link = safeLink(alert.generatorURL);
  const annotationNames = [
    ...LEADING_ANNOTATIONS.filter((name) => name in alert.annotations),
    ...Object.keys(alert.annotations)
      .filter((name) => !LEADING_ANNOTATIONS.includes(name))
      .sort(),
  ];
  const labelNames = Object.keys(alert.labels).sort();

  return (
    <div className="space-y-4" data-testid="alert-details">
      <p className="text-sm text-slate-600">
        {alert.source === "grafana" ? "Grafana" : "Alertmanager"} reported this
        alert firing
        {alert.startsAt && (
          <>
            {" "}
            since <LocalTime value={new Date(alert.startsAt)} />
          </>
        )}
        {alert.receiver && <> to receiver {alert.receiver}</>}.
      </p>

      {annotationNames.length > 0 && (
        <dl className="space-y-3">
          {annotationNames.map((name) => (
            <div key={name}>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">
                {name}
              </dt>
              <dd className="markdown mt-1 break-words text-sm text-slate-800">
                <Markdown remarkPlugins={[remarkGfm]}>
                  {alert.annotations[name]}
                </Markdown>
              </dd>
            </div>
          ))}
        </dl>
      )}

      {(alert.values || alert.valueString) && (
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500">
            Values
          </p>
          {alert.values ? (
            <ul className="mt-1 font-mono text-xs text-slate-700">
              {Object.entries(alert.values).map(([key, value]) => (
                <li key={key}>
                  {key} = {value}
                </li>
              ))}
            </ul>
          ) : (
            <p className="mt-1 break-words font-mono text-xs text-slate-700">
              {alert.valueString}
            </p>
          )}
        </div>
      )}

      {labelNames.length > 0 && (
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500">
            Labels
          </p>
          <ul className="mt-1 flex flex-wrap gap-1.5" data-testid="alert-labels">
            {labelNames.map((name) => (
              <li
                key={name}
                className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700"
              >
                {name}={alert.labels[name]}
              </li>
            ))}
          </ul>
        </div>
      )}

      <p className="text-xs text-slate-500">
        Fingerprint <span className="font-mono">{alert.fingerprint}</span>
        {link ? (
          <>
            {" · "}
            <a
              href={link}
              className="font-medium text-indigo-600 hover:text-indigo-800"
              rel="noopener noreferrer"
              target="_blank"
            >
              Open in the alert source
            </a>
          </>
        ) : (
          alert.generatorURL && (
            <>
              {" · source "}
              <span className="break-all font-mono">{alert.generatorURL}</span>
            </>
          )
        )}
      </p>
    </div>
  );
}
