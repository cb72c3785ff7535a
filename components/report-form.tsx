"use client";

import {
  DateRangePicker,
  MultiSelect,
  MultiSelectItem,
  Select,
  SelectItem,
  type DateRangePickerValue,
} from "@tremor/react";
import { usePathname, useRouter } from "next/navigation";

import {
  REPORT_PRESET_KEYS,
  REPORT_PRESETS,
  reportQueryString,
  type ReportLinkParams,
  type ReportPreset,
} from "@/lib/reports/presets";

const CUSTOM = "custom";
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Formats the local calendar day of a picked date as YYYY-MM-DD. */
function dayString(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, "0");
  const day = String(date.getDate()).padStart(2, "0");
  return `${date.getFullYear()}-${month}-${day}`;
}

/** Reads the date part of an ISO date or time as a local calendar day for the picker. */
function pickerDay(text: string, offsetDays = 0): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return undefined;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + offsetDays);
}

/**
 * Period, service and team pickers of the /reports page. Each change loads
 * the page with the new selection in the URL. Custom periods are whole UTC
 * days, and the picked end day is included. The report covers the picked
 * services and every service of the picked teams.
 */
export function ReportForm({
  services,
  teams = [],
  selection,
}: {
  services: { slug: string; name: string }[];
  teams?: { slug: string; name: string }[];
  selection: ReportLinkParams;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const period = "range" in selection ? selection.range : CUSTOM;

  function go(next: ReportLinkParams) {
    router.push(`${pathname}?${reportQueryString(next)}`);
  }

  function onPeriodChange(value: string) {
    if (value === CUSTOM) {
      const today = new Date();
      go({
        from: dayString(new Date(today.getTime() - 6 * DAY_MS)),
        to: dayString(today),
        services: selection.services,
        teams: selection.teams,
      });
    } else {
      go({ range: value as ReportPreset, services: selection.services, teams: selection.teams });
    }
  }

  function onDatesChange(value: DateRangePickerValue) {
    if (!value.from || !value.to) return;
    // A date as `to` includes that day, as on the dashboard.
    go({
      from: dayString(value.from),
      to: dayString(value.to),
      services: selection.services,
      teams: selection.teams,
    });
  }

  return (
    <div className="flex flex-wrap items-end gap-4">
      <label className="flex flex-col gap-1 text-sm text-slate-600">
        Period
        <Select
          value={period}
          onValueChange={onPeriodChange}
          enableClear={false}
          className="w-44"
          aria-label="Period"
        >
          {[
            ...REPORT_PRESET_KEYS.map((key) => (
              <SelectItem key={key} value={key}>
                {REPORT_PRESETS[key].label}
              </SelectItem>
            )),
            <SelectItem key={CUSTOM} value={CUSTOM}>
              Custom dates (UTC)
            </SelectItem>,
          ]}
        </Select>
      </label>
      {!("range" in selection) && (
        <label className="flex flex-col gap-1 text-sm text-slate-600">
          Dates
          <DateRangePicker
            value={{ from: pickerDay(selection.from), to: pickerDay(selection.to, DATE_ONLY.test(selection.to) ? 0 : -1) }}
            onValueChange={onDatesChange}
            enableSelect={false}
            enableClear={false}
            weekStartsOn={1}
            className="w-72"
            aria-label="Dates"
          />
        </label>
      )}
      <label className="flex flex-col gap-1 text-sm text-slate-600">
        Services
        <MultiSelect
          value={selection.services}
          onValueChange={(slugs) => go({ ...selection, services: slugs })}
          placeholder="All services"
          className="w-72"
          aria-label="Services"
        >
          {services.map((service) => (
            <MultiSelectItem key={service.slug} value={service.slug}>
              {service.name}
            </MultiSelectItem>
          ))}
        </MultiSelect>
      </label>
      {teams.length > 0 && (
        <label className="flex flex-col gap-1 text-sm text-slate-600">
          Teams
          <MultiSelect
            value={selection.teams ?? []}
            onValueChange={(slugs) => go({ ...selection, teams: slugs })}
            placeholder="No team"
            className="w-72"
            aria-label="Teams"
          >
            {teams.map((team) => (
              <MultiSelectItem key={team.slug} value={team.slug}>
                {team.name}
              </MultiSelectItem>
            ))}
          </MultiSelect>
        </label>
      )}
    </div>
  );
}

/** Download links of the three report files for a selection. */
export function ReportDownloads({ selection }: { selection: ReportLinkParams }) {
  const query = reportQueryString(selection);
  const files = [
    { path: "reliability.pdf", label: "PDF report", testId: "download-pdf" },
    { path: "reliability.csv", label: "KPI CSV", testId: "download-reliability-csv" },
    { path: "incidents.csv", label: "Incidents CSV", testId: "download-incidents-csv" },
  ];
  return (
    <div className="flex flex-wrap gap-3">
      {files.map((file) => (
        <a
          key={file.path}
          href={`/api/v1/reports/${file.path}?${query}`}
          download
          data-testid={file.testId}
          className="inline-flex items-center rounded-tremor-default border border-indigo-500 bg-indigo-500 px-4 py-2 text-sm font-medium text-white shadow-tremor-input hover:bg-indigo-600"
        >
          Download {file.label}
        </a>
      ))}
    </div>
  );
}
