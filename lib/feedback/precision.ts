import type { Queryable } from "@/lib/incidents/events";

// Precision of the detector as responders judged it: of the detector
// incidents with a verdict, the share marked as real anomalies. Only the
// newest verdict of each incident counts. Incidents without a verdict are
// not counted, so the precision describes the judged incidents only.

export type PrecisionCounts = {
  /** Incidents whose newest verdict is "real". */
  real: number;
  /** Incidents whose newest verdict is "false_alarm". */
  falseAlarm: number;
  /** real / (real + falseAlarm); null when no incident has a verdict. */
  precision: number | null;
};

export type SeriesPrecision = PrecisionCounts & { seriesId: number };

export type ModelVersionPrecision = PrecisionCounts & {
  modelVersionId: number;
  seriesId: number;
  /** Version number of the model within its series. */
  version: number;
};

export type FeedbackPrecision = {
  /** One entry per series with at least one verdict, by series id. */
  series: SeriesPrecision[];
  /** One entry per model version that scored the onset of an incident with
   * a verdict, by model version id. Verdicts whose model version is
   * unknown or deleted count only in `series` and `total`. */
  modelVersions: ModelVersionPrecision[];
  total: PrecisionCounts;
};

export type PrecisionFilter = {
  /** Only verdicts on incidents of these series. */
  seriesIds?: readonly number[];
  /** Only verdicts on incidents whose onset these model versions scored. */
  modelVersionIds?: readonly number[];
};

type CountRow = {
  series_id: number;
  model_version_id: number | null;
  version: number | null;
  real: string;
  false_alarm: string;
};

function counts(real: number, falseAlarm: number): PrecisionCounts {
  const judged = real + falseAlarm;
  return { real, falseAlarm, precision: judged === 0 ? null : real / judged };
}

/**
 * Counts the newest verdict of each judged incident per series and per
 * model version, optionally only for some series or model versions.
 */
export async function feedbackPrecision(
  db: Queryable,
  filter: PrecisionFilter = {},
): Promise<FeedbackPrecision> {
  for (const [field, ids] of Object.entries(filter)) {
    if (
      ids !== undefined &&
      !(ids as readonly number[]).every(
        (id) => Number.isSafeInteger(id) && id > 0,
      )
    ) {
      throw new RangeError(`${field} must contain positive integers only`);
    }
  }

  const { rows } = await db.query<CountRow>(
    `WITH newest AS (
       SELECT DISTINCT ON (incident_id) series_id, model_version_id, verdict
         FROM incident_feedback
        WHERE ($1::int[] IS NULL OR series_id = ANY($1))
          AND ($2::int[] IS NULL OR model_version_id = ANY($2))
        ORDER BY incident_id, id DESC
     )
     SELECT n.series_id, n.model_version_id, m.version,
            count(*) FILTER (WHERE n.verdict = 'real') AS real,
            count(*) FILTER (WHERE n.verdict = 'false_alarm') AS false_alarm
       FROM newest n
       LEFT JOIN model_version m ON m.id = n.model_version_id
      GROUP BY n.series_id, n.model_version_id, m.version
      ORDER BY n.series_id, n.model_version_id NULLS FIRST`,
    [filter.seriesIds ?? null, filter.modelVersionIds ?? null],
  );

  const bySeries = new Map<number, { real: number; falseAlarm: number }>();
  const modelVersions: ModelVersionPrecision[] = [];
  let totalReal = 0;
  let totalFalseAlarm = 0;
  for (const row of rows) {
    const real = Number(row.real);
    const falseAlarm = Number(row.false_alarm);
    totalReal += real;
    totalFalseAlarm += falseAlarm;

    const seriesTotals = bySeries.get(row.series_id) ?? {
      real: 0,
      falseAlarm: 0,
    };
    seriesTotals.real += real;
    seriesTotals.falseAlarm += falseAlarm;
    bySeries.set(row.series_id, seriesTotals);

    if (row.model_version_id !== null && row.version !== null) {
      modelVersions.push({
        modelVersionId: row.model_version_id,
        seriesId: row.series_id,
        version: row.version,
        ...counts(real, falseAlarm),
      });
    }
  }

  return {
    series: [...bySeries.entries()].map(([seriesId, totals]) => ({
      seriesId,
      ...counts(totals.real, totals.falseAlarm),
    })),
    modelVersions: modelVersions.sort(
      (left, right) => left.modelVersionId - right.modelVersionId,
    ),
    total: counts(totalReal, totalFalseAlarm),
  };
}
