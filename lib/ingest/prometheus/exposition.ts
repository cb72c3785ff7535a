// Parser for the two Prometheus text formats that clients push:
//   - the text exposition format 0.0.4 (Content-Type text/plain; version=0.0.4),
//   - OpenMetrics 1.0 text (Content-Type application/openmetrics-text).
// It turns a body into samples with their line numbers and touches no
// database. Histograms and summaries come out as their component samples
// (_bucket{le=...}, _sum, _count, {quantile=...}) and OpenMetrics _created
// lines as ordinary samples. Exemplars are checked for syntax and dropped.
//
// The parser is strict where leniency would lose or misplace data: the first
// invalid line throws an ExpositionError naming the line, so that a caller
// can reject the whole push instead of storing part of it. It is lenient
// where nothing is lost: blank lines and `#` comments other than HELP, TYPE,
// UNIT and EOF are skipped in both formats, although OpenMetrics 1.0 allows
// neither.

export type ExpositionFormat = "prometheus-0.0.4" | "openmetrics-1.0";

export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "gaugehistogram"
  | "summary"
  | "info"
  | "stateset"
  | "untyped"
  | "unknown";

/** One sample line of the body. */
export type ExpositionSample = {
  /** 1-based line number in the body. */
  line: number;
  /** Sample name, such as "http_request_duration_seconds_bucket". */
  name: string;
  /** Labels in the order they were written, with escapes decoded. */
  labels: Record<string, string>;
  /** Value, which may be NaN, +Infinity or -Infinity. */
  value: number;
  /**
   * Epoch milliseconds, or null when the line has no timestamp. OpenMetrics
   * timestamps are seconds and are converted here, with fractions below a
   * millisecond truncated toward zero.
   */
  timestampMs: number | null;
  /** Name of the metric family the sample belongs to, such as "http_requests". */
  family: string;
};

/** A metric family as declared by HELP, TYPE and UNIT lines, or implied by a sample. */
export type MetricFamily = {
  name: string;
  /** "untyped" (0.0.4) or "unknown" (OpenMetrics) when no TYPE line names it. */
  type: MetricType;
  /** HELP text with escapes decoded, or null. */
  help: string | null;
  /** UNIT (OpenMetrics only), or null. */
  unit: string | null;
  /** Line of the first HELP, TYPE, UNIT or sample line of the family. */
  line: number;
};

export type ExpositionResult = {
  samples: ExpositionSample[];
  /** Families in order of first appearance. */
  families: MetricFamily[];
};

/** An invalid body: the message starts with "line N: ". */
export class ExpositionError extends Error {
  readonly line: number;

  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = "ExpositionError";
    this.line = line;
  }
}

const METRIC_TYPES: Record<ExpositionFormat, readonly MetricType[]> = {
  "prometheus-0.0.4": ["counter", "gauge", "histogram", "summary", "untyped"],
  "openmetrics-1.0": [
    "counter",
    "gauge",
    "histogram",
    "gaugehistogram",
    "summary",
    "info",
    "stateset",
    "unknown",
  ],
};

/**
 * Sample name suffixes of each type, "" being the family name itself. In
 * 0.0.4 a counter's name usually ends in _total already, as part of the
 * family name. In OpenMetrics the family name has no _total and the sample
 * must add it.
 */
const SAMPLE_SUFFIXES: Record<ExpositionFormat, Record<MetricType, readonly string[]>> = {
  "prometheus-0.0.4": {
    counter: [""],
    gauge: [""],
    untyped: [""],
    histogram: ["_bucket", "_sum", "_count"],
    summary: ["", "_sum", "_count"],
    gaugehistogram: [],
    info: [],
    stateset: [],
    unknown: [],
  },
  "openmetrics-1.0": {
    counter: ["_total", "_created"],
    gauge: [""],
    unknown: [""],
    histogram: ["_bucket", "_sum", "_count", "_created"],
    gaugehistogram: ["_bucket", "_gcount", "_gsum"],
    summary: ["", "_sum", "_count", "_created"],
    info: ["_info"],
    stateset: [""],
    untyped: [],
  },
};

