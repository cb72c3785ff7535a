// The common form every metrics receiver turns its payload into before it is
// stored: one entry per series, with the service it belongs to and its points.
// The JSON API, Prometheus remote write, Prometheus text and OTLP parsers each
// produce SeriesInput[] and hand it to storeSeries (lib/ingest/store.ts),
// which validates names, labels, timestamps and limits in one place.

export type SeriesInput = {
  /**
   * Service slug chosen by the receiver (lib/ingest/service-choice.ts), or
   * null for "the service the API token is bound to"; storeSeries rejects
   * null with a 400 naming `field` when the token is not bound.
   */
  service: string | null;
  /** Metric name in Prometheus form: [a-zA-Z_:][a-zA-Z0-9_:]*. */
  name: string;
  /** Labels without the metric name (no __name__), none starting with "__". */
  labels: Record<string, string>;
  /** Epoch milliseconds, parallel to values. */
  timestamps: number[];
  /**
   * Sample values. NaN and +/-Infinity are allowed here: storeSeries skips
   * them and counts them in the result instead of storing them.
   */
  values: number[];
  /**
   * Position of the series in the request, for error messages, such as
   * "timeseries[3]" or "line 12". Errors read "<field>.labels.host ...".
   */
  field: string;
  /**
   * Names the time of point i in errors, such as "line 14" for text formats
   * or "timeseries[3].samples[0].timestamp". Without it errors name
   * `${field}.points[i].timestamp`.
   */
  pointField?: (index: number) => string;
  /** Names the service in errors; `${field}.service` when absent. */
  serviceField?: string;
  /**
   * A string that determines name and labels exactly, such as the raw bytes
   * of remote write's label fields. storeSeries then checks the labels of
   * one identity once and reuses the result.
   */
  identity?: string;
};

/** Counts that a receiver returns to the client, and logs, for one request. */
export type StoreResult = {
  /** Distinct series in the request after merging repeats. */
  series: number;
  /** Series created by this request. */
  newSeries: number;
  /** Points stored by this request. */
  insertedPoints: number;
  /** Points already stored (same series and timestamp): a retry stores nothing twice. */
  duplicatePoints: number;
  /** NaN, +Inf and -Inf samples, which Vigil does not store. */
  skippedNonFinite: number;
  /** Slugs of the services the request wrote to, sorted. */
  services: string[];
};
