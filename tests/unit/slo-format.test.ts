import { describe, expect, it } from "vitest";

import { EMPTY_SLO_FORM, findSloBodyError, sloRequestBody } from "@/components/slo-form-values";
import { formatBudgetAmount, formatBurnRate, formatRatio } from "@/lib/slo/format";
import { burnRate } from "@/lib/slo/status";

// Text forms of SLO numbers and the request body the SLO form sends.

describe("SLO formatting", () => {
  it("formats shares as percentages", () => {
    expect(formatRatio(0.999)).toBe("99.9 %");
    expect(formatRatio(0.99951)).toBe("99.951 %");
    expect(formatRatio(1)).toBe("100 %");
    expect(formatRatio(0)).toBe("0 %");
    expect(formatRatio(-0.75)).toBe("-75 %");
    expect(formatRatio(null)).toBe("no data");
  });

  it("formats burn rates", () => {
    expect(formatBurnRate(14.4)).toBe("14.4x");
    expect(formatBurnRate(0.5)).toBe("0.50x");
    expect(formatBurnRate(1000)).toBe("1000x");
    expect(formatBurnRate(null)).toBe("no data");
  });

  it("formats budgets in their unit", () => {
    expect(formatBudgetAmount(86.4, "seconds")).toBe("1.4 min");
    expect(formatBudgetAmount(1204.3, "requests")).toBe("1204 requests");
    expect(formatBudgetAmount(2.5, "points")).toBe("2.5 points");
  });

  it("computes burn rate from a measure", () => {
    expect(burnRate({ total: 1000, bad: 10 }, 0.99)).toBeCloseTo(1, 12);
    expect(burnRate({ total: 1000, bad: 144 }, 0.99)).toBeCloseTo(14.4, 12);
    expect(burnRate({ total: 0, bad: 0 }, 0.99)).toBeNull();
  });
});

describe("SLO form body", () => {
  it("sends the target as a share", () => {
    const body = sloRequestBody({ ...EMPTY_SLO_FORM, service: "checkout", name: "a", targetPercent: "99.95" });
    expect(body.target).toBe(0.9995);
    expect(body.windowDays).toBe(30);
    expect(body.availabilitySource).toBe("requests");
    expect(body.latencyMetric).toBeNull();
    expect(body.fastBurnRate).toBe(14.4);
  });

  it("sends latency fields for latency", () => {
    const body = sloRequestBody({
      ...EMPTY_SLO_FORM,
      service: "checkout",
      name: "p99",
      kind: "latency",
      latencyMetric: "latency_p99_ms",
      latencyThreshold: "250",
    });
    expect(body.availabilitySource).toBeNull();
    expect(body.latencyMetric).toBe("latency_p99_ms");
    expect(body.latencyThreshold).toBe(250);
  });

  it("keeps text that is not a number", () => {
    const body = sloRequestBody({ ...EMPTY_SLO_FORM, service: "checkout", name: "a", windowDays: "thirty" });
    expect(body.windowDays).toBe("thirty");
  });
});

describe("SLO form checks", () => {
  const valid = { ...EMPTY_SLO_FORM, service: "checkout", name: "requests succeed" };

  it("passes the default form", () => {
    expect(findSloBodyError(sloRequestBody(valid))).toBeNull();
  });

  it("names the field the API would reject", () => {
    const cases: Array<[Partial<typeof valid>, string]> = [
      [{ targetPercent: "40" }, "target"],
      [{ targetPercent: "99.9999999" }, "target"],
      [{ targetPercent: "90" }, "fastBurnRate"],
      [{ fastBurnRate: "0.5" }, "fastBurnRate"],
      [{ slowBurnRate: "5000" }, "slowBurnRate"],
      [{ windowDays: "400" }, "windowDays"],
      [{ fastShortMinutes: "90" }, "fastShortMinutes"],
      [{ name: "bad\u0007name" }, "name"],
      [{ name: "lone \ud800" }, "name"],
    ];
    for (const [change, field] of cases) {
      const message = findSloBodyError(sloRequestBody({ ...valid, ...change }));
      expect(message, JSON.stringify(change)).toMatch(new RegExp(`^${field} `));
    }
  });
});