const KNOWN_SUFFIXES = [
  "_total",
  "_created",
  "_bucket",
  "_sum",
  "_count",
  "_gcount",
  "_gsum",
  "_info",
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(?:inity)?$/i;
const INTEGER = /^-?\d+$/;

function isNameStart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    code === 0x5f // _
  );
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 0x30 && code <= 0x39);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Parses a sample value or an le/quantile bound: a decimal float, NaN, or
 * Inf/+Inf/-Inf (also spelled Infinity, any case), as Go's strconv.ParseFloat
 * reads them for the Prometheus parsers. Returns null when the text matches
 * none of these or overflows float64.
 */
export function parseFloatText(text: string): number | null {
  if (DECIMAL_NUMBER.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : null;
  }
  if (INFINITY.test(text)) {
    return text.startsWith("-") ? -Infinity : Infinity;
  }
  if (text.toLowerCase() === "nan") return NaN;
  return null;
}

/**
 * Converts an OpenMetrics timestamp, decimal seconds such as
 * "1726839813.016397" or "1.7268398142239082e+09", to epoch milliseconds.
 * The decimal point is moved in the text itself, because seconds * 1000 in
 * floating point can land just below the exact value and truncate to the
 * millisecond before it. Returns null for anything that is not a finite
 * decimal number or falls outside the safe integer range.
 */
export function secondsTextToMs(text: string): number | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return null;
  const [, sign, whole = "", fraction = "", exponent = "0"] = match;
  if (whole === "" && fraction === "") return null;

  const digits = whole + fraction;
  // Position of the decimal point within `digits` after scaling to ms.
  const point = whole.length + Number(exponent) + 3;
  if (point > 30) return null;
  let integerDigits: string;
  if (point <= 0) integerDigits = "0";
  else if (point >= digits.length) integerDigits = digits.padEnd(point, "0");
  else integerDigits = digits.slice(0, point);

  const magnitude = Number(integerDigits);
  if (!Number.isSafeInteger(magnitude)) return null;
  return sign === "-" && magnitude !== 0 ? -magnitude : magnitude;
}

/** Decodes HELP text escapes: \\ and \n, and also \" in OpenMetrics. */
function unescapeHelp(
  text: string,
  format: ExpositionFormat,
  lineNumber: number,
): string {
  if (!text.includes("\\")) return text;
  let result = "";
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (char !== "\\") {
      result += char;
      continue;
    }
    const next = text[i + 1];
    if (next === "\\") result += "\\";
    else if (next === "n") result += "\n";
    else if (next === '"' && format === "openmetrics-1.0") result += '"';
    else {
      const allowed =
        format === "openmetrics-1.0" ? '\\\\, \\" and \\n' : "\\\\ and \\n";
      throw new ExpositionError(
        lineNumber,
        next === undefined
          ? "HELP text ends with a lone backslash; write \\\\ for a backslash"
          : `invalid escape \\${next} in HELP text; only ${allowed} are allowed`,
      );
    }
    i += 1;
  }
  return result;
}

/** Scanner over one sample line, with errors that name the line. */
class LineScanner {
  position = 0;

  constructor(
    readonly text: string,
    readonly lineNumber: number,
  ) {}

