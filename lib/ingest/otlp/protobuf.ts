import protobuf from "protobufjs";

import { ApiError } from "@/lib/api/errors";
import {
  beginMessage,
  endMessage,
  expectWireType,
  isWireFormatError,
  WIRE_FIXED64,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  WireFormatError,
} from "@/lib/ingest/protobuf-wire";
import {
  arrayFragment,
  doubleFragment,
  formatDouble,
  keyValueListFragment,
  stringFragment,
} from "@/lib/ingest/otlp/any-value";
import type {
  OtlpAttribute,
  OtlpHistogramDataPoint,
  OtlpMetric,
  OtlpMetricsRequest,
  OtlpNumberDataPoint,
  OtlpResourceMetrics,
  OtlpScopeMetrics,
  OtlpSummaryDataPoint,
  OtlpValueAtQuantile,
} from "@/lib/ingest/otlp/model";
import { FIELD } from "@/lib/ingest/otlp/schema";

// Decodes a protobuf ExportMetricsServiceRequest into the fields Vigil
// stores (model.ts). It walks the wire format with protobufjs's Reader
// instead of building message objects first, because the reflected decoder
// would allocate an object per attribute, exemplar and bucket and a Long per
// 64-bit field. Fields Vigil does not read (descriptions, units, scopes,
// exemplars, start times) are skipped without decoding.
//
// As protobuf requires, unknown fields are skipped, packed and unpacked
// repeated fields are both accepted, and when a oneof member appears more
// than once the last one wins (a repeated message field merges).

/** Deepest nesting of arrayValue and kvlistValue that an attribute may use. */
const MAX_ANY_VALUE_DEPTH = 32;

/** Reads a fixed64 as a double, exact below 2^53, without a Long. */
function readFixed64(reader: protobuf.Reader): number {
  const low = reader.fixed32();
  const high = reader.fixed32();
  return high * 4294967296 + low;
}

/** Reads an sfixed64 as a double, exact for magnitudes below 2^53. */
function readSfixed64(reader: protobuf.Reader): number {
  const low = reader.fixed32();
  const high = reader.fixed32() | 0;
  return high * 4294967296 + low;
}

/**
 * Reads a fixed64 time in nanoseconds as epoch milliseconds, truncated and
 * exact. A double represents today's nanoseconds since 1970 only to within
 * 256 ns, so the division is split: 2^32 = 4294 * 10^6 + 967296, which makes
 * ns / 10^6 = high * 4294 + (high * 967296 + low) / 10^6, and that last
 * numerator stays below 2^53.
 */
function readUnixNanoAsMs(reader: protobuf.Reader): number {
  const low = reader.fixed32();
  const high = reader.fixed32();
  const rest = high * 967296 + low;
  let restMs = Math.floor(rest / 1e6);
  // The rounded quotient can reach the next integer, but never fall short.
  if (restMs * 1e6 > rest) restMs -= 1;
  return high * 4294 + restMs;
}

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    "base64",
  );
}

type DataName =
  | "gauge"
  | "sum"
  | "histogram"
  | "exponentialHistogram"
  | "summary";

const DATA_NAMES = new Map<number, DataName>([
  [FIELD.metric.gauge, "gauge"],
  [FIELD.metric.sum, "sum"],
  [FIELD.metric.histogram, "histogram"],
  [FIELD.metric.exponentialHistogram, "exponentialHistogram"],
  [FIELD.metric.summary, "summary"],
]);

/** The data member of a metric while its fields are being read. */
type MetricData = {
  type: DataName | "none";
  numberPoints: OtlpNumberDataPoint[];
  histogramPoints: OtlpHistogramDataPoint[];
  summaryPoints: OtlpSummaryDataPoint[];
  exponentialPointCount: number;
  aggregationTemporality: number;
  isMonotonic: boolean;
};

function emptyData(type: MetricData["type"]): MetricData {
  return {
    type,
    numberPoints: [],
    histogramPoints: [],
    summaryPoints: [],
    exponentialPointCount: 0,
    aggregationTemporality: 0,
    isMonotonic: false,
  };
}

class MetricsRequestDecoder {
  private readonly reader: protobuf.Reader;

  // Position of the decoder, for error paths such as
  // resourceMetrics[0].scopeMetrics[1].metrics[2].sum.dataPoints[3].
  private resourceIndex = -1;
  private scopeIndex = -1;
  private metricIndex = -1;
  private dataName: DataName | null = null;
  private pointIndex = -1;

  constructor(bytes: Uint8Array) {
    this.reader = protobuf.Reader.create(bytes);
  }

  decode(): OtlpMetricsRequest {
    try {
      return this.decodeRequest();
    } catch (error) {
      if (isWireFormatError(error)) throw this.invalidProtobuf(error);
      throw error;
    }
  }

