// Types shared by the KPI queries (lib/kpi) and the pages that show them.

export type KpiName =
  | "uptime"
  | "mtta"
  | "mttr"
  | "incidentFrequency"
  | "deploymentFrequency"
  | "errorRate"
  | "changeFailureRate"
  | "leadTime";

export type KpiRange = {
  from: Date;
  to: Date;
  /** Limit to these services; undefined means every service. */
  serviceIds?: number[];
};

export type KpiOptions = {
  /**
   * Minutes after a deployment within which an incident of its service
   * makes it a failed change. Defaults to VIGIL_CHANGE_FAILURE_WINDOW_MINUTES.
   */
  changeFailureWindowMinutes?: number;
  /**
   * Deployment environments that the deployment frequency, change failure
   * rate and lead time count; null counts every environment. Defaults to
   * VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS.
   */
  deploymentEnvironments?: string[] | null;
};

/**
 * One KPI over one range. value is null when the range has no data for it,
 * and reason then explains why, in words the UI can show.
 */
export type KpiValue = {
  value: number | null;
  /** "ratio" (0..1), "seconds", "per_week" or "per_day". */
  unit: "ratio" | "seconds" | "per_week" | "per_day";
  /**
   * Number of observations behind the value: incidents, acknowledgements,
   * deployments or requests.
   */
  sampleSize: number;
  reason?: string;
};

export type KpiSet = Record<KpiName, KpiValue>;

export type KpiTrendBucket = { start: Date; end: Date; kpis: KpiSet };