  fail(reason: string): never {
    throw new ExpositionError(this.lineNumber, reason);
  }

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.position);
  }

  skipBlanks(): number {
    const start = this.position;
    while (!this.atEnd() && isBlank(this.peek())) this.position += 1;
    return this.position - start;
  }

  /** Reads up to the next blank or the end of the line. */
  readToken(): string {
    const start = this.position;
    while (!this.atEnd() && !isBlank(this.peek())) this.position += 1;
    return this.text.slice(start, this.position);
  }

  readMetricName(): string {
    const start = this.position;
    if (!this.atEnd() && (isNameStart(this.peek()) || this.peek() === 0x3a)) {
      this.position += 1;
      while (!this.atEnd() && (isNameChar(this.peek()) || this.peek() === 0x3a)) {
        this.position += 1;
      }
    }
    if (this.position === start) {
      if (this.text[start] === "{") {
        this.fail(
          "the metric name must come before the braces; quoted metric names " +
            'such as {"my.metric"} are not supported',
        );
      }
      const invalidName = this.text.slice(start, start + 40).split(/[\s{]/)[0];
      this.fail(
        `invalid metric name ${JSON.stringify(invalidName)}: names must match ` +
          "[a-zA-Z_:][a-zA-Z0-9_:]*",
      );
    }
    return this.text.slice(start, this.position);
  }

  /** Reads `{name="value",...}` from the opening brace, decoding escapes. */
  readLabels(where: string): Record<string, string> {
    const labels: Record<string, string> = Object.create(null);
    this.position += 1; // {
    for (;;) {
      this.skipBlanks();
      if (this.atEnd()) this.fail(`the label set of ${where} is missing its closing }`);
      if (this.peek() === 0x7d) {
        this.position += 1;
        break;
      }

      const nameStart = this.position;
      if (isNameStart(this.peek())) {
        this.position += 1;
        while (!this.atEnd() && isNameChar(this.peek())) this.position += 1;
      }
      if (this.position === nameStart) {
        if (this.text[nameStart] === '"') {
          this.fail(`quoted label names are not supported (in ${where})`);
        }
        const invalidName = this.text
          .slice(nameStart, nameStart + 40)
          .split(/[\s=,}]/)[0];
        this.fail(
          `invalid label name ${JSON.stringify(invalidName)} in ${where}: label ` +
            "names must match [a-zA-Z_][a-zA-Z0-9_]*",
        );
      }
      const name = this.text.slice(nameStart, this.position);
      if (Object.hasOwn(labels, name)) {
        this.fail(`duplicate label name ${name} in ${where}`);
      }

      this.skipBlanks();
      if (this.atEnd() || this.peek() !== 0x3d) {
        this.fail(`label ${name} in ${where} is missing = after its name`);
      }
      this.position += 1;
      this.skipBlanks();
      if (this.atEnd() || this.peek() !== 0x22) {
        this.fail(`the value of label ${name} in ${where} must be a quoted string`);
      }
      labels[name] = this.readLabelValue(name, where);

      this.skipBlanks();
      if (this.atEnd()) this.fail(`the label set of ${where} is missing its closing }`);
      const separator = this.peek();
      if (separator === 0x2c) {
        this.position += 1;
      } else if (separator !== 0x7d) {
        this.fail(
          `expected , or } after the value of label ${name} in ${where}, ` +
            `got ${JSON.stringify(this.text[this.position])}`,
        );
      }
    }
    return { ...labels };
  }

  /** Reads a quoted label value from its opening quote. */
  private readLabelValue(name: string, where: string): string {
    this.position += 1; // opening quote
    let value = "";
    let chunkStart = this.position;
    for (;;) {
      if (this.atEnd()) {
        this.fail(`the value of label ${name} in ${where} is missing its closing quote`);
      }
      const code = this.peek();
      if (code === 0x22) {
        value += this.text.slice(chunkStart, this.position);
        this.position += 1;
        return value;
      }
      if (code !== 0x5c) {
        this.position += 1;
        continue;
      }

      value += this.text.slice(chunkStart, this.position);
      const next = this.text[this.position + 1];
      if (next === "\\") value += "\\";
      else if (next === '"') value += '"';
      else if (next === "n") value += "\n";
      else if (next === undefined) {
        this.fail(`the value of label ${name} in ${where} is missing its closing quote`);
      } else {
        this.fail(
          `invalid escape \\${next} in the value of label ${name} in ${where}; ` +
            'only \\\\, \\" and \\n are allowed',
        );
      }
      this.position += 2;
      chunkStart = this.position;
    }
  }
}

/**
 * Reads the sample value token, naming the sample when it is missing or
 * invalid. `blanksBefore` counts blanks already skipped before the value.
 */
