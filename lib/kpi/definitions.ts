import type { KpiName, KpiValue } from "@/lib/kpi/types";

// The one place where Vigil's KPIs are defined. Every KPI is computed in SQL
// (lib/kpi/queries.ts) over a half-open range [from, to) and, when given,
// only over the selected services. Where a KPI has no data it is null with
// a reason, never 0.

export type KpiDefinition = {
  name: KpiName;
  label: string;
  unit: KpiValue["unit"];
  /** Precise definition, for the README and the UI's help text. */
  definition: string;
  /** When the value is null instead of a number. */
  nullWhen: string;
};

export const KPI_DEFINITIONS: Record<KpiName, KpiDefinition> = {
  uptime: {
    name: "uptime",
    label: "Uptime",
    unit: "ratio",
    definition:
      "For each selected service: 1 - (length of the union of the intervals " +
      "during which a service-impacting incident of that service was open, " +
      "clipped to the range) / (length of the range). The KPI is the mean " +
      "over the selected services. An incident is open from opened_at until " +
      "resolved_at, or until the end of the range while unresolved. " +
      "Overlapping incidents count once.",
    nullWhen: "no services are selected or none exist",
  },
  mtta: {
    name: "mtta",
    label: "MTTA",
    unit: "seconds",
    definition:
      "Mean time to acknowledge, in seconds, read from the timeline. Each " +
      "trigger of an incident (its opening at opened_at, or a reopened " +
      "event) starts a cycle that lasts until the next trigger. A cycle's " +
      "time to acknowledge is its first acknowledged event minus the " +
      "trigger, at least 0. The KPI is the mean over the cycles of the " +
      "selected services whose acknowledgement lies in the range. Cycles " +
      "resolved without an acknowledgement do not count.",
    nullWhen:
      "no services are selected or none exist, or no incident was " +
      "acknowledged in the range",
  },
  mttr: {
    name: "mttr",
    label: "MTTR",
    unit: "seconds",
    definition:
      "Mean of (resolved_at - opened_at) in seconds over the incidents of " +
      "the selected services that are resolved and whose resolved_at lies " +
      "in the range, service-impacting or not. Reopening an incident clears " +
      "resolved_at, so a reopened incident counts once, when it is resolved " +
      "for the last time, measured from its original opening.",
    nullWhen:
      "no services are selected or none exist, or no incident was resolved " +
      "in the range",
  },
  incidentFrequency: {
    name: "incidentFrequency",
    label: "Incident frequency",
    unit: "per_week",
    definition:
      "Incidents of the selected services with opened_at in the range, " +
      "divided by the length of the range in weeks. 0 is a real value: " +
      "services exist and no incident opened.",
    nullWhen: "no services are selected or none exist",
  },
  deploymentFrequency: {
    name: "deploymentFrequency",
    label: "Deployment frequency",
    unit: "per_day",
    definition:
      "Deployments of the selected services with deployed_at in the range, " +
      "any status, divided by the length of the range in days. 0 is a real " +
      "value: services exist and none deployed.",
    nullWhen: "no services are selected or none exist",
  },
  errorRate: {
    name: "errorRate",
    label: "Error rate",
    unit: "ratio",
    definition:
      "Over the selected services that name both an error metric and a " +
      "request metric: the sum of the values of every point in the range " +
      "of the series named by the error metric, divided by the same sum " +
      "for the request metric. Both metrics are per-interval counts, so " +
      "summing their points gives totals for the range.",
    nullWhen:
      "no services are selected or none exist, no selected service names " +
      "both metrics, or the request sum in the range is 0 or less",
  },
  changeFailureRate: {
    name: "changeFailureRate",
    label: "Change failure rate",
    unit: "ratio",
    definition:
      "Over the successful deployments (status success) of the selected " +
      "services with deployed_at in the range: the share that an incident " +
      "of the same service followed, opened at or after deployed_at and at " +
      "most VIGIL_CHANGE_FAILURE_WINDOW_MINUTES (default 60) later. The " +
      "incident may open after the end of the range. Any incident counts, " +
      "service-impacting or not. Deployments with another status reached " +
      "no users, so they are not counted.",
    nullWhen:
      "no services are selected or none exist, or no deployment succeeded " +
      "in the range",
  },
  leadTime: {
    name: "leadTime",
    label: "Lead time for changes",
    unit: "seconds",
    definition:
      "Median of (deployed_at - commit_at) in seconds over the successful " +
      "deployments of the selected services with deployed_at in the range " +
      "that carry a commit time (commitAt). The median, because a few old " +
      "commits deployed late would dominate a mean.",
    nullWhen:
      "no services are selected or none exist, or no successful deployment " +
      "in the range carries a commit time",
  },
};

/** Reasons shown in place of a value. */
export const KPI_NULL_REASONS = {
  noServices: "no services in this selection",
  noResolvedIncident: "no incident resolved in this range",
  noAcknowledgedIncident: "no incident acknowledged in this range",
  noErrorRateMetrics:
    "no selected service defines a request metric and an error metric",
  noRequests: "no requests recorded in this range",
  noSuccessfulDeployment: "no successful deployment in this range",
  noCommitTime: "no successful deployment in this range carries a commit time",
  notStarted: "this range starts after now",
} as const;
