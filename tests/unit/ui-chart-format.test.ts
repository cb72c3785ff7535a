import { describe, expect, it } from "vitest";

import {
  formatAxisValue,
  formatBytes,
  formatExpectedRange,
  formatMeasurement,
  unitForSeries,
} from "@/components/chart-format";
import {
  formatScore,
  formatSignificant,
  formatThreshold,
} from "@/components/format";

describe("unitForSeries", () => {
  it.each([
    ["rds_cpu_utilization", "percent"],
    ["ec2_network_in_bytes", "bytes"],
    ["latency_p99_ms", "milliseconds"],
    ["job_duration_seconds", "seconds"],
    ["elb_request_count", "count"],
    ["queue_depth", "count"],
  ] as const)("maps %s to %s", (name, unit) => {
    expect(unitForSeries(name)).toBe(unit);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1_000, "1 kB"],
    [1_234_567, "1.2 MB"],
    [5_600_000_000, "5.6 GB"],
    [-2_500, "-2.5 kB"],
  ])("formats %d as %s", (value, text) => {
    expect(formatBytes(value)).toBe(text);
  });
});

describe("formatAxisValue", () => {
  it("adds a percent sign", () => {
    expect(formatAxisValue(45, "percent")).toBe("45%");
  });

  it("uses compact notation for counts", () => {
    expect(formatAxisValue(1_234_567, "count")).toBe("1.2M");
  });

  it("uses byte prefixes", () => {
    expect(formatAxisValue(3_400_000, "bytes")).toBe("3.4 MB");
  });

  it("adds milliseconds", () => {
    expect(formatAxisValue(1_500, "milliseconds")).toBe("1.5K ms");
  });
});

describe("formatExpectedRange", () => {
  it("gives both bounds in the unit", () => {
    expect(formatExpectedRange(12, 40, "milliseconds")).toBe("12 ms to 40 ms");
  });

  it("states a band clipped at 0 as at most", () => {
    expect(formatExpectedRange(0, 1_250_000, "bytes")).toBe("at most 1.25 MB");
  });

  it("states a band clipped to 0 as at most 0", () => {
    expect(formatExpectedRange(0, 0, "bytes")).toBe("at most 0 B");
  });

  it("keeps a negative low bound", () => {
    expect(formatExpectedRange(-3, 5, "count")).toBe("-3 to 5");
  });
});

describe("formatMeasurement", () => {
  it("keeps about three significant digits", () => {
    expect(formatMeasurement(76.234, "percent")).toBe("76.2%");
  });

  it("formats bytes with two decimals", () => {
    expect(formatMeasurement(1_234_567, "bytes")).toBe("1.23 MB");
  });
});

describe("score and threshold formats", () => {
  it("shows scores with two decimals", () => {
    expect(formatScore(2.0834)).toBe("2.08");
    expect(formatScore(0.1)).toBe("0.10");
  });

  it("shows thresholds with three digits", () => {
    expect(formatThreshold(0.41234)).toBe("0.412");
    expect(formatThreshold(1.5)).toBe("1.50");
  });
});

describe("formatSignificant", () => {
  it.each([
    [76.234, "76.23"],
    [12.2251, "12.23"],
    [1234567, "1,235,000"],
    [0.0123456, "0.01235"],
    [0, "0"],
  ])("formats %d as %s", (value, text) => {
    expect(formatSignificant(value)).toBe(text);
  });
});
