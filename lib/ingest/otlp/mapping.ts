import { invalidField } from "@/lib/api/errors";
import {
  AGGREGATION_TEMPORALITY_CUMULATIVE,
  AGGREGATION_TEMPORALITY_DELTA,
  FLAG_NO_RECORDED_VALUE,
  type OtlpAttribute,
  type OtlpHistogramDataPoint,
  type OtlpMetric,
  type OtlpMetricsRequest,
  type OtlpNumberDataPoint,
  type OtlpSummaryDataPoint,
} from "@/lib/ingest/otlp/model";
import {
  counterName,
  prometheusLabelName,
  prometheusMetricName,
} from "@/lib/ingest/otlp/names";
import type { SeriesInput } from "@/lib/ingest/series-input";
import { chooseServiceSlug } from "@/lib/ingest/service-choice";

// Maps decoded OTLP metrics to the series Vigil stores, as Prometheus does:
//
// - Gauge: one sample per data point under the metric's Prometheus name.
// - Sum: a monotonic cumulative sum is a counter and gets "_total"
//   ("http.requests" becomes http_requests_total). A non-monotonic sum keeps
//   its name. A delta sum keeps its name and stores each point's value as it
//   is: the change over that point's interval, not a running total, because
//   a running total would need state across requests, and one lost or
//   retried request would shift every later value.
// - Histogram: the series <name>_bucket{le="..."} with cumulative counts (the
//   last bucket is le="+Inf"), <name>_sum when the point has a sum, and
//   <name>_count. A delta histogram stores the counts of its interval.
// - Summary: <name>{quantile="..."}, <name>_sum and <name>_count.
// - Exponential histogram: not stored. Its points are counted as rejected,
//   and the response reports them in partialSuccess.
//
// Data point attributes become labels (names.ts). Two resource attributes
// become labels too, so that two hosts or instances of a service do not
// write to one series. service.instance.id becomes the label "instance" and
// host.name the label "host", unless a point attribute of that name exists.
// Other resource attributes are not stored.
//
// Points flagged "no recorded value" are skipped and counted. Number points
// whose value is NaN or infinite are not stored and count as rejected data
// points. A NaN or infinite histogram sum or quantile value skips that one
// sample, and the rest of the point is stored.

/** Sources of the service of each series, in order of precedence. */
export type ServiceSelection = {
  /** Slug from ?service=, which wins over everything else. */
  query: string | null;
  /** Whether the API token is bound to one service, which wins next. */
  tokenBound: boolean;
};

/** The series of one request and what was left out of them. */
export type MappedRequest = {
  series: SeriesInput[];
  /** Data points in the request, of every type. */
  dataPoints: number;
  /** Data points of which nothing is stored (see the file header). */
  rejectedDataPoints: number;
  /** Exponential histogram data points, part of rejectedDataPoints. */
  exponentialHistogramPoints: number;
  /** Names of the exponential histogram metrics, without repeats. */
  exponentialHistogramMetrics: string[];
  /** Number points with NaN or infinite values, part of rejectedDataPoints. */
  nonFiniteNumberPoints: number;
  /** Histogram sums and summary values that were NaN or infinite. */
  nonFiniteSamples: number;
  /** Points flagged "no recorded value", which are skipped on purpose. */
  noRecordedValuePoints: number;
};

/** Resource attributes that become labels, and their label names. */
const RESOURCE_LABELS: ReadonlyArray<[attribute: string, label: string]> = [
  ["service.instance.id", "instance"],
  ["host.name", "host"],
];

const SERVICE_NAME = "service.name";
const INF_BOUND = "+Inf";

function fail(path: string, message: string): never {
  throw invalidField(path, `${path} ${message}`);
}

/** The service of a series and the request field it was taken from. */
type ServiceChoice = { service: string | null; serviceField: string };

/** Fields that the series of one data point share. */
type PointContext = ServiceChoice & {
  timeMs: number;
  pointPath: string;
  /** Names the point's time in storeSeries errors. */
  pointField: () => string;
};