  private path(): string | undefined {
    if (this.resourceIndex < 0) return undefined;
    let path = `resourceMetrics[${this.resourceIndex}]`;
    if (this.scopeIndex < 0) return path;
    path += `.scopeMetrics[${this.scopeIndex}]`;
    if (this.metricIndex < 0) return path;
    path += `.metrics[${this.metricIndex}]`;
    if (this.dataName === null) return path;
    path += `.${this.dataName}`;
    if (this.pointIndex < 0) return path;
    return `${path}.dataPoints[${this.pointIndex}]`;
  }

  private invalidProtobuf(error: Error): ApiError {
    const field = this.path();
    const reason =
      error instanceof TypeError ? "a string is not valid UTF-8" : error.message;
    const where = field === undefined ? "" : ` in ${field}`;
    return new ApiError(
      400,
      "invalid_protobuf",
      "request body is not a valid OTLP ExportMetricsServiceRequest: " +
        `${reason}${where}, at byte ${this.reader.pos} of ` +
        `${this.reader.buf.length}`,
      field === undefined ? {} : { field },
    );
  }

  private beginMessage(): number {
    return beginMessage(this.reader);
  }

  private endMessage(outer: number): void {
    endMessage(this.reader, outer);
  }

  private decodeRequest(): OtlpMetricsRequest {
    const reader = this.reader;
    const resourceMetrics: OtlpResourceMetrics[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.request.resourceMetrics) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.resourceIndex = resourceMetrics.length;
        this.scopeIndex = -1;
        const outer = this.beginMessage();
        resourceMetrics.push(this.decodeResourceMetrics());
        this.endMessage(outer);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    return { resourceMetrics };
  }

