import { readFileSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import {
  ExpositionError,
  parseExposition,
  parseFloatText,
  secondsTextToMs,
  type ExpositionFormat,
} from "@/lib/ingest/prometheus/exposition";

// Expected samples below were written by hand from the fixture files, one
// entry per sample line: [line, name, labels, value, timestamp ms or null].

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/exposition");
const PROM_FILE = "prom-text-0.0.4-docs-canonical-escaping-inf-histogram-summary.prom";
const OM_FILE = "openmetrics-1.0-exemplars-created-negative-buckets.om.txt";

type Row = [number, string, Record<string, string>, number, number | null];

function rows(text: string, format: ExpositionFormat): Row[] {
  return parseExposition(text, format).samples.map((sample) => [
    sample.line,
    sample.name,
    sample.labels,
    sample.value,
    sample.timestampMs,
  ]);
}

/** Parses `text` and returns the ExpositionError it throws. */
function parseError(text: string, format: ExpositionFormat): ExpositionError {
  try {
    parseExposition(text, format);
  } catch (error) {
    if (error instanceof ExpositionError) return error;
    throw error;
  }
  throw new Error(`expected an ExpositionError for ${JSON.stringify(text)}`);
}

const PROM = "prometheus-0.0.4";
const OM = "openmetrics-1.0";

describe("0.0.4 fixture from the exposition format documentation", () => {
  const text = readFileSync(path.join(FIXTURES, PROM_FILE), "utf8");

  it("parses every sample", () => {
    const duration = "http_request_duration_seconds";
    const latency = "telemetry_requests_metrics_latency_microseconds";
    expect(rows(text, PROM)).toEqual<Row[]>([
      [3, "http_requests_total", { method: "post", code: "200" }, 1027, 1395066363000],
      [4, "http_requests_total", { method: "post", code: "400" }, 3, 1395066363000],
      [
        7,
        "msdos_file_access_time_seconds",
        { path: "C:\\DIR\\FILE.TXT", error: 'Cannot find file:\n"FILE.TXT"' },
        1458255915,
        null,
      ],
      [10, "metric_without_timestamp_and_labels", {}, 12.47, null],
      [13, "something_weird", { problem: "division by zero" }, Infinity, -3982045],
      [18, `${duration}_bucket`, { le: "0.05" }, 24054, null],
      [19, `${duration}_bucket`, { le: "0.1" }, 33444, null],
      [20, `${duration}_bucket`, { le: "0.2" }, 100392, null],
      [21, `${duration}_bucket`, { le: "0.5" }, 129389, null],
      [22, `${duration}_bucket`, { le: "1" }, 133988, null],
      [23, `${duration}_bucket`, { le: "+Inf" }, 144320, null],
      [24, `${duration}_sum`, {}, 53423, null],
      [25, `${duration}_count`, {}, 144320, null],
      [30, latency, { quantile: "0.01" }, 3102, null],
      [31, latency, { quantile: "0.05" }, 3272, null],
      [32, latency, { quantile: "0.5" }, 4773, null],
      [33, latency, { quantile: "0.9" }, 9001, null],
      [34, latency, { quantile: "0.99" }, 76656, null],
      [35, `${latency}_sum`, {}, 17560473, null],
      [36, `${latency}_count`, {}, 2693, null],
    ]);
  });

  it("reads HELP and TYPE of each family", () => {
    const families = parseExposition(text, PROM).families;
    expect(families.map((family) => [family.name, family.type, family.help])).toEqual([
      ["http_requests_total", "counter", "The total number of HTTP requests."],
      ["msdos_file_access_time_seconds", "untyped", null],
      ["metric_without_timestamp_and_labels", "untyped", null],
      ["something_weird", "untyped", null],
      ["http_request_duration_seconds", "histogram", "A histogram of the request duration."],
      [
        "telemetry_requests_metrics_latency_microseconds",
        "summary",
        "A summary of the response latency.",
      ],
    ]);
  });

  it("assigns histogram and summary components to their family", () => {
    const samples = parseExposition(text, PROM).samples;
    const bySample = new Map(samples.map((sample) => [sample.name, sample.family]));
    expect(bySample.get("http_request_duration_seconds_bucket")).toBe(
      "http_request_duration_seconds",
    );
    expect(bySample.get("http_request_duration_seconds_count")).toBe(
      "http_request_duration_seconds",
    );
    expect(bySample.get("telemetry_requests_metrics_latency_microseconds_sum")).toBe(
      "telemetry_requests_metrics_latency_microseconds",
    );
  });
});

describe("OpenMetrics fixture from client_golang", () => {
  const text = readFileSync(path.join(FIXTURES, OM_FILE), "utf8");

  it("parses every sample, dropping exemplars", () => {
    const errors = "promhttp_metric_handler_errors";
    const histogram = "rpc_durations_histogram_seconds";
    const bucket = `${histogram}_bucket`;
    const summary = "rpc_durations_seconds";
    const exponential = { service: "exponential" };
    const normal = { service: "normal" };
    const uniform = { service: "uniform" };
    expect(rows(text, OM)).toEqual<Row[]>([
      [3, "go_build_info", { checksum: "", path: "", version: "" }, 1, null],
      [6, `${errors}_total`, { cause: "encoding" }, 0, null],
      [7, `${errors}_created`, { cause: "encoding" }, 1726839813.016397, null],
      [8, `${errors}_total`, { cause: "gathering" }, 0, null],
      [9, `${errors}_created`, { cause: "gathering" }, 1726839813.016395, null],
      [12, bucket, { le: "-0.00099" }, 0, null],
      [13, bucket, { le: "-0.00089" }, 0, null],
      [14, bucket, { le: "-0.0007899999999999999" }, 0, null],
      [15, bucket, { le: "-0.0006899999999999999" }, 0, null],
      [16, bucket, { le: "-0.0005899999999999998" }, 0, null],
      [17, bucket, { le: "-0.0004899999999999998" }, 0, null],
      [18, bucket, { le: "-0.0003899999999999998" }, 0, null],
      [19, bucket, { le: "-0.0002899999999999998" }, 3, null],
      [20, bucket, { le: "-0.0001899999999999998" }, 5, null],
      [21, bucket, { le: "-8.999999999999979e-05" }, 5, null],
      [22, bucket, { le: "1.0000000000000216e-05" }, 8, null],
      [23, bucket, { le: "0.00011000000000000022" }, 9, null],
      [24, bucket, { le: "0.00021000000000000023" }, 11, null],
      [25, bucket, { le: "0.0003100000000000002" }, 15, null],
      [26, bucket, { le: "0.0004100000000000002" }, 15, null],
      [27, bucket, { le: "0.0005100000000000003" }, 15, null],
      [28, bucket, { le: "0.0006100000000000003" }, 15, null],
      [29, bucket, { le: "0.0007100000000000003" }, 15, null],
      [30, bucket, { le: "0.0008100000000000004" }, 15, null],
      [31, bucket, { le: "0.0009100000000000004" }, 15, null],
      [32, bucket, { le: "+Inf" }, 15, null],
      [33, `${histogram}_sum`, {}, -0.00008452185437166741, null],
      [34, `${histogram}_count`, {}, 15, null],
      [35, `${histogram}_created`, {}, 1726839813.016302, null],
      [38, summary, { ...exponential, quantile: "0.5" }, 7.689368882420941e-7, null],
      [39, summary, { ...exponential, quantile: "0.9" }, 0.0000016537614174305048, null],
      [40, summary, { ...exponential, quantile: "0.99" }, 0.0000020965499063061924, null],
      [41, `${summary}_sum`, exponential, 0.000020318666372575776, null],
      [42, `${summary}_count`, exponential, 22, null],
      [43, `${summary}_created`, exponential, 1726839813.0168908, null],
      [44, summary, { ...normal, quantile: "0.5" }, -0.000005066758674917046, null],
      [45, summary, { ...normal, quantile: "0.9" }, 0.0002935723711788224, null],
      [46, summary, { ...normal, quantile: "0.99" }, 0.0003023094636293776, null],
      [47, `${summary}_sum`, normal, -0.00008452185437166741, null],
      [48, `${summary}_count`, normal, 15, null],
      [49, `${summary}_created`, normal, 1726839813.016714, null],
      [50, summary, { ...uniform, quantile: "0.5" }, 0.00009005014931474918, null],
      [51, summary, { ...uniform, quantile: "0.9" }, 0.00017801230208182325, null],
      [52, summary, { ...uniform, quantile: "0.99" }, 0.00018641524538180192, null],
      [53, `${summary}_sum`, uniform, 0.0011666095700533677, null],
      [54, `${summary}_count`, uniform, 11, null],
      [55, `${summary}_created`, uniform, 1726839813.01684, null],
      [58, "rpc_requests_total", exponential, 22, null],
      [59, "rpc_requests_created", exponential, 1726839813.016893, null],
      [60, "rpc_requests_total", normal, 15, null],
      [61, "rpc_requests_created", normal, 1726839813.016717, null],
      [62, "rpc_requests_total", uniform, 11, null],
      [63, "rpc_requests_created", uniform, 1726839813.0168471, null],
    ]);
  });

  it("reads the type of each family", () => {
    const families = parseExposition(text, OM).families;
    expect(families.map((family) => [family.name, family.type])).toEqual([
      ["go_build_info", "gauge"],
      ["promhttp_metric_handler_errors", "counter"],
      ["rpc_durations_histogram_seconds", "histogram"],
      ["rpc_durations_seconds", "summary"],
      ["rpc_requests", "counter"],
    ]);
  });

  it("assigns _total and _created to the counter family", () => {
    const samples = parseExposition(text, OM).samples;
    const created = samples.find((sample) => sample.name === "rpc_requests_created");
    const total = samples.find((sample) => sample.name === "rpc_requests_total");
    expect(created?.family).toBe("rpc_requests");
    expect(total?.family).toBe("rpc_requests");
  });

  it("rejects the fixture without its # EOF line", () => {
    const truncated = text.replace("# EOF\n", "").replace("# EOF", "");
    const error = parseError(truncated, OM);
    expect(error.message).toMatch(/must end with a # EOF line/);
  });
});

describe("label values and HELP text", () => {
  it("decodes the three escapes in label values", () => {
    const [sample] = parseExposition('m{a="x\\\\y",b="q\\"r",c="l1\\nl2"} 1\n', PROM).samples;
    expect(sample?.labels).toEqual({ a: "x\\y", b: 'q"r', c: "l1\nl2" });
  });

  it("keeps commas, braces and # inside label values", () => {
    const [sample] = parseExposition('m{a="1,2}",b="# {x}"} 5\n', PROM).samples;
    expect(sample?.labels).toEqual({ a: "1,2}", b: "# {x}" });
    expect(sample?.value).toBe(5);
  });

  it("accepts blanks and a trailing comma in 0.0.4 label sets", () => {
    const [sample] = parseExposition('m { a = "1" , b="2", } 3\n', PROM).samples;
    expect(sample?.labels).toEqual({ a: "1", b: "2" });
  });

  it("rejects a wrong escape with its line", () => {
    const error = parseError('ok 1\nm{path="C:\\DIR"} 1\nlater 2\n', PROM);
    expect(error.line).toBe(2);
    expect(error.message).toBe(
      "line 2: invalid escape \\D in the value of label path in sample m; " +
        'only \\\\, \\" and \\n are allowed',
    );
  });

  it("rejects a wrong escape in OpenMetrics too", () => {
    const error = parseError('# TYPE m gauge\nm{a="\\t"} 1\n# EOF\n', OM);
    expect(error.message).toMatch(/^line 2: invalid escape \\t/);
  });

  it("rejects a label value without its closing quote", () => {
    const error = parseError('m{a="open} 1\n', PROM);
    expect(error.message).toBe(
      "line 1: the value of label a in sample m is missing its closing quote",
    );
  });

  it("rejects a duplicate label name", () => {
    const error = parseError('m{a="1",b="2",a="3"} 1\n', PROM);
    expect(error.message).toBe("line 1: duplicate label name a in sample m");
  });

  it("rejects an invalid label name", () => {
    const error = parseError('m{1a="x"} 1\n', PROM);
    expect(error.message).toMatch(/^line 1: invalid label name "1a" in sample m/);
  });

  it("rejects quoted label names", () => {
    const error = parseError('m{"a.b"="x"} 1\n', PROM);
    expect(error.message).toMatch(/^line 1: quoted label names are not supported/);
  });

  it("rejects an unquoted label value", () => {
    const error = parseError("m{a=1} 1\n", PROM);
    expect(error.message).toBe(
      "line 1: the value of label a in sample m must be a quoted string",
    );
  });

  it("rejects a missing comma between labels", () => {
    const error = parseError('m{a="1" b="2"} 1\n', PROM);
    expect(error.message).toMatch(/^line 1: expected , or } after the value of label a/);
  });

  it("decodes HELP escapes of 0.0.4", () => {
    const { families } = parseExposition("# HELP m a \\\\ b\\nc\n", PROM);
    expect(families[0]?.help).toBe("a \\ b\nc");
  });

  it("decodes \\\" in OpenMetrics HELP only", () => {
    const om = parseExposition('# HELP m say \\"hi\\"\n# EOF\n', OM);
    expect(om.families[0]?.help).toBe('say "hi"');
    const error = parseError('# HELP m say \\"hi\\"\n', PROM);
    expect(error.message).toMatch(/^line 1: invalid escape \\" in HELP text/);
  });

  it("rejects a second HELP line for one family", () => {
    const error = parseError("# HELP m one\n# HELP m two\nm 1\n", PROM);
    expect(error.message).toBe("line 2: second HELP line for m; the first is on line 1");
  });
});

describe("values", () => {
  it("reads NaN, +Inf, -Inf and exponents", () => {
    const text = "a NaN\nb +Inf\nc -Inf\nd 1.5e3\ne -0.25\nf .5\ng Inf\n";
    const values = parseExposition(text, PROM).samples.map((sample) => sample.value);
    expect(values).toEqual([NaN, Infinity, -Infinity, 1500, -0.25, 0.5, Infinity]);
  });

  it("parses number texts like Go's ParseFloat", () => {
    expect(parseFloatText("1.")).toBe(1);
    expect(parseFloatText("+3")).toBe(3);
    expect(parseFloatText("-inf")).toBe(-Infinity);
    expect(parseFloatText("1_000")).toBeNull();
    expect(parseFloatText("0x1p-2")).toBeNull();
    expect(parseFloatText("1e400")).toBeNull();
    expect(parseFloatText("")).toBeNull();
  });

  it("rejects a missing value", () => {
    const error = parseError('ok 1\n\nm{a="1"}\n', PROM);
    expect(error.line).toBe(3);
    expect(error.message).toBe("line 3: sample m is missing its value");
  });

  it("rejects a missing value after a bare name", () => {
    const error = parseError("m\n", PROM);
    expect(error.message).toBe("line 1: sample m is missing its value");
  });

  it("rejects a value that is not a number", () => {
    const error = parseError("m twelve\n", PROM);
    expect(error.message).toBe(
      'line 1: invalid value "twelve" for sample m: expected a number, NaN, +Inf or -Inf',
    );
  });

  it("rejects a value glued to the label set", () => {
    const error = parseError('m{a="1"}2\n', PROM);
    expect(error.message).toMatch(/^line 1: expected a space and the value after sample m/);
  });
});

describe("metric names", () => {
  it("accepts colons in metric names", () => {
    const [sample] = parseExposition("job:requests:rate5m 4\n", PROM).samples;
    expect(sample?.name).toBe("job:requests:rate5m");
  });

  it("rejects a name starting with a digit", () => {
    const error = parseError("ok 1\n9lives 1\n", PROM);
    expect(error.message).toBe(
      'line 2: invalid metric name "9lives": names must match [a-zA-Z_:][a-zA-Z0-9_:]*',
    );
  });

  it("rejects a name with a dash", () => {
    const error = parseError("http-requests 1\n", PROM);
    expect(error.message).toMatch(/^line 1: expected a space and the value after sample http/);
  });

  it("rejects quoted metric names", () => {
    const error = parseError('{"my.metric"} 1\n', PROM);
    expect(error.message).toMatch(/^line 1: the metric name must come before the braces/);
  });

  it("rejects an invalid name in TYPE", () => {
    const error = parseError("# TYPE my-metric gauge\n", PROM);
    expect(error.message).toMatch(/^line 1: invalid metric name "my-metric" in # TYPE/);
  });
});

describe("timestamps", () => {
  it("reads 0.0.4 timestamps as milliseconds", () => {
    const [sample] = parseExposition("m 1 1726839813016\n", PROM).samples;
    expect(sample?.timestampMs).toBe(1726839813016);
  });

  it("rejects a fractional 0.0.4 timestamp", () => {
    const error = parseError("m 1 1726839813.016\n", PROM);
    expect(error.message).toMatch(/^line 1: invalid timestamp "1726839813.016" for sample m/);
  });

  it("reads OpenMetrics timestamps as seconds", () => {
    const text = "a 1 1726839813.016\nb 1 1.7268398142239082e+09\nc 1 1726839813\n# EOF\n";
    const stamps = parseExposition(text, OM).samples.map((sample) => sample.timestampMs);
    expect(stamps).toEqual([1726839813016, 1726839814223, 1726839813000]);
  });

  it("truncates sub-millisecond fractions exactly", () => {
    // 1.005 * 1000 is 1004.9999999999999 in floating point.
    expect(secondsTextToMs("1.005")).toBe(1005);
    expect(secondsTextToMs("1726839813.016")).toBe(1726839813016);
    expect(secondsTextToMs("1726839813.0169999")).toBe(1726839813016);
    expect(secondsTextToMs("-1.5")).toBe(-1500);
    expect(secondsTextToMs("-0.0001")).toBe(0);
    expect(secondsTextToMs("5e-4")).toBe(0);
    expect(secondsTextToMs(".5")).toBe(500);
    expect(secondsTextToMs("NaN")).toBeNull();
    expect(secondsTextToMs("1e300")).toBeNull();
  });

  it("rejects NaN as an OpenMetrics timestamp", () => {
    const error = parseError("m 1 NaN\n# EOF\n", OM);
    expect(error.message).toMatch(/^line 1: invalid timestamp "NaN" for sample m/);
  });

  it("rejects text after the timestamp", () => {
    const error = parseError("m 1 1000 extra\n", PROM);
    expect(error.message).toMatch(/^line 1: unexpected text "extra" after the timestamp/);
  });

  it("leaves the timestamp null when absent", () => {
    const [sample] = parseExposition("m 1\n", PROM).samples;
    expect(sample?.timestampMs).toBeNull();
  });
});

describe("histograms and summaries", () => {
  it("requires le on histogram buckets", () => {
    const text = "# TYPE h histogram\nh_bucket{x=\"1\"} 3\n";
    const error = parseError(text, PROM);
    expect(error.message).toBe("line 2: histogram sample h_bucket is missing its le label");
  });

  it("rejects an le that is not a number", () => {
    const text = '# TYPE h histogram\nh_bucket{le="fast"} 3\n';
    const error = parseError(text, PROM);
    expect(error.message).toBe(
      'line 2: invalid le label value "fast" on h_bucket: expected a number or +Inf',
    );
  });

  it("requires quantile on summary quantiles", () => {
    const text = "# TYPE s summary\ns_sum 3\ns 1\n";
    const error = parseError(text, PROM);
    expect(error.message).toBe("line 3: summary sample s is missing its quantile label");
  });

  it("rejects a histogram sample without suffix", () => {
    const error = parseError("# TYPE h histogram\nh 3\n", PROM);
    expect(error.message).toBe(
      "line 2: sample h does not fit the histogram h declared on line 1; " +
        "its samples are named h_bucket, h_sum and h_count",
    );
  });

  it("reads gaugehistogram components in OpenMetrics", () => {
    const text =
      '# TYPE q gaugehistogram\nq_bucket{le="1"} 2\nq_bucket{le="+Inf"} 3\nq_gcount 3\nq_gsum 4\n# EOF\n';
    const samples = parseExposition(text, OM).samples;
    expect(samples.map((sample) => [sample.name, sample.family])).toEqual([
      ["q_bucket", "q"],
      ["q_bucket", "q"],
      ["q_gcount", "q"],
      ["q_gsum", "q"],
    ]);
  });
});

describe("metadata lines", () => {
  it("rejects an unknown type", () => {
    const error = parseError("# TYPE m countr\n", PROM);
    expect(error.message).toBe(
      'line 1: unknown metric type "countr" for m; expected one of counter, ' +
        "gauge, histogram, summary and untyped",
    );
  });

  it("rejects OpenMetrics types in 0.0.4 text", () => {
    const error = parseError("# TYPE m stateset\n", PROM);
    expect(error.message).toMatch(/^line 1: unknown metric type "stateset"/);
  });

  it("rejects a TYPE line without a type", () => {
    const error = parseError("# TYPE m\n", PROM);
    expect(error.message).toMatch(/^line 1: # TYPE m is missing the type/);
  });

  it("rejects a second TYPE line", () => {
    const error = parseError("# TYPE m gauge\nm 1\n# TYPE m counter\n", PROM);
    expect(error.message).toBe("line 3: second TYPE line for m; the first is on line 1");
  });

  it("rejects a TYPE line after the samples", () => {
    const error = parseError("m 1\n# TYPE m gauge\n", PROM);
    expect(error.message).toBe(
      "line 2: TYPE line for m comes after its first sample on line 1; " +
        "put HELP and TYPE before the samples",
    );
  });

  it("skips comments and blank lines", () => {
    const text = "# a comment\n\n   \n  # indented comment\n#no space\nm 1\n";
    const samples = parseExposition(text, PROM).samples;
    expect(samples).toHaveLength(1);
    expect(samples[0]?.line).toBe(6);
  });

  it("skips comments and blank lines in OpenMetrics", () => {
    const text = "# a comment\n\nm 1\n# EOF\n";
    const samples = parseExposition(text, OM).samples;
    expect(samples).toHaveLength(1);
    expect(samples[0]?.line).toBe(3);
  });

  it("treats # UNIT as a comment in 0.0.4", () => {
    const { families } = parseExposition("# UNIT m seconds\nm 1\n", PROM);
    expect(families[0]?.unit).toBeNull();
  });

  it("reads # UNIT in OpenMetrics", () => {
    const text = "# TYPE m_seconds gauge\n# UNIT m_seconds seconds\nm_seconds 1\n# EOF\n";
    const { families } = parseExposition(text, OM);
    expect(families[0]?.unit).toBe("seconds");
  });

  it("rejects content after # EOF", () => {
    const error = parseError("m 1\n# EOF\nn 2\n", OM);
    expect(error.message).toBe("line 3: unexpected content after # EOF on line 2");
  });

  it("treats # EOF as a comment in 0.0.4", () => {
    const samples = parseExposition("m 1\n# EOF\nn 2\n", PROM).samples;
    expect(samples.map((sample) => sample.name)).toEqual(["m", "n"]);
  });

  it("accepts CRLF line endings and a missing final newline", () => {
    const samples = parseExposition("a 1\r\nb 2", PROM).samples;
    expect(samples.map((sample) => [sample.name, sample.value])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });
});

describe("OpenMetrics counters and exemplars", () => {
  it("rejects a counter sample without _total", () => {
    const error = parseError("# TYPE c counter\nc 1\n# EOF\n", OM);
    expect(error.message).toBe(
      "line 2: sample c does not fit the counter c declared on line 1; " +
        "its samples are named c_total and c_created",
    );
  });

  it("accepts a counter named c in 0.0.4", () => {
    const [sample] = parseExposition("# TYPE c counter\nc 1\n", PROM).samples;
    expect(sample?.family).toBe("c");
  });

  it("drops an exemplar after the timestamp", () => {
    const text = '# TYPE c counter\nc_total 4 1726839813.5 # {trace_id="abc"} 1 1726839813.1\n# EOF\n';
    const [sample] = parseExposition(text, OM).samples;
    expect(sample?.value).toBe(4);
    expect(sample?.timestampMs).toBe(1726839813500);
    expect(sample?.labels).toEqual({});
  });

  it("rejects an exemplar with a bad value", () => {
    const text = '# TYPE c counter\nc_total 4 # {trace_id="abc"} x\n# EOF\n';
    const error = parseError(text, OM);
    expect(error.message).toBe('line 2: invalid value "x" in the exemplar of c_total');
  });

  it("rejects an exemplar in 0.0.4 text", () => {
    const error = parseError('c_total 4 # {trace_id="abc"} 1\n', PROM);
    expect(error.message).toMatch(/^line 1: invalid timestamp "#" for sample c_total/);
  });
});