/** Context of the resource that the current series belong to. */
type ResourceContext = {
  /** Value of service.name, if the resource has one. */
  serviceName: string | undefined;
  serviceNameField: string;
  /** Labels taken from resource attributes (RESOURCE_LABELS). */
  labels: [name: string, value: string][];
};

function resourceContext(
  attributes: OtlpAttribute[],
  path: string,
): ResourceContext {
  let serviceName: string | undefined;
  let serviceNameField = `${path}.resource.attributes`;
  const labels: [string, string][] = [];
  attributes.forEach((attribute, i) => {
    if (attribute.key === SERVICE_NAME) {
      serviceName = attribute.value;
      serviceNameField = `${path}.resource.attributes[${i}]`;
    }
    for (const [key, label] of RESOURCE_LABELS) {
      if (attribute.key === key) labels.push([label, attribute.value]);
    }
  });
  return { serviceName, serviceNameField, labels };
}

/**
 * Label names by attribute key. Keys repeat on every point of a request and
 * across requests, so the sanitised name is worked out once per key. Past
 * LABEL_NAME_CACHE_LIMIT keys the cache starts over.
 */
const labelNameCache = new Map<string, string>();
const LABEL_NAME_CACHE_LIMIT = 10_000;

function labelNameOf(key: string): string {
  let name = labelNameCache.get(key);
  if (name === undefined) {
    name = prometheusLabelName(key);
    if (labelNameCache.size >= LABEL_NAME_CACHE_LIMIT) labelNameCache.clear();
    labelNameCache.set(key, name);
  }
  return name;
}

/**
 * Builds the labels of a data point from its attributes and the resource.
 * Attributes whose names collide after sanitising ("http.method" and
 * "http_method") are joined with ";" in the order they arrive, as the
 * Prometheus OTLP translator does.
 */
function labelsOf(
  attributes: OtlpAttribute[],
  resource: ResourceContext,
  pointPath: string,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < attributes.length; i += 1) {
    const attribute = attributes[i]!;
    const name = labelNameOf(attribute.key);
    if (name === "") {
      fail(`${pointPath}.attributes[${i}].key`, "must not be empty");
    }
    labels[name] = Object.hasOwn(labels, name)
      ? `${labels[name]};${attribute.value}`
      : attribute.value;
  }
  for (const [name, value] of resource.labels) {
    if (!Object.hasOwn(labels, name)) labels[name] = value;
  }
  return labels;
}

function checkTemporality(temporality: number, path: string): void {
  if (
    temporality !== AGGREGATION_TEMPORALITY_DELTA &&
    temporality !== AGGREGATION_TEMPORALITY_CUMULATIVE
  ) {
    fail(
      `${path}.aggregationTemporality`,
      "must be AGGREGATION_TEMPORALITY_DELTA (1) or " +
        `AGGREGATION_TEMPORALITY_CUMULATIVE (2), got ${temporality}`,
    );
  }
}

function checkTime(timeMs: number, pointPath: string): void {
  if (timeMs <= 0) {
    fail(
      `${pointPath}.timeUnixNano`,
      "must be set to the time of the point in nanoseconds since the epoch",
    );
  }
}

class RequestMapper {
  readonly result: MappedRequest = {
    series: [],
    dataPoints: 0,
    rejectedDataPoints: 0,
    exponentialHistogramPoints: 0,
    exponentialHistogramMetrics: [],
    nonFiniteNumberPoints: 0,
    nonFiniteSamples: 0,
    noRecordedValuePoints: 0,
  };

  private readonly selection: ServiceSelection;
  private resource: ResourceContext = {
    serviceName: undefined,
    serviceNameField: "",
    labels: [],
  };

  constructor(selection: ServiceSelection) {
    this.selection = selection;
  }

