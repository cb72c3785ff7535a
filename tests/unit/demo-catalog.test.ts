import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import {
  DEMO_DEPLOYMENTS,
  DEMO_SERIES,
  DEMO_SERVICES,
} from "@/lib/demo/catalog";
import {
  NAB_DIR,
  parseNabTimestamp,
  readAnomalyWindows,
  readNabSeries,
} from "@/lib/demo/nab";
import { buildDeployments } from "@/lib/demo/tracks";
import { METRIC_NAME_PATTERN } from "@/lib/ingest/schemas";

const HOUR = 60 * 60 * 1000;

describe("demo catalog", () => {
  it("uses each AWS CloudWatch file of NAB once", () => {
    const files = readdirSync(path.join(NAB_DIR, "realAWSCloudwatch"))
      .filter((name) => name.endsWith(".csv"))
      .map((name) => `realAWSCloudwatch/${name}`)
      .sort();
    const measured = DEMO_SERIES.filter((entry) => !entry.derived).map(
      (entry) => entry.file,
    );
    expect(files).toHaveLength(17);
    expect([...measured].sort()).toEqual(files);
  });

  it("has one derived series, the checkout error counter", () => {
    const derived = DEMO_SERIES.filter((entry) => entry.derived);
    expect(derived).toHaveLength(1);
    expect(derived[0]!.name).toBe("elb_5xx_count");
  });

  it("gives every series a valid metric name and a known service", () => {
    const slugs = new Set(DEMO_SERVICES.map((service) => service.slug));
    for (const entry of DEMO_SERIES) {
      expect(entry.name).toMatch(METRIC_NAME_PATTERN);
      expect(slugs.has(entry.service), entry.service).toBe(true);
    }
  });

  it("gives every series a unique name and label set", () => {
    const keys = DEMO_SERIES.map(
      (entry) =>
        `${entry.service}/${entry.name}/${JSON.stringify(entry.labels)}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("declares request and error counters that the service sends", () => {
    for (const service of DEMO_SERVICES) {
      const names = DEMO_SERIES.filter(
        (entry) => entry.service === service.slug,
      ).map((entry) => entry.name);
      if (service.requestMetric) expect(names).toContain(service.requestMetric);
      if (service.errorMetric) expect(names).toContain(service.errorMetric);
      expect(existsSync(path.join(NAB_DIR, service.referenceFile))).toBe(true);
    }
  });

  it("places deployments inside the reference files", async () => {
    for (const deployment of DEMO_DEPLOYMENTS) {
      const service = DEMO_SERVICES.find((s) => s.slug === deployment.service)!;
      const file = await readNabSeries(service.referenceFile);
      const time = parseNabTimestamp(deployment.at);
      expect(time).toBeGreaterThan(file.timestamps[0]!);
      expect(time).toBeLessThan(file.timestamps.at(-1)!);
    }
  });

  it("deploys every service shortly before a labelled window", async () => {
    const windows = await readAnomalyWindows();
    for (const service of DEMO_SERVICES) {
      const starts = (windows.get(service.referenceFile) ?? []).map(
        (window) => window.start,
      );
      const before = DEMO_DEPLOYMENTS.filter(
        (deployment) => deployment.service === service.slug,
      ).filter((deployment) => {
        const time = parseNabTimestamp(deployment.at);
        return starts.some((start) => start - time > 0 && start - time <= HOUR);
      });
      expect(before.length, service.slug).toBeGreaterThan(0);
    }
  });

  it("builds deployment payloads with stable ids and shifted times", () => {
    const anchor = Date.UTC(2026, 11, 4, 12);
    const shifts = new Map(
      DEMO_SERVICES.map((service) => [service.referenceFile, 1_000_000]),
    );
    const deployments = buildDeployments(shifts);
    expect(deployments).toHaveLength(DEMO_DEPLOYMENTS.length);
    const ids = deployments.map((entry) => entry.payload.id);
    expect(new Set(ids).size).toBe(ids.length);
    const first = deployments.find(
      (entry) => entry.payload.id === "demo-checkout-api-2.14.0",
    )!;
    expect(first.time).toBe(
      parseNabTimestamp("2014-04-10 15:00:00") + 1_000_000,
    );
    expect(first.payload.deployedAt).toBe(new Date(first.time).toISOString());
    expect(first.payload.commitSha).toMatch(/^[0-9a-f]{40}$/);
    const leadMs = first.time - Date.parse(first.payload.commitAt);
    expect(leadMs).toBeGreaterThanOrEqual(3_600_000);
    expect(leadMs).toBeLessThanOrEqual(48 * 3_600_000);
    expect(anchor).toBeGreaterThan(first.time);
  });
});
