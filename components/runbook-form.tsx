"use client";

import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent, type ReactNode } from "react";
import { parse as parseYaml } from "yaml";

// The admin form that creates a runbook or stores its next version through
// the runbook API. Lists are typed comma-separated, labels one key=value
// per line, and steps as YAML in the front matter's format. The API
// validates everything again and names the field of the first problem.

export type RunbookFormValues = {
  slug: string;
  title: string;
  body: string;
  services: string;
  metricPattern: string;
  alertNames: string;
  labels: string;
  severities: string[];
  steps: string;
  automatic: boolean;
};

const SEVERITIES = ["sev1", "sev2", "sev3", "sev4"] as const;

type FormError = { field: string | null; message: string };

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

type BuiltBody = { ok: true; body: Record<string, unknown> } | { ok: false; error: FormError };

/** Builds the API body, or a FormError for text the API cannot take. */
function toRequestBody(values: RunbookFormValues, note: string): BuiltBody {
  const labels: Record<string, string> = {};
  for (const [index, line] of values.labels.split("\n").entries()) {
    if (line.trim() === "") continue;
    const separator = line.indexOf("=");
    if (separator <= 0) {
      const message = `labels line ${index + 1} must look like key=value, got "${line.trim()}"`;
      return { ok: false, error: { field: "labels", message } };
    }
    labels[line.slice(0, separator).trim()] = line.slice(separator + 1).trim();
  }

  let steps: unknown = [];
  if (values.steps.trim() !== "") {
    try {
      steps = parseYaml(values.steps);
    } catch (error) {
      const message = `steps is not valid YAML: ${(error as Error).message}`;
      return { ok: false, error: { field: "steps", message } };
    }
  }

  const body = {
    title: values.title,
    body: values.body,
    services: splitList(values.services),
    metricPattern: values.metricPattern.trim() === "" ? null : values.metricPattern.trim(),
    alertNames: splitList(values.alertNames),
    labels,
    severities: values.severities,
    steps,
    automatic: values.automatic,
    ...(note.trim() === "" ? {} : { note: note.trim() }),
  };
  return { ok: true, body };
}

/** Renders a labelled control with its hint outside the accessible name. */
function Field({
  id,
  label,
  hint,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      )}
    </div>
  );
}

