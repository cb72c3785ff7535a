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
  MAX_METRIC_NAME_LENGTH,
  METRIC_NAME_PATTERN,
} from "@/lib/ingest/schemas";
import type { SeriesInput } from "@/lib/ingest/series-input";
import { chooseServiceSlug } from "@/lib/ingest/service-choice";

import { FIELD } from "./remote-write-schema";

// Decodes a remote write 1.0 WriteRequest (already snappy-decompressed)
// straight into SeriesInput arrays. It walks the protobuf wire format with
// protobufjs's Reader instead of building message objects first. A busy
// Prometheus sends thousands of samples per request, and the reflected
// decoder would allocate an object per label and sample and a Long per
// timestamp.
//
// Mapping: the __name__ label is the metric name, every other label with a
// non-empty value is a label (Prometheus treats an empty value as an absent
// label). Native histograms and exemplars are skipped and counted, because
// Vigil stores only float samples. Metric metadata is ignored. A series
// without samples is dropped after its labels were checked.

/** Source of the service slug of each series. */
export type ServiceSource =
  /**
   * Every series goes to `slug` (from ?service=), or with null to the
   * service that the API token is bound to.
   */
  | { fixed: string | null }
  /** Each series names its service with its `service` label, else `job`. */
  | "labels";

/** A decoded request, ready for storeSeries. */
export type DecodedWriteRequest = {
  /** Series that carry at least one sample, in request order. */
  series: SeriesInput[];
  /** Float samples in `series`, stale markers and NaN included. */
  samples: number;
  /** Native histogram samples, which Vigil does not store. */
  skippedHistograms: number;
  /** Exemplars, which Vigil does not store. */
  skippedExemplars: number;
};

const TIMESERIES = FIELD.writeRequest.timeseries;
const LABELS = FIELD.timeSeries.labels;
const SAMPLES = FIELD.timeSeries.samples;
const EXEMPLARS = FIELD.timeSeries.exemplars;
const HISTOGRAMS = FIELD.timeSeries.histograms;
const LABEL_NAME = FIELD.label.name;
const LABEL_VALUE = FIELD.label.value;
const SAMPLE_VALUE = FIELD.sample.value;
const SAMPLE_TIMESTAMP = FIELD.sample.timestamp;

/** The repeated field of a series that the decoder is in, for error paths. */
type SeriesPart = "labels" | "samples" | "exemplars" | "histograms";

/**
 * Reads an int64 varint as a number. Exact for magnitudes below 2^53, which
 * covers every millisecond timestamp, and without the Long object that
 * Reader.int64() allocates.
 */
function readInt64(reader: protobuf.Reader): number {
  const buf = reader.buf;
  const end = reader.len;
  let pos = reader.pos;
  let low = 0;
  let byte = 0;

  // Bytes 1 to 4 carry bits 0 to 27.
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw new WireFormatError("truncated varint");
    byte = buf[pos++]!;
    low |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      reader.pos = pos;
      return low;
    }
  }

  // Byte 5 carries bits 28 to 31 of the low word and 0 to 2 of the high word.
  if (pos >= end) throw new WireFormatError("truncated varint");
  byte = buf[pos++]!;
  low |= (byte & 0x0f) << 28;
  let high = (byte & 0x7f) >> 4;
  if (byte < 0x80) {
    reader.pos = pos;
    return high * 4294967296 + (low >>> 0);
  }

  // Bytes 6 to 10 carry the rest of the high word. Negative values use all 10.
  for (let shift = 3; shift < 32; shift += 7) {
    if (pos >= end) throw new WireFormatError("truncated varint");
    byte = buf[pos++]!;
    high |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      reader.pos = pos;
      return (high | 0) * 4294967296 + (low >>> 0);
    }
  }
  throw new WireFormatError("varint is longer than 10 bytes");
}

