import { getConfig } from "@/lib/config";
import type { KpiOptions } from "@/lib/kpi/types";

/** Returns the change failure window of `options`, or the configured one. */
export function changeFailureWindowMinutes(options: KpiOptions = {}): number {
  return (
    options.changeFailureWindowMinutes ??
    getConfig().VIGIL_CHANGE_FAILURE_WINDOW_MINUTES
  );
}