export function RunbookForm({
  mode,
  initial,
}: {
  mode: "create" | "edit";
  initial: RunbookFormValues;
}) {
  const router = useRouter();
  const [values, setValues] = useState(initial);
  const [note, setNote] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<FormError | null>(null);

  function update<Key extends keyof RunbookFormValues>(key: Key, value: RunbookFormValues[Key]) {
    setValues((current) => ({ ...current, [key]: value }));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const built = toRequestBody(values, mode === "edit" ? note : "");
    if (!built.ok) {
      setError(built.error);
      return;
    }
    const body = built.body;
    setPending(true);
    setError(null);
    const slug = values.slug.trim();
    try {
      const response = await fetch(
        mode === "create" ? "/api/v1/runbooks" : `/api/v1/runbooks/${encodeURIComponent(slug)}`,
        {
          method: mode === "create" ? "POST" : "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(mode === "create" ? { slug, ...body } : body),
        },
      );
      if (!response.ok) {
        const json = (await response.json().catch(() => null)) as {
          error?: { field?: string; message?: string };
        } | null;
        setError({
          field: json?.error?.field ?? null,
          message: json?.error?.message ?? `The server returned HTTP ${response.status}.`,
        });
        return;
      }
      router.push(`/runbooks/${slug}`);
      router.refresh();
    } catch {
      setError({ field: null, message: "The server did not complete the request. Try again." });
    } finally {
      setPending(false);
    }
  }

  const input = "mt-1 block w-full rounded-md border-slate-300 text-sm";
  const fieldIs = (name: string) => error?.field?.split(/[.[]/)[0] === name;
  const invalid = (name: string) => (fieldIs(name) ? " border-rose-500" : "");
  const textProps = (name: keyof RunbookFormValues & string, hinted: boolean) => ({
    id: `runbook-${name}`,
    name,
    value: values[name] as string,
    onChange: (event: { target: { value: string } }) => update(name, event.target.value as never),
    "aria-invalid": fieldIs(name),
    "aria-describedby": hinted ? `runbook-${name}-hint` : undefined,
  });

  return (
    <form onSubmit={(event) => void submit(event)} className="space-y-4" data-testid="runbook-form" noValidate>
      {mode === "create" && (
        <Field id="runbook-slug" label="Slug" hint="Lower-case words joined by -, such as disk-full. It cannot change later.">
          <input {...textProps("slug", true)} className={input + invalid("slug")} required />
        </Field>
      )}
      <Field id="runbook-title" label="Title">
        <input {...textProps("title", false)} className={input + invalid("title")} required />
      </Field>
      <Field id="runbook-body" label="Body (Markdown)">
        <textarea {...textProps("body", false)} className={input + " font-mono" + invalid("body")} rows={14} required />
      </Field>
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
        <Field id="runbook-services" label="Services" hint="Comma-separated service slugs; empty matches any service.">
          <input {...textProps("services", true)} className={input + invalid("services")} />
        </Field>
        <Field
          id="runbook-metricPattern"
          label="Metric pattern"
          hint="Glob on the metric name (* any run, ? one character); empty matches any."
        >
          <input {...textProps("metricPattern", true)} className={input + invalid("metricPattern")} />
        </Field>
        <Field id="runbook-alertNames" label="Alert names" hint="Comma-separated globs on the alertname label; empty matches any.">
          <input {...textProps("alertNames", true)} className={input + invalid("alertNames")} />
        </Field>
        <Field id="runbook-labels" label="Labels" hint="One key=value per line that the series or alert must carry.">
          <textarea {...textProps("labels", true)} className={input + " font-mono" + invalid("labels")} rows={3} />
        </Field>
      </div>
      <fieldset aria-describedby="runbook-severities-hint">
        <legend className="block text-sm font-medium text-slate-700">Severities</legend>
        <div className="mt-1 flex flex-wrap gap-4">
          {SEVERITIES.map((severity) => (
            <label key={severity} className="flex items-center gap-1 text-sm text-slate-700">
              <input
                type="checkbox"
                name="severities"
                value={severity}
                className="rounded border-slate-300"
                checked={values.severities.includes(severity)}
                onChange={(event) =>
                  update(
                    "severities",
                    event.target.checked
                      ? [...values.severities, severity]
                      : values.severities.filter((item) => item !== severity),
                  )
                }
              />
              {severity}
            </label>
          ))}
        </div>
        <p id="runbook-severities-hint" className="mt-1 text-xs text-slate-500">
          None checked matches any severity.
        </p>
      </fieldset>
      <Field
        id="runbook-steps"
        label="Steps (YAML)"
        hint="A list of HTTP steps as in a runbook file: id, title, url, and optional method, headers, body, timeoutSeconds and retries."
      >
        <textarea {...textProps("steps", true)} className={input + " font-mono" + invalid("steps")} rows={6} />
      </Field>
      <label className="flex items-center gap-2 text-sm text-slate-700">
        <input
          type="checkbox"
          name="automatic"
          className="rounded border-slate-300"
          checked={values.automatic}
          onChange={(event) => update("automatic", event.target.checked)}
        />
        Automatic: run the steps by themselves on matching incidents
      </label>
      {mode === "edit" && (
        <Field id="runbook-note" label="Note" hint="Why this version exists, shown in the version history.">
          <input
            id="runbook-note"
            name="note"
            className={input}
            value={note}
            maxLength={500}
            aria-describedby="runbook-note-hint"
            onChange={(event) => setNote(event.target.value)}
          />
        </Field>
      )}
      {error && (
        <p className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-700" role="alert" data-testid="runbook-form-error">
          {error.message}
        </p>
      )}
      <Button type="submit" loading={pending}>
        {mode === "create" ? "Create runbook" : "Save new version"}
      </Button>
    </form>
  );
}