  mapRequest(request: OtlpMetricsRequest): void {
    request.resourceMetrics.forEach((resourceMetrics, r) => {
      const resourcePath = `resourceMetrics[${r}]`;
      this.resource = resourceContext(resourceMetrics.attributes, resourcePath);
      resourceMetrics.scopeMetrics.forEach((scopeMetrics, s) => {
        scopeMetrics.metrics.forEach((metric, m) => {
          this.mapMetric(
            metric,
            `${resourcePath}.scopeMetrics[${s}].metrics[${m}]`,
          );
        });
      });
    });
  }

  private mapMetric(metric: OtlpMetric, path: string): void {
    if (metric.type === "none") return;
    if (metric.type === "exponentialHistogram") {
      const result = this.result;
      result.dataPoints += metric.dataPointCount;
      result.rejectedDataPoints += metric.dataPointCount;
      result.exponentialHistogramPoints += metric.dataPointCount;
      if (
        metric.dataPointCount > 0 &&
        !result.exponentialHistogramMetrics.includes(metric.name)
      ) {
        result.exponentialHistogramMetrics.push(metric.name);
      }
      return;
    }

    const name = prometheusMetricName(metric.name);
    if (name === "") fail(`${path}.name`, "must not be empty");
    const dataPath = `${path}.${metric.type}`;
    switch (metric.type) {
      case "gauge":
        this.mapNumberPoints(metric.dataPoints, name, dataPath);
        break;
      case "sum": {
        checkTemporality(metric.aggregationTemporality, dataPath);
        const counter =
          metric.isMonotonic &&
          metric.aggregationTemporality === AGGREGATION_TEMPORALITY_CUMULATIVE;
        this.mapNumberPoints(
          metric.dataPoints,
          counter ? counterName(name) : name,
          dataPath,
        );
        break;
      }
      case "histogram":
        checkTemporality(metric.aggregationTemporality, dataPath);
        metric.dataPoints.forEach((point, i) => {
          this.mapHistogramPoint(point, name, `${dataPath}.dataPoints[${i}]`);
        });
        break;
      case "summary":
        metric.dataPoints.forEach((point, i) => {
          this.mapSummaryPoint(point, name, `${dataPath}.dataPoints[${i}]`);
        });
        break;
    }
  }

  /**
   * Counts a data point and returns false when it is flagged "no recorded
   * value", which means it is to be skipped.
   */
  private countPoint(flags: number): boolean {
    this.result.dataPoints += 1;
    if ((flags & FLAG_NO_RECORDED_VALUE) !== 0) {
      this.result.noRecordedValuePoints += 1;
      return false;
    }
    return true;
  }

  /** Returns the service slug of a point and where it came from. */
  private serviceOf(
    labels: Record<string, string>,
    pointPath: string,
  ): ServiceChoice {
    const { query, tokenBound } = this.selection;
    if (query !== null) return { service: query, serviceField: "service" };
    if (tokenBound) return { service: null, serviceField: pointPath };
    const fromLabel = chooseServiceSlug(null, [labels.service]);
    if (fromLabel !== null) {
      return { service: fromLabel, serviceField: `${pointPath}.attributes` };
    }
    return {
      service: chooseServiceSlug(null, [this.resource.serviceName]),
      serviceField: this.resource.serviceNameField,
    };
  }

  /** Returns the fields that the series of one data point share. */
  private pointContext(
    timeMs: number,
    labels: Record<string, string>,
    pointPath: string,
  ): PointContext {
    const timeField = `${pointPath}.timeUnixNano`;
    return {
      timeMs,
      pointPath,
      pointField: () => timeField,
      ...this.serviceOf(labels, pointPath),
    };
  }

  /** Adds a series of one sample; a non-finite value is counted instead. */
  private addSample(
    point: PointContext,
    name: string,
    labels: Record<string, string>,
    value: number,
  ): void {
    if (!Number.isFinite(value)) {
      this.result.nonFiniteSamples += 1;
      return;
    }
    this.result.series.push({
      service: point.service,
      serviceField: point.serviceField,
      name,
      labels,
      timestamps: [point.timeMs],
      values: [value],
      field: point.pointPath,
      pointField: point.pointField,
    });
  }

