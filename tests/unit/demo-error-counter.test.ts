import { describe, expect, it } from "vitest";

import { ERROR_COUNTER_SOURCE } from "@/lib/demo/catalog";
import {
  anomalyIntensity,
  BASE_ERROR_SHARE,
  deriveErrorCounts,
  errorShareAt,
  PEAK_ERROR_SHARE,
  uniformFromKey,
} from "@/lib/demo/error-counter";
import { readAnomalyWindows, readNabSeries } from "@/lib/demo/nab";

const window = { start: 1_000, end: 2_000 };

describe("anomalyIntensity", () => {
  it("is 0 outside windows and at their edges", () => {
    expect(anomalyIntensity(999, [window])).toBe(0);
    expect(anomalyIntensity(2_001, [window])).toBe(0);
    expect(anomalyIntensity(1_000, [window])).toBe(0);
    expect(anomalyIntensity(2_000, [window])).toBeCloseTo(0, 12);
  });

  it("peaks at the middle of a window", () => {
    expect(anomalyIntensity(1_500, [window])).toBeCloseTo(1, 12);
    expect(anomalyIntensity(1_250, [window])).toBeCloseTo(0.5, 12);
  });
});

describe("errorShareAt", () => {
  it("rises from the base share to the peak share", () => {
    expect(errorShareAt(0, [window])).toBe(BASE_ERROR_SHARE);
    expect(errorShareAt(1_500, [window])).toBeCloseTo(PEAK_ERROR_SHARE, 12);
  });
});

describe("uniformFromKey", () => {
  it("is deterministic and within [0, 1)", () => {
    for (let key = 0; key < 1000; key += 1) {
      const value = uniformFromKey(key * 300, 1);
      expect(value).toBe(uniformFromKey(key * 300, 1));
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

describe("deriveErrorCounts on the ELB request count", () => {
  it("derives whole counts between 0 and the request count", async () => {
    const requests = await readNabSeries(ERROR_COUNTER_SOURCE);
    const windows = (await readAnomalyWindows()).get(ERROR_COUNTER_SOURCE)!;
    const errors = deriveErrorCounts(
      requests.timestamps,
      requests.values,
      windows,
    );
    expect(errors).toHaveLength(requests.values.length);
    errors.forEach((count, index) => {
      expect(Number.isInteger(count)).toBe(true);
      expect(count).toBeGreaterThanOrEqual(0);
      expect(count).toBeLessThanOrEqual(requests.values[index]!);
    });
  });

  it("gives the same counts on every run", async () => {
    const requests = await readNabSeries(ERROR_COUNTER_SOURCE);
    const windows = (await readAnomalyWindows()).get(ERROR_COUNTER_SOURCE)!;
    const first = deriveErrorCounts(
      requests.timestamps,
      requests.values,
      windows,
    );
    const second = deriveErrorCounts(
      requests.timestamps,
      requests.values,
      windows,
    );
    expect(second).toEqual(first);
  });

  it("fails a larger share inside the labelled windows", async () => {
    const requests = await readNabSeries(ERROR_COUNTER_SOURCE);
    const windows = (await readAnomalyWindows()).get(ERROR_COUNTER_SOURCE)!;
    const errors = deriveErrorCounts(
      requests.timestamps,
      requests.values,
      windows,
    );
    let insideErrors = 0;
    let insideRequests = 0;
    let outsideErrors = 0;
    let outsideRequests = 0;
    requests.timestamps.forEach((timestamp, index) => {
      const inside = windows.some(
        (w) => timestamp >= w.start && timestamp <= w.end,
      );
      if (inside) {
        insideErrors += errors[index]!;
        insideRequests += requests.values[index]!;
      } else {
        outsideErrors += errors[index]!;
        outsideRequests += requests.values[index]!;
      }
    });
    const outsideShare = outsideErrors / outsideRequests;
    const insideShare = insideErrors / insideRequests;
    expect(outsideShare).toBeGreaterThan(BASE_ERROR_SHARE * 0.8);
    expect(outsideShare).toBeLessThan(BASE_ERROR_SHARE * 1.2);
    expect(insideShare).toBeGreaterThan(outsideShare * 5);
  });
});