function readValue(scanner: LineScanner, name: string, blanksBefore: number): number {
  const blanks = blanksBefore + scanner.skipBlanks();
  if (scanner.atEnd()) scanner.fail(`sample ${name} is missing its value`);
  if (blanks === 0) {
    scanner.fail(
      `expected a space and the value after sample ${name}, got ` +
        JSON.stringify(scanner.text.slice(scanner.position, scanner.position + 20)),
    );
  }
  const token = scanner.readToken();
  const value = parseFloatText(token);
  if (value === null) {
    scanner.fail(
      `invalid value ${JSON.stringify(token)} for sample ${name}: expected a ` +
        "number, NaN, +Inf or -Inf",
    );
  }
  return value;
}

/**
 * Reads an OpenMetrics exemplar (`# {labels} value [timestamp]`) from its
 * `#`, checking its syntax. Exemplars are not stored.
 */
function skipExemplar(scanner: LineScanner, name: string): void {
  const where = `the exemplar of ${name}`;
  scanner.position += 1; // #
  if (scanner.skipBlanks() === 0 || scanner.atEnd() || scanner.peek() !== 0x7b) {
    scanner.fail(`${where} must be written as # {labels} value [timestamp]`);
  }
  scanner.readLabels(where);
  if (scanner.skipBlanks() === 0 || scanner.atEnd()) {
    scanner.fail(`${where} is missing its value`);
  }
  const value = scanner.readToken();
  if (parseFloatText(value) === null) {
    scanner.fail(`invalid value ${JSON.stringify(value)} in ${where}`);
  }
  scanner.skipBlanks();
  if (scanner.atEnd()) return;
  const timestamp = scanner.readToken();
  if (secondsTextToMs(timestamp) === null) {
    scanner.fail(
      `invalid timestamp ${JSON.stringify(timestamp)} in ${where}: expected ` +
        "epoch seconds",
    );
  }
}

/** Reads the optional timestamp and, in OpenMetrics, the optional exemplar. */
function readTimestamp(
  scanner: LineScanner,
  name: string,
  format: ExpositionFormat,
): number | null {
  scanner.skipBlanks();
  if (scanner.atEnd()) return null;

  let timestampMs: number | null = null;
  if (format === "openmetrics-1.0") {
    if (scanner.peek() !== 0x23) {
      const token = scanner.readToken();
      timestampMs = secondsTextToMs(token);
      if (timestampMs === null) {
        scanner.fail(
          `invalid timestamp ${JSON.stringify(token)} for sample ${name}: ` +
            "OpenMetrics timestamps are epoch seconds, such as 1726839813.016",
        );
      }
      scanner.skipBlanks();
    }
    if (!scanner.atEnd() && scanner.peek() === 0x23) {
      skipExemplar(scanner, name);
      scanner.skipBlanks();
    }
  } else {
    const token = scanner.readToken();
    const ms = INTEGER.test(token) ? Number(token) : NaN;
    if (!Number.isSafeInteger(ms)) {
      scanner.fail(
        `invalid timestamp ${JSON.stringify(token)} for sample ${name}: the ` +
          "0.0.4 text format takes an integer of epoch milliseconds",
      );
    }
    timestampMs = ms;
    scanner.skipBlanks();
  }

  if (!scanner.atEnd()) {
    const extra = scanner.text.slice(scanner.position, scanner.position + 40);
    scanner.fail(
      `unexpected text ${JSON.stringify(extra)} after the timestamp of ` +
        `sample ${name}`,
    );
  }
  return timestampMs;
}

