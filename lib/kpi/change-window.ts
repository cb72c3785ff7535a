import { getConfig } from "@/lib/config";
import type { KpiOptions } from "@/lib/kpi/types";

/** Returns the change failure window of `options`, or the configured one. */
export function changeFailureWindowMinutes(options: KpiOptions = {}): number {
  return (
    options.changeFailureWindowMinutes ??
    getConfig().VIGIL_CHANGE_FAILURE_WINDOW_MINUTES
  );
}

/**
 * Returns the deployment environments that the deployment KPIs count:
 * those of `options`, or VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS. null means
 * every environment.
 */
export function kpiDeploymentEnvironments(options: KpiOptions = {}): string[] | null {
  if (options.deploymentEnvironments !== undefined) return options.deploymentEnvironments;
  return getConfig().VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS;
}