  private mapNumberPoints(
    points: OtlpNumberDataPoint[],
    name: string,
    dataPath: string,
  ): void {
    for (let i = 0; i < points.length; i += 1) {
      const point = points[i]!;
      const pointPath = `${dataPath}.dataPoints[${i}]`;
      if (!this.countPoint(point.flags)) continue;
      if (point.valueType === "none") {
        fail(pointPath, "must contain asDouble or asInt");
      }
      checkTime(point.timeMs, pointPath);
      const labels = labelsOf(point.attributes, this.resource, pointPath);
      if (!Number.isFinite(point.value)) {
        this.result.nonFiniteNumberPoints += 1;
        this.result.rejectedDataPoints += 1;
        continue;
      }
      const context = this.pointContext(point.timeMs, labels, pointPath);
      this.addSample(context, name, labels, point.value);
    }
  }

  private mapHistogramPoint(
    point: OtlpHistogramDataPoint,
    name: string,
    pointPath: string,
  ): void {
    if (!this.countPoint(point.flags)) return;
    checkTime(point.timeMs, pointPath);
    const { bucketCounts, explicitBounds } = point;
    if (
      bucketCounts.length > 0 &&
      bucketCounts.length !== explicitBounds.length + 1
    ) {
      fail(
        `${pointPath}.bucketCounts`,
        `must contain one count more than explicitBounds has bounds ` +
          `(${explicitBounds.length + 1}), got ${bucketCounts.length}`,
      );
    }
    for (let i = 0; i < explicitBounds.length; i += 1) {
      const bound = explicitBounds[i]!;
      const previous = i > 0 ? explicitBounds[i - 1]! : -Infinity;
      if (!Number.isFinite(bound) || bound <= previous) {
        fail(
          `${pointPath}.explicitBounds[${i}]`,
          "must be a finite number greater than the bound before it, " +
            `got ${bound}`,
        );
      }
    }

    const labels = labelsOf(point.attributes, this.resource, pointPath);
    const context = this.pointContext(point.timeMs, labels, pointPath);
    let cumulative = 0;
    for (let i = 0; i < bucketCounts.length; i += 1) {
      cumulative += bucketCounts[i]!;
      const le =
        i < explicitBounds.length ? String(explicitBounds[i]) : INF_BOUND;
      this.addSample(context, `${name}_bucket`, { ...labels, le }, cumulative);
    }
    if (point.sum !== undefined) {
      this.addSample(context, `${name}_sum`, labels, point.sum);
    }
    this.addSample(context, `${name}_count`, labels, point.count);
  }

  private mapSummaryPoint(
    point: OtlpSummaryDataPoint,
    name: string,
    pointPath: string,
  ): void {
    if (!this.countPoint(point.flags)) return;
    checkTime(point.timeMs, pointPath);
    const labels = labelsOf(point.attributes, this.resource, pointPath);
    const context = this.pointContext(point.timeMs, labels, pointPath);
    point.quantileValues.forEach(({ quantile, value }, i) => {
      if (!(quantile >= 0 && quantile <= 1)) {
        fail(
          `${pointPath}.quantileValues[${i}].quantile`,
          `must be between 0 and 1, got ${quantile}`,
        );
      }
      const quantileLabels = { ...labels, quantile: String(quantile) };
      this.addSample(context, name, quantileLabels, value);
    });
    this.addSample(context, `${name}_sum`, labels, point.sum);
    this.addSample(context, `${name}_count`, labels, point.count);
  }
}

/**
 * Maps a decoded request to series for storeSeries, with the counts of what
 * it leaves out. Throws a 400 ApiError naming the field of the first invalid
 * metric or data point, so that a bad point rejects the whole request.
 */
export function mapMetricsRequest(
  request: OtlpMetricsRequest,
  selection: ServiceSelection,
): MappedRequest {
  const mapper = new RequestMapper(selection);
  mapper.mapRequest(request);
  return mapper.result;
}