  private decodeResourceMetrics(): OtlpResourceMetrics {
    const reader = this.reader;
    const attributes: OtlpAttribute[] = [];
    const scopeMetrics: OtlpScopeMetrics[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.resourceMetrics.resource) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        const outer = this.beginMessage();
        this.decodeResource(attributes);
        this.endMessage(outer);
      } else if (field === FIELD.resourceMetrics.scopeMetrics) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.scopeIndex = scopeMetrics.length;
        this.metricIndex = -1;
        const outer = this.beginMessage();
        scopeMetrics.push(this.decodeScopeMetrics());
        this.endMessage(outer);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.scopeIndex = -1;
    return { attributes, scopeMetrics };
  }

  private decodeResource(attributes: OtlpAttribute[]): void {
    const reader = this.reader;
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.resource.attributes) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        attributes.push(this.decodeKeyValue());
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
  }

  private decodeScopeMetrics(): OtlpScopeMetrics {
    const reader = this.reader;
    const metrics: OtlpMetric[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.scopeMetrics.metrics) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.metricIndex = metrics.length;
        this.dataName = null;
        const outer = this.beginMessage();
        metrics.push(this.decodeMetric());
        this.endMessage(outer);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.metricIndex = -1;
    return { metrics };
  }

  private decodeMetric(): OtlpMetric {
    const reader = this.reader;
    let name = "";
    let data = emptyData("none");
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      const dataName = DATA_NAMES.get(field);
      if (field === FIELD.metric.name) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        name = reader.stringVerify();
      } else if (dataName !== undefined) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        // A different member of the oneof replaces the one read so far.
        if (data.type !== dataName) data = emptyData(dataName);
        this.dataName = dataName;
        this.pointIndex = -1;
        const outer = this.beginMessage();
        this.decodeData(data);
        this.endMessage(outer);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.dataName = null;

    switch (data.type) {
      case "none":
        return { name, type: "none" };
      case "gauge":
        return { name, type: "gauge", dataPoints: data.numberPoints };
      case "sum":
        return {
          name,
          type: "sum",
          dataPoints: data.numberPoints,
          aggregationTemporality: data.aggregationTemporality,
          isMonotonic: data.isMonotonic,
        };
      case "histogram":
        return {
          name,
          type: "histogram",
          dataPoints: data.histogramPoints,
          aggregationTemporality: data.aggregationTemporality,
        };
      case "summary":
        return { name, type: "summary", dataPoints: data.summaryPoints };
      case "exponentialHistogram":
        return {
          name,
          type: "exponentialHistogram",
          dataPointCount: data.exponentialPointCount,
        };
    }
  }

  /** Reads a Gauge, Sum, Histogram, ExponentialHistogram or Summary. */
  private decodeData(data: MetricData): void {
    const reader = this.reader;
    const type = data.type;
    const hasTemporality =
      type === "sum" || type === "histogram" || type === "exponentialHistogram";
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.data.dataPoints) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.decodeDataPoint(data);
      } else if (
        hasTemporality &&
        field === FIELD.data.aggregationTemporality
      ) {
        expectWireType(wireType, WIRE_VARINT, field);
        data.aggregationTemporality = reader.int32();
      } else if (type === "sum" && field === FIELD.data.isMonotonic) {
        expectWireType(wireType, WIRE_VARINT, field);
        data.isMonotonic = reader.bool();
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
  }

  private decodeDataPoint(data: MetricData): void {
    if (data.type === "exponentialHistogram") {
      // Not stored: only counted, for the partial success response.
      this.pointIndex = data.exponentialPointCount;
      data.exponentialPointCount += 1;
      this.reader.skipType(WIRE_LENGTH_DELIMITED);
      return;
    }
    const outer = this.beginMessage();
    switch (data.type) {
      case "gauge":
      case "sum":
        this.pointIndex = data.numberPoints.length;
        data.numberPoints.push(this.decodeNumberDataPoint());
        break;
      case "histogram":
        this.pointIndex = data.histogramPoints.length;
        data.histogramPoints.push(this.decodeHistogramDataPoint());
        break;
      case "summary":
        this.pointIndex = data.summaryPoints.length;
        data.summaryPoints.push(this.decodeSummaryDataPoint());
        break;
      case "none":
        throw new Error("decodeDataPoint called without a data member");
    }
    this.endMessage(outer);
    this.pointIndex = -1;
  }

  private decodeNumberDataPoint(): OtlpNumberDataPoint {
    const reader = this.reader;
    const FIELDS = FIELD.numberDataPoint;
    const point: OtlpNumberDataPoint = {
      attributes: [],
      timeMs: 0,
      flags: 0,
      valueType: "none",
      value: 0,
    };
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELDS.attributes) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        point.attributes.push(this.decodeKeyValue());
      } else if (field === FIELDS.timeUnixNano) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.timeMs = readUnixNanoAsMs(reader);
      } else if (field === FIELDS.asDouble) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.valueType = "double";
        point.value = reader.double();
      } else if (field === FIELDS.asInt) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.valueType = "int";
        point.value = readSfixed64(reader);
      } else if (field === FIELDS.flags) {
        expectWireType(wireType, WIRE_VARINT, field);
        point.flags = reader.uint32();
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    return point;
  }

  private decodeHistogramDataPoint(): OtlpHistogramDataPoint {
    const reader = this.reader;
    const FIELDS = FIELD.histogramDataPoint;
    const point: OtlpHistogramDataPoint = {
      attributes: [],
      timeMs: 0,
      flags: 0,
      count: 0,
      sum: undefined,
      bucketCounts: [],
      explicitBounds: [],
    };
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELDS.attributes) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        point.attributes.push(this.decodeKeyValue());
      } else if (field === FIELDS.timeUnixNano) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.timeMs = readUnixNanoAsMs(reader);
      } else if (field === FIELDS.count) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.count = readFixed64(reader);
      } else if (field === FIELDS.sum) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.sum = reader.double();
      } else if (field === FIELDS.bucketCounts) {
        this.readRepeatedFixed64(
          wireType,
          field,
          point.bucketCounts,
          readFixed64,
        );
      } else if (field === FIELDS.explicitBounds) {
        this.readRepeatedFixed64(wireType, field, point.explicitBounds, (r) =>
          r.double(),
        );
      } else if (field === FIELDS.flags) {
        expectWireType(wireType, WIRE_VARINT, field);
        point.flags = reader.uint32();
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    return point;
  }

  /** Reads a repeated 8-byte field, packed or one element at a time. */
  private readRepeatedFixed64(
    wireType: number,
    field: number,
    into: number[],
    readOne: (reader: protobuf.Reader) => number,
  ): void {
    const reader = this.reader;
    if (wireType === WIRE_FIXED64) {
      into.push(readOne(reader));
      return;
    }
    expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
    const outer = this.beginMessage();
    if ((reader.len - reader.pos) % 8 !== 0) {
      throw new WireFormatError(
        `packed field ${field} is ${reader.len - reader.pos} bytes long, ` +
          "not a multiple of 8",
      );
    }
    while (reader.pos < reader.len) into.push(readOne(reader));
    this.endMessage(outer);
  }

  private decodeSummaryDataPoint(): OtlpSummaryDataPoint {
    const reader = this.reader;
    const FIELDS = FIELD.summaryDataPoint;
    const point: OtlpSummaryDataPoint = {
      attributes: [],
      timeMs: 0,
      flags: 0,
      count: 0,
      sum: 0,
      quantileValues: [],
    };
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELDS.attributes) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        point.attributes.push(this.decodeKeyValue());
      } else if (field === FIELDS.timeUnixNano) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.timeMs = readUnixNanoAsMs(reader);
      } else if (field === FIELDS.count) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.count = readFixed64(reader);
      } else if (field === FIELDS.sum) {
        expectWireType(wireType, WIRE_FIXED64, field);
        point.sum = reader.double();
      } else if (field === FIELDS.quantileValues) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        const outer = this.beginMessage();
        point.quantileValues.push(this.decodeValueAtQuantile());
        this.endMessage(outer);
      } else if (field === FIELDS.flags) {
        expectWireType(wireType, WIRE_VARINT, field);
        point.flags = reader.uint32();
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    return point;
  }

  private decodeValueAtQuantile(): OtlpValueAtQuantile {
    const reader = this.reader;
    const result: OtlpValueAtQuantile = { quantile: 0, value: 0 };
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.valueAtQuantile.quantile) {
        expectWireType(wireType, WIRE_FIXED64, field);
        result.quantile = reader.double();
      } else if (field === FIELD.valueAtQuantile.value) {
        expectWireType(wireType, WIRE_FIXED64, field);
        result.value = reader.double();
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    return result;
  }

  /** Reads a length-delimited KeyValue into an attribute with label text. */
  private decodeKeyValue(): OtlpAttribute {
    const reader = this.reader;
    const outer = this.beginMessage();
    let key = "";
    let value = "";
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.keyValue.key) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        key = reader.stringVerify();
      } else if (field === FIELD.keyValue.value) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        value = this.decodeAnyValue(0, true);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.endMessage(outer);
    return { key, value };
  }

  /**
   * Reads a length-delimited AnyValue as label text (`topLevel`) or as the
   * JSON fragment of an array or list member (see any-value.ts).
   */
  private decodeAnyValue(depth: number, topLevel: boolean): string {
    const reader = this.reader;
    const FIELDS = FIELD.anyValue;
    const outer = this.beginMessage();
    let result = topLevel ? "" : "null";
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELDS.stringValue) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        const text = reader.stringVerify();
        result = topLevel ? text : stringFragment(text);
      } else if (field === FIELDS.boolValue) {
        expectWireType(wireType, WIRE_VARINT, field);
        result = String(reader.bool());
      } else if (field === FIELDS.intValue) {
        expectWireType(wireType, WIRE_VARINT, field);
        result = reader.int64().toString();
      } else if (field === FIELDS.doubleValue) {
        expectWireType(wireType, WIRE_FIXED64, field);
        const number = reader.double();
        result = topLevel ? formatDouble(number) : doubleFragment(number);
      } else if (field === FIELDS.bytesValue) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        const text = base64Of(reader.bytes());
        result = topLevel ? text : stringFragment(text);
      } else if (
        field === FIELDS.arrayValue ||
        field === FIELDS.kvlistValue
      ) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        if (depth >= MAX_ANY_VALUE_DEPTH) {
          throw new WireFormatError(
            "an attribute nests arrays and key-value lists more than " +
              `${MAX_ANY_VALUE_DEPTH} levels deep`,
          );
        }
        result =
          field === FIELDS.arrayValue
            ? this.decodeArrayValue(depth + 1)
            : this.decodeKeyValueList(depth + 1);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.endMessage(outer);
    return result;
  }

  private decodeArrayValue(depth: number): string {
    const reader = this.reader;
    const outer = this.beginMessage();
    const values: string[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.values) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        values.push(this.decodeAnyValue(depth, false));
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.endMessage(outer);
    return arrayFragment(values);
  }

  private decodeKeyValueList(depth: number): string {
    const reader = this.reader;
    const outer = this.beginMessage();
    const keys: string[] = [];
    const values: string[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === FIELD.values) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        const entryOuter = this.beginMessage();
        let key = "";
        let value = "null";
        while (reader.pos < reader.len) {
          const entryTag = reader.tag();
          const entryField = entryTag >>> 3;
          const entryWireType = entryTag & 7;
          if (entryField === FIELD.keyValue.key) {
            expectWireType(entryWireType, WIRE_LENGTH_DELIMITED, entryField);
            key = reader.stringVerify();
          } else if (entryField === FIELD.keyValue.value) {
            expectWireType(entryWireType, WIRE_LENGTH_DELIMITED, entryField);
            value = this.decodeAnyValue(depth, false);
          } else {
            reader.skipType(entryWireType, 0, entryField);
          }
        }
        this.endMessage(entryOuter);
        keys.push(key);
        values.push(value);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    this.endMessage(outer);
    return keyValueListFragment(keys, values);
  }
}

/**
 * Decodes a protobuf ExportMetricsServiceRequest into the fields Vigil
 * stores. Throws a 400 ApiError naming the byte offset and, where known,
 * the data point of malformed input.
 */
export function decodeProtobufMetricsRequest(
  bytes: Uint8Array,
): OtlpMetricsRequest {
  return new MetricsRequestDecoder(bytes).decode();
}