/** Quotes a label set the way Prometheus prints it, cut at 120 characters. */
function formatSeries(
  name: string | undefined,
  labels: Record<string, string>,
): string {
  const pairs = Object.keys(labels).map(
    (key) => `${key}=${JSON.stringify(labels[key])}`,
  );
  const text = `${name ?? ""}{${pairs.join(",")}}`;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

// Label names and metric names repeat in nearly every series of a request
// and across requests. Reusing the string decoded before spares an
// allocation and, for label names, V8's internalization of a new property
// key. Only ASCII strings are kept, in buckets by length and first and last
// byte, and each cache starts over past STRING_CACHE_LIMIT entries.
const STRING_CACHE_LIMIT = 10_000;
const MAX_CACHED_LENGTH = 128;
const repeatedStrings = new Map<number, string[]>();
let repeatedStringCount = 0;
const validMetricNames = new Set<string>();

function matches(candidate: string, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < candidate.length; i += 1) {
    if (candidate.charCodeAt(i) !== buf[start + i]) return false;
  }
  return true;
}

/** Returns bytes start..end as a string of one character per byte. */
function latin1(buf: Uint8Array, start: number, end: number): string {
  if (Buffer.isBuffer(buf)) return buf.toString("latin1", start, end);
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString(
    "latin1",
  );
}

/** Reads a length-delimited string, reusing an equal ASCII string if cached. */
function readRepeatedString(reader: protobuf.Reader): string {
  const length = reader.uint32();
  const start = reader.pos;
  const end = start + length;
  if (end > reader.len) {
    throw new WireFormatError(
      `length ${length} runs past the end of the enclosing message`,
    );
  }
  const buf = reader.buf;
  reader.pos = end;
  if (length === 0) return "";
  if (length > MAX_CACHED_LENGTH) {
    return protobuf.util.utf8.readStrict(buf, start, end);
  }

  const key = (length << 16) | (buf[start]! << 8) | buf[end - 1]!;
  const bucket = repeatedStrings.get(key);
  if (bucket !== undefined) {
    for (const candidate of bucket) {
      if (matches(candidate, buf, start)) return candidate;
    }
  }
  const text = protobuf.util.utf8.readStrict(buf, start, end);
  if (text.length !== length) return text; // not ASCII
  if (repeatedStringCount >= STRING_CACHE_LIMIT) {
    repeatedStrings.clear();
    repeatedStringCount = 0;
  }
  if (bucket === undefined) repeatedStrings.set(key, [text]);
  else bucket.push(text);
  repeatedStringCount += 1;
  return text;
}

/**
 * A decoded series. Its error paths are a method rather than a closure per
 * series, which a request of thousands of series would allocate.
 */
class RemoteWriteSeries implements SeriesInput {
  constructor(
    readonly service: string | null,
    readonly name: string,
    readonly labels: Record<string, string>,
    readonly timestamps: number[],
    readonly values: number[],
    private readonly index: number,
    private readonly serviceFromLabels: boolean,
    readonly identity: string | undefined,
  ) {}

  // Field names are built only when an error needs them.
  get field(): string {
    return `timeseries[${this.index}]`;
  }

  get serviceField(): string {
    return this.serviceFromLabels ? `${this.field}.labels` : "service";
  }

  pointField(index: number): string {
    return `${this.field}.samples[${index}].timestamp`;
  }
}

class WriteRequestDecoder {
  private readonly reader: protobuf.Reader;
  private readonly serviceSource: ServiceSource;
  private readonly result: DecodedWriteRequest = {
    series: [],
    samples: 0,
    skippedHistograms: 0,
    skippedExemplars: 0,
  };

  // Position of the decoder, for error paths such as timeseries[3].labels[1].
  private seriesIndex = -1;
  private part: SeriesPart | null = null;
  private partIndex = 0;

  // The current series' __name__, set by decodeLabel.
  private metricName: string | undefined;

  // Service slugs by label value: most series of a request share a job.
  private readonly slugs = new Map<string, string | null>();

  constructor(bytes: Uint8Array, serviceSource: ServiceSource) {
    this.reader = protobuf.Reader.create(bytes);
    this.serviceSource = serviceSource;
  }

  decode(): DecodedWriteRequest {
    try {
      this.decodeWriteRequest();
    } catch (error) {
      if (isWireFormatError(error)) throw this.invalidProtobuf(error);
      throw error;
    }
    return this.result;
  }

