import { describe, expect, it } from "vitest";

import {
  parseNabCsv,
  parseNabTimestamp,
  readAnomalyWindows,
  readNabSeries,
} from "@/lib/demo/nab";

describe("parseNabTimestamp", () => {
  it("reads NAB times as UTC", () => {
    expect(parseNabTimestamp("2014-04-10 00:04:00")).toBe(
      Date.UTC(2014, 3, 10, 0, 4, 0),
    );
  });

  it("ignores the fractional part of label times", () => {
    expect(parseNabTimestamp("2014-04-12 09:04:00.000000")).toBe(
      Date.UTC(2014, 3, 12, 9, 4, 0),
    );
  });

  it("rejects other formats", () => {
    expect(() => parseNabTimestamp("2014-04-10T00:04:00Z")).toThrow(
      /invalid NAB timestamp/,
    );
  });
});

describe("parseNabCsv", () => {
  it("parses rows in file order", () => {
    const series = parseNabCsv(
      "timestamp,value\n2014-01-01 00:00:00,1.5\n2014-01-01 00:05:00,2\n",
    );
    expect(series.timestamps).toEqual([
      Date.UTC(2014, 0, 1, 0, 0),
      Date.UTC(2014, 0, 1, 0, 5),
    ]);
    expect(series.values).toEqual([1.5, 2]);
  });

  it("rejects a wrong header", () => {
    expect(() => parseNabCsv("time,value\n", "x.csv")).toThrow(
      'x.csv: invalid header "time,value"',
    );
  });

  it("names the line of a non-numeric value", () => {
    expect(() =>
      parseNabCsv(
        "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n",
        "x.csv",
      ),
    ).toThrow('x.csv line 3: value "abc" is not a number');
  });

  it("names the line of a bad timestamp", () => {
    expect(() =>
      parseNabCsv("timestamp,value\nyesterday,1\n", "x.csv"),
    ).toThrow(/x\.csv line 2: invalid NAB timestamp/);
  });

  it("rejects a file without rows", () => {
    expect(() => parseNabCsv("timestamp,value\n", "x.csv")).toThrow(
      "x.csv: no data rows",
    );
  });
});

describe("NAB files in data/nab", () => {
  it("reads the ELB request count file", async () => {
    const series = await readNabSeries(
      "realAWSCloudwatch/elb_request_count_8c0756.csv",
    );
    expect(series.timestamps).toHaveLength(4032);
    expect(series.timestamps[0]).toBe(Date.UTC(2014, 3, 10, 0, 4));
    expect(series.timestamps.at(-1)).toBe(Date.UTC(2014, 3, 24, 0, 39));
    expect(Math.min(...series.values)).toBe(1);
    expect(Math.max(...series.values)).toBe(656);
  });

  it("keeps the duplicate timestamps of a file", async () => {
    const series = await readNabSeries(
      "realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv",
    );
    const duplicate = Date.UTC(2014, 2, 9, 3, 0);
    const rows = series.timestamps.filter((ts) => ts === duplicate);
    expect(rows).toHaveLength(12);
    expect(series.timestamps).toHaveLength(4730);
  });

  it("reads the labelled windows", async () => {
    const windows = await readAnomalyWindows();
    expect(
      windows.get("realAWSCloudwatch/elb_request_count_8c0756.csv"),
    ).toEqual([
      {
        start: Date.UTC(2014, 3, 12, 9, 4),
        end: Date.UTC(2014, 3, 13, 1, 44),
      },
      {
        start: Date.UTC(2014, 3, 22, 11, 14),
        end: Date.UTC(2014, 3, 23, 3, 54),
      },
    ]);
  });
});
