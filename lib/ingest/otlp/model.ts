// The parts of an OTLP ExportMetricsServiceRequest that Vigil stores, as
// both decoders (OTLP/JSON in json.ts, protobuf in protobuf.ts) produce
// them. Arrays keep the order of the request, so an index here is the index
// in the request, and error paths read the same for both encodings.
// Field names follow opentelemetry-proto 1.x, metrics/v1/metrics.proto.

/**
 * An attribute with its value already turned into label text: strings as
 * they are, booleans and integers in decimal, bytes in base64, and arrays
 * and key-value lists as JSON (see any-value.ts).
 */
export type OtlpAttribute = { key: string; value: string };

/** Bit of DataPointFlags that marks a point with no recorded value. */
export const FLAG_NO_RECORDED_VALUE = 1;

export const AGGREGATION_TEMPORALITY_UNSPECIFIED = 0;
export const AGGREGATION_TEMPORALITY_DELTA = 1;
export const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;

/** Fields every data point type has. */
type PointBase = {
  attributes: OtlpAttribute[];
  /** time_unix_nano truncated to epoch milliseconds; 0 when absent. */
  timeMs: number;
  /** DataPointFlags bits. */
  flags: number;
};

export type OtlpNumberDataPoint = PointBase & {
  /** Member of the value oneof that was set, or none. */
  valueType: "double" | "int" | "none";
  /** as_double, or as_int converted to a double, or 0 without a value. */
  value: number;
};

export type OtlpHistogramDataPoint = PointBase & {
  count: number;
  /** Absent when the sender did not record a sum (optional in the proto). */
  sum: number | undefined;
  bucketCounts: number[];
  explicitBounds: number[];
};

export type OtlpValueAtQuantile = { quantile: number; value: number };

export type OtlpSummaryDataPoint = PointBase & {
  count: number;
  sum: number;
  quantileValues: OtlpValueAtQuantile[];
};

/** A metric and the member of its data oneof that was set. */
export type OtlpMetric =
  | { name: string; type: "gauge"; dataPoints: OtlpNumberDataPoint[] }
  | {
      name: string;
      type: "sum";
      dataPoints: OtlpNumberDataPoint[];
      aggregationTemporality: number;
      isMonotonic: boolean;
    }
  | {
      name: string;
      type: "histogram";
      dataPoints: OtlpHistogramDataPoint[];
      aggregationTemporality: number;
    }
  | {
      name: string;
      type: "summary";
      dataPoints: OtlpSummaryDataPoint[];
    }
  | {
      name: string;
      /** Vigil does not store these, so only the point count is kept. */
      type: "exponentialHistogram";
      dataPointCount: number;
    }
  | {
      name: string;
      /** No data member that Vigil reads, such as a type added after 1.x. */
      type: "none";
    };

export type OtlpScopeMetrics = { metrics: OtlpMetric[] };

export type OtlpResourceMetrics = {
  /** Attributes of the resource, such as service.name. */
  attributes: OtlpAttribute[];
  scopeMetrics: OtlpScopeMetrics[];
};

export type OtlpMetricsRequest = { resourceMetrics: OtlpResourceMetrics[] };