  private invalidProtobuf(error: Error): ApiError {
    let field: string | undefined;
    if (this.seriesIndex >= 0) {
      field = `timeseries[${this.seriesIndex}]`;
      if (this.part !== null) field += `.${this.part}[${this.partIndex}]`;
    }
    const reason =
      error instanceof TypeError
        ? "a string is not valid UTF-8"
        : error.message;
    const where = field === undefined ? "" : ` in ${field}`;
    return new ApiError(
      400,
      "invalid_protobuf",
      "request body is not a valid remote write 1.0 WriteRequest: " +
        `${reason}${where}, at byte ${this.reader.pos} of ` +
        `${this.reader.buf.length} after snappy decompression`,
      field === undefined ? {} : { field },
    );
  }

  private beginMessage(): number {
    return beginMessage(this.reader);
  }

  private endMessage(outer: number): void {
    endMessage(this.reader, outer);
  }

  private decodeWriteRequest(): void {
    const reader = this.reader;
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === TIMESERIES) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.seriesIndex += 1;
        const outer = this.beginMessage();
        this.decodeTimeSeries();
        this.endMessage(outer);
      } else {
        // Metric metadata (field 3) and unknown fields.
        reader.skipType(wireType, 0, field);
      }
    }
  }

  private decodeTimeSeries(): void {
    const reader = this.reader;
    const labels: Record<string, string> = {};
    const timestamps: number[] = [];
    const values: number[] = [];
    let labelCount = 0;
    let exemplarCount = 0;
    let histogramCount = 0;
    this.metricName = undefined;
    // Byte range of the label fields, while they are contiguous.
    let labelsStart = -1;
    let labelsEnd = -1;
    let contiguous = true;

    while (reader.pos < reader.len) {
      const tagStart = reader.pos;
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === SAMPLES) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.part = "samples";
        this.partIndex = timestamps.length;
        const outer = this.beginMessage();
        this.decodeSample(timestamps, values);
        this.endMessage(outer);
      } else if (field === LABELS) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        this.part = "labels";
        this.partIndex = labelCount;
        labelCount += 1;
        if (labelsStart < 0) labelsStart = tagStart;
        else if (tagStart !== labelsEnd) contiguous = false;
        const outer = this.beginMessage();
        this.decodeLabel(labels);
        this.endMessage(outer);
        labelsEnd = reader.pos;
      } else if (field === HISTOGRAMS) {
        this.part = "histograms";
        this.partIndex = histogramCount;
        histogramCount += 1;
        reader.skipType(wireType, 0, field);
      } else if (field === EXEMPLARS) {
        this.part = "exemplars";
        this.partIndex = exemplarCount;
        exemplarCount += 1;
        reader.skipType(wireType, 0, field);
      } else {
        this.part = null;
        reader.skipType(wireType, 0, field);
      }
    }
    this.part = null;

    const name = this.checkMetricName(labels);
    this.result.skippedHistograms += histogramCount;
    this.result.skippedExemplars += exemplarCount;
    if (timestamps.length === 0) return;

    const fromLabels = this.serviceSource === "labels";
    const service = fromLabels
      ? this.serviceFromLabels(labels)
      : (this.serviceSource as { fixed: string | null }).fixed;
    // The label fields' bytes determine the name and the labels, so they
    // let storeSeries reuse its checks of a series it has seen before.
    const identity =
      contiguous && labelsStart >= 0
        ? latin1(reader.buf, labelsStart, labelsEnd)
        : undefined;
    this.result.series.push(
      new RemoteWriteSeries(
        service,
        name,
        labels,
        timestamps,
        values,
        this.seriesIndex,
        fromLabels,
        identity,
      ),
    );
    this.result.samples += timestamps.length;
  }

  /** Returns the slug of `service`, else of `job`, as chooseServiceSlug picks it. */
  private serviceFromLabels(labels: Record<string, string>): string | null {
    const service = labels.service;
    if (service !== undefined) {
      const slug = this.slugOf(service);
      if (slug !== null) return slug;
    }
    const job = labels.job;
    return job === undefined ? null : this.slugOf(job);
  }

  private slugOf(value: string): string | null {
    let slug = this.slugs.get(value);
    if (slug === undefined) {
      slug = chooseServiceSlug(null, [value]);
      this.slugs.set(value, slug);
    }
    return slug;
  }

  private decodeLabel(labels: Record<string, string>): void {
    const reader = this.reader;
    let name = "";
    let value = "";
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === LABEL_NAME) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        name = readRepeatedString(reader);
      } else if (field === LABEL_VALUE) {
        expectWireType(wireType, WIRE_LENGTH_DELIMITED, field);
        // Metric names repeat like label names; other values vary more.
        value =
          name === "__name__"
            ? readRepeatedString(reader)
            : reader.stringVerify();
      } else {
        reader.skipType(wireType, 0, field);
      }
    }

    if (name === "__name__") {
      if (this.metricName !== undefined) throw this.duplicateLabel(name);
      this.metricName = value;
      return;
    }
    // A "__proto__" key would set the prototype of `labels` instead of
    // adding a label, so it is rejected here like storeSeries rejects
    // every other name that starts with "__".
    if (name === "__proto__") throw this.reservedLabel(name);
    if (Object.hasOwn(labels, name)) throw this.duplicateLabel(name);
    if (value === "") return;
    labels[name] = value;
  }

  private decodeSample(timestamps: number[], values: number[]): void {
    const reader = this.reader;
    // Proto3 defaults: a field that is absent is zero.
    let value = 0;
    let timestamp = 0;
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === SAMPLE_VALUE) {
        expectWireType(wireType, WIRE_FIXED64, field);
        value = reader.double();
      } else if (field === SAMPLE_TIMESTAMP) {
        expectWireType(wireType, WIRE_VARINT, field);
        timestamp = readInt64(reader);
      } else {
        reader.skipType(wireType, 0, field);
      }
    }
    timestamps.push(timestamp);
    values.push(value);
  }

  private reservedLabel(name: string): ApiError {
    const field = `timeseries[${this.seriesIndex}].labels`;
    return new ApiError(
      400,
      "invalid_field",
      `${field} has an invalid label name ${JSON.stringify(name)}: label ` +
        "names starting with __ are reserved",
      { field },
    );
  }

  private duplicateLabel(name: string): ApiError {
    const field = `timeseries[${this.seriesIndex}].labels`;
    return new ApiError(
      400,
      "invalid_field",
      `${field} contains the label name ${JSON.stringify(name)} more than once`,
      { field },
    );
  }

  private checkMetricName(labels: Record<string, string>): string {
    const name = this.metricName;
    if (name !== undefined && validMetricNames.has(name)) return name;
    const seriesField = `timeseries[${this.seriesIndex}]`;
    if (name === undefined || name === "") {
      throw new ApiError(
        400,
        "invalid_field",
        `${seriesField} has no __name__ label, so it has no metric name: ` +
          `series ${formatSeries(undefined, labels)}`,
        { field: `${seriesField}.labels` },
      );
    }
    if (
      name.length > MAX_METRIC_NAME_LENGTH ||
      !METRIC_NAME_PATTERN.test(name)
    ) {
      throw new ApiError(
        400,
        "invalid_field",
        `${seriesField}.labels.__name__ must be a Prometheus metric name ` +
          "matching [a-zA-Z_:][a-zA-Z0-9_:]* of at most " +
          `${MAX_METRIC_NAME_LENGTH} characters, got ` +
          formatSeries(name, labels),
        { field: `${seriesField}.labels.__name__` },
      );
    }
    if (validMetricNames.size >= STRING_CACHE_LIMIT) validMetricNames.clear();
    validMetricNames.add(name);
    return name;
  }
}

/**
 * Decodes a snappy-decompressed remote write 1.0 WriteRequest into series
 * for storeSeries. Throws ApiError 400 with the series and byte offset when
 * the protobuf is malformed, a series has no valid __name__ or repeats a
 * label name.
 */
export function decodeWriteRequest(
  bytes: Uint8Array,
  serviceSource: ServiceSource,
): DecodedWriteRequest {
  return new WriteRequestDecoder(bytes, serviceSource).decode();
}
