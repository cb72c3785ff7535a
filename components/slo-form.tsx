"use client";

import { Button, Select, SelectItem, TextInput } from "@tremor/react";
import { useState, type FormEvent } from "react";

import { FeedbackLine, useApiRequest } from "@/components/api-request";
import { findSloBodyError, sloRequestBody, type SloFormValues } from "@/components/slo-form-values";

export type { SloFormValues };

// The admin form that creates or edits an SLO through /api/v1/slos, and the
// edit and delete controls of an SLO card. The server checks the role and
// every field; its error message, which names the field, is shown as is.

function Field({ label, htmlFor, children }: { label: string; htmlFor: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <label htmlFor={htmlFor} className="mb-1 block text-xs font-medium text-slate-600">
        {label}
      </label>
      {children}
    </div>
  );
}

/** Creates an SLO, or edits SLO `id` when given. */
export function SloForm({
  id,
  services,
  initial,
  onDone,
}: {
  id?: number;
  services: Array<{ slug: string; name: string }>;
  initial: SloFormValues;
  onDone?: () => void;
}) {
  const [values, setValues] = useState<SloFormValues>(initial);
  const [invalid, setInvalid] = useState<string | null>(null);
  const { send, pending, feedback } = useApiRequest();
  const prefix = id === undefined ? "slo-new" : `slo-${id}`;
  const set = <K extends keyof SloFormValues>(key: K, value: SloFormValues[K]) =>
    setValues((current) => ({ ...current, [key]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    // The same bounds as the API, so a bad value is named before any request.
    const body = sloRequestBody(values);
    const error = findSloBodyError(body);
    setInvalid(error);
    if (error !== null) return;
    const ok = await send(
      id === undefined ? "POST" : "PATCH",
      id === undefined ? "/api/v1/slos" : `/api/v1/slos/${id}`,
      body,
      {
        ok: (body) => (id === undefined ? `Created SLO ${body.slo.name}.` : `Saved SLO ${body.slo.name}.`),
        failed: "The SLO was not saved.",
      },
    );
    if (ok && id === undefined) setValues({ ...initial });
    if (ok) onDone?.();
  }

  // Text inputs with a numeric keyboard: the API checks the numbers and
  // names the field, where a number input would drop what it cannot parse.
  const number = (key: keyof SloFormValues, label: string) => (
    <Field label={label} htmlFor={`${prefix}-${key}`}>
      <TextInput
        id={`${prefix}-${key}`}
        name={key}
        inputMode="decimal"
        value={values[key]}
        onValueChange={(value) => set(key, value)}
      />
    </Field>
  );

  return (
    <form onSubmit={submit} noValidate className="space-y-3" aria-label={id === undefined ? "New SLO" : "Edit SLO"}>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <Field label="Service" htmlFor={`${prefix}-service`}>
          <Select
            id={`${prefix}-service`}
            value={values.service}
            onValueChange={(value) => set("service", value)}
            enableClear={false}
          >
            {services.map((service) => (
              <SelectItem key={service.slug} value={service.slug}>
                {service.name}
              </SelectItem>
            ))}
          </Select>
        </Field>
        <Field label="Name" htmlFor={`${prefix}-name`}>
          <TextInput
            id={`${prefix}-name`}
            name="name"
            value={values.name}
            onValueChange={(value) => set("name", value)}
            placeholder="checkout requests succeed"
          />
        </Field>
        <Field label="Kind" htmlFor={`${prefix}-kind`}>
          <Select
            id={`${prefix}-kind`}
            value={values.kind === "latency" ? "latency" : values.availabilitySource}
            onValueChange={(value) => {
              if (value === "latency") set("kind", "latency");
              else {
                set("kind", "availability");
                set("availabilitySource", value as "requests" | "incidents");
              }
            }}
            enableClear={false}
          >
            <SelectItem value="requests">Availability from requests</SelectItem>
            <SelectItem value="incidents">Availability from incidents</SelectItem>
            <SelectItem value="latency">Latency under a threshold</SelectItem>
          </Select>
        </Field>
        {number("targetPercent", "Target (%)")}
        {number("windowDays", "Window (days)")}
        {values.kind === "latency" && (
          <>
            <Field label="Latency metric" htmlFor={`${prefix}-latencyMetric`}>
              <TextInput
                id={`${prefix}-latencyMetric`}
                name="latencyMetric"
                value={values.latencyMetric}
                onValueChange={(value) => set("latencyMetric", value)}
                placeholder="latency_p99_ms"
              />
            </Field>
            {number("latencyThreshold", "Threshold (series unit)")}
          </>
        )}
      </div>
      <details className="text-sm">
        <summary className="cursor-pointer text-slate-600">Burn-rate alerts</summary>
        <div className="mt-2 grid grid-cols-1 gap-3 sm:grid-cols-3">
          {number("fastBurnRate", "Fast burn rate")}
          {number("fastLongMinutes", "Fast long window (min)")}
          {number("fastShortMinutes", "Fast short window (min)")}
          {number("slowBurnRate", "Slow burn rate")}
          {number("slowLongMinutes", "Slow long window (min)")}
          {number("slowShortMinutes", "Slow short window (min)")}
        </div>
      </details>
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" size="xs" loading={pending} disabled={pending}>
          {id === undefined ? "Create SLO" : "Save SLO"}
        </Button>
        <FeedbackLine feedback={invalid === null ? feedback : { tone: "error", text: invalid }} />
      </div>
    </form>
  );
}

/** Edit and delete controls of one SLO card, for admins. */
export function SloAdminActions({
  id,
  services,
  initial,
}: {
  id: number;
  services: Array<{ slug: string; name: string }>;
  initial: SloFormValues;
}) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const { send, pending, feedback } = useApiRequest();
  return (
    <div className="mt-3 border-t border-slate-100 pt-3">
      <div className="flex flex-wrap items-center gap-2">
        <Button size="xs" variant="secondary" onClick={() => setEditing(!editing)}>
          {editing ? "Close editor" : "Edit"}
        </Button>
        {confirming ? (
          <>
            <Button
              size="xs"
              color="rose"
              loading={pending}
              onClick={() =>
                send("DELETE", `/api/v1/slos/${id}`, undefined, {
                  ok: () => "Deleted the SLO.",
                  failed: "The SLO was not deleted.",
                })
              }
            >
              Confirm delete
            </Button>
            <Button size="xs" variant="light" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
          </>
        ) : (
          <Button size="xs" variant="light" color="rose" onClick={() => setConfirming(true)}>
            Delete
          </Button>
        )}
        <FeedbackLine feedback={feedback} />
      </div>
      {editing && (
        <div className="mt-3">
          <SloForm id={id} services={services} initial={initial} onDone={() => setEditing(false)} />
        </div>
      )}
    </div>
  );
}
