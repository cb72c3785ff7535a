import type pg from "pg";

import { sloUnit, type SloUnit } from "@/lib/slo/definitions";
import { measureSlo } from "@/lib/slo/measure";
import { listSlos } from "@/lib/slo/store";

// SLO attainment over a report's period rather than each SLO's own rolling
// window, so that a report of last month shows last month. The figures
// use the same measures as the SLO page (lib/slo/measure.ts).
// NOTE: the PDF and the reports page show these rows; the CSV exports do not include them yet.

type Queryable = Pick<pg.ClientBase, "query">;

export type ReportSlo = {
  id: number;
  serviceSlug: string;
  serviceName: string;
  name: string;
  /** "availability from requests", "availability from incidents" or "latency". */
  kind: string;
  target: number;
  unit: SloUnit;
  total: number;
  bad: number;
  /** 1 - bad / total over the period; null without data. */
  attainment: number | null;
  /** 1 - bad / ((1 - target) * total); null without data. */
  budgetRemainingFraction: number | null;
  /** Whether attainment reached the target; null without data. */
  met: boolean | null;
};

function kindText(kind: string, source: string | null): string {
  if (kind === "latency") return "latency";
  return `availability from ${source}`;
}

/**
 * Measures every SLO of `serviceIds` (all services when undefined) over
 * [from, to), ordered by service slug and SLO name.
 */
export async function listSloAttainment(
  db: Queryable,
  serviceIds: number[] | undefined,
  from: Date,
  to: Date,
): Promise<ReportSlo[]> {
  const slos = await listSlos(db, serviceIds ?? null);
  const rows: ReportSlo[] = [];
  for (const slo of slos) {
    const [measure] = await measureSlo(db, slo, [{ start: from, end: to }]);
    const { total, bad } = measure!;
    const budget = (1 - slo.target) * total;
    const attainment = total > 0 ? 1 - bad / total : null;
    rows.push({
      id: slo.id,
      serviceSlug: slo.serviceSlug,
      serviceName: slo.serviceName,
      name: slo.name,
      kind: kindText(slo.kind, slo.availabilitySource),
      target: slo.target,
      unit: sloUnit(slo.kind, slo.availabilitySource),
      total,
      bad,
      attainment,
      budgetRemainingFraction: budget > 0 ? 1 - bad / budget : null,
      met: attainment === null ? null : attainment >= slo.target,
    });
  }
  return rows;
}