function formatList(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

type FamilyState = MetricFamily & {
  typeLine: number | null;
  helpLine: number | null;
  unitLine: number | null;
  firstSampleLine: number | null;
};

/** Parser state for one body. */
class ExpositionParser {
  private readonly families = new Map<string, FamilyState>();
  private readonly samples: ExpositionSample[] = [];
  private readonly defaultType: MetricType;

  constructor(private readonly format: ExpositionFormat) {
    this.defaultType = format === "openmetrics-1.0" ? "unknown" : "untyped";
  }

  parse(text: string): ExpositionResult {
    const lines = text.split("\n");
    // A final newline leaves an empty last element, which is not a line.
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();

    let eofLine: number | null = null;
    for (let index = 0; index < lines.length; index += 1) {
      const lineNumber = index + 1;
      let line = lines[index]!;
      if (line.endsWith("\r")) line = line.slice(0, -1);

      if (eofLine !== null) {
        throw new ExpositionError(
          lineNumber,
          `unexpected content after # EOF on line ${eofLine}`,
        );
      }
      const content = line.replace(/^[ \t]+/, "");
      if (content === "") continue;
      if (content.startsWith("#")) {
        if (this.parseDescriptor(content, lineNumber)) eofLine = lineNumber;
        continue;
      }
      this.parseSample(line, lineNumber);
    }

    if (this.format === "openmetrics-1.0" && eofLine === null) {
      throw new ExpositionError(
        lines.length + 1,
        "OpenMetrics text must end with a # EOF line; the body may be truncated",
      );
    }

    // Map iteration follows insertion, which is the order of first appearance.
    const families = [...this.families.values()].map(
      ({ name, type, help, unit, line }) => ({ name, type, help, unit, line }),
    );
    return { samples: this.samples, families };
  }

  private familyFor(name: string, lineNumber: number): FamilyState {
    let family = this.families.get(name);
    if (!family) {
      family = {
        name,
        type: this.defaultType,
        help: null,
        unit: null,
        line: lineNumber,
        typeLine: null,
        helpLine: null,
        unitLine: null,
        firstSampleLine: null,
      };
      this.families.set(name, family);
    }
    return family;
  }

  /**
   * Handles a line that starts with #. Returns true for # EOF in
   * OpenMetrics. Lines other than HELP, TYPE and UNIT are comments.
   */
  private parseDescriptor(line: string, lineNumber: number): boolean {
    const openMetrics = this.format === "openmetrics-1.0";
    if (openMetrics && line === "# EOF") return true;

    const match = /^#[ \t]+(HELP|TYPE|UNIT)(?:[ \t]+|$)(.*)$/.exec(line);
    if (!match) return false;
    const keyword = match[1]!;
    if (keyword === "UNIT" && !openMetrics) return false;

    const rest = match[2]!;
    const nameMatch = /^(\S*)(?:[ \t]|$)/.exec(rest)!;
    const name = nameMatch[1]!;
    if (name === "") {
      throw new ExpositionError(lineNumber, `# ${keyword} is missing the metric name`);
    }
    if (!METRIC_NAME.test(name)) {
      throw new ExpositionError(
        lineNumber,
        `invalid metric name ${JSON.stringify(name)} in # ${keyword}: names ` +
          "must match [a-zA-Z_:][a-zA-Z0-9_:]*",
      );
    }
    // The 0.0.4 format allows any run of blanks after the name. OpenMetrics
    // allows exactly one space, so its HELP text keeps any further spaces.
    const afterName = rest.slice(name.length);
    const argument = openMetrics
      ? afterName.replace(/^[ \t]/, "")
      : afterName.replace(/^[ \t]+/, "");

    const family = this.familyFor(name, lineNumber);
    if (keyword === "HELP") {
      if (family.helpLine !== null) {
        throw new ExpositionError(
          lineNumber,
          `second HELP line for ${name}; the first is on line ${family.helpLine}`,
        );
      }
      family.help = unescapeHelp(argument, this.format, lineNumber);
      family.helpLine = lineNumber;
    } else if (keyword === "TYPE") {
      this.declareType(family, argument.trim(), lineNumber);
    } else {
      if (family.unitLine !== null) {
        throw new ExpositionError(
          lineNumber,
          `second UNIT line for ${name}; the first is on line ${family.unitLine}`,
        );
      }
      family.unit = argument.trim();
      family.unitLine = lineNumber;
    }
    return false;
  }

  private declareType(family: FamilyState, typeText: string, lineNumber: number): void {
    const allowed = METRIC_TYPES[this.format];
    if (typeText === "") {
      throw new ExpositionError(
        lineNumber,
        `# TYPE ${family.name} is missing the type; expected one of ${formatList(allowed)}`,
      );
    }
    if (!(allowed as readonly string[]).includes(typeText)) {
      throw new ExpositionError(
        lineNumber,
        `unknown metric type ${JSON.stringify(typeText)} for ${family.name}; ` +
          `expected one of ${formatList(allowed)}`,
      );
    }
    if (family.typeLine !== null) {
      throw new ExpositionError(
        lineNumber,
        `second TYPE line for ${family.name}; the first is on line ${family.typeLine}`,
      );
    }
    if (family.firstSampleLine !== null) {
      throw new ExpositionError(
        lineNumber,
        `TYPE line for ${family.name} comes after its first sample on line ` +
          `${family.firstSampleLine}; put HELP and TYPE before the samples`,
      );
    }
    family.type = typeText as MetricType;
    family.typeLine = lineNumber;
  }

  /**
   * Finds the family of a sample name: the family of that exact name, or a
   * typed family whose name plus a suffix of its type gives the sample name
   * (http_duration_seconds_bucket belongs to the histogram
   * http_duration_seconds). Any other sample starts an untyped family.
   */
  private resolveFamily(name: string, lineNumber: number): FamilyState {
    const suffixes = SAMPLE_SUFFIXES[this.format];
    const exact = this.families.get(name);
    if (exact && (exact.typeLine === null || suffixes[exact.type].includes(""))) {
      return exact;
    }

    for (const suffix of KNOWN_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const base = this.families.get(name.slice(0, -suffix.length));
      if (base && base.typeLine !== null && suffixes[base.type].includes(suffix)) {
        return base;
      }
    }

    if (exact) {
      const names = suffixes[exact.type].map((suffix) => name + suffix);
      throw new ExpositionError(
        lineNumber,
        `sample ${name} does not fit the ${exact.type} ${name} declared on ` +
          `line ${exact.typeLine}; its samples are named ${formatList(names)}`,
      );
    }
    return this.familyFor(name, lineNumber);
  }

  private parseSample(line: string, lineNumber: number): void {
    const scanner = new LineScanner(line, lineNumber);
    scanner.skipBlanks();
    const name = scanner.readMetricName();
    const blanksAfterName = scanner.skipBlanks();
    let labels: Record<string, string> = {};
    let blanksBeforeValue = blanksAfterName;
    if (!scanner.atEnd() && scanner.peek() === 0x7b) {
      labels = scanner.readLabels(`sample ${name}`);
      blanksBeforeValue = 0;
    }
    const value = readValue(scanner, name, blanksBeforeValue);
    const timestampMs = readTimestamp(scanner, name, this.format);

    const family = this.resolveFamily(name, lineNumber);
    family.firstSampleLine ??= lineNumber;
    checkBounds(family, name, labels, lineNumber);
    this.samples.push({
      line: lineNumber,
      name,
      labels,
      value,
      timestampMs,
      family: family.name,
    });
  }
}

/**
 * Requires a parseable `le` label on histogram buckets and a `quantile` label
 * on summary quantiles, because without them the series cannot be read back.
 */
function checkBounds(
  family: FamilyState,
  name: string,
  labels: Record<string, string>,
  lineNumber: number,
): void {
  let bound: "le" | "quantile" | null = null;
  const histogram = family.type === "histogram" || family.type === "gaugehistogram";
  if (histogram && name === `${family.name}_bucket`) bound = "le";
  if (family.type === "summary" && name === family.name) bound = "quantile";
  if (bound === null) return;

  const text = labels[bound];
  if (text === undefined) {
    throw new ExpositionError(
      lineNumber,
      `${family.type} sample ${name} is missing its ${bound} label`,
    );
  }
  if (parseFloatText(text) === null) {
    throw new ExpositionError(
      lineNumber,
      `invalid ${bound} label value ${JSON.stringify(text)} on ${name}: ` +
        "expected a number or +Inf",
    );
  }
}

/**
 * Parses a body in the 0.0.4 text format or OpenMetrics 1.0 text into
 * samples and metric families. Throws ExpositionError at the first invalid
 * line, so a caller never sees part of a body.
 */
export function parseExposition(
  text: string,
  format: ExpositionFormat,
): ExpositionResult {
  return new ExpositionParser(format).parse(text);
}
