import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import {
  fnv1a64Hex,
  labelSetFingerprint,
} from "@/lib/ingest/alerts/fingerprint";
import { chooseAlertServices } from "@/lib/ingest/alerts/incidents";
import {
  alertTitle,
  parseAlertDelivery,
  severityFromLabels,
  type AlertSource,
  type ParsedAlert,
} from "@/lib/ingest/alerts/parse";

// The fixtures are real webhook bodies (tests/fixtures/alerts/README.md).
// Expected times are the fixture texts converted to UTC by hand.

const now = Date.parse("2026-12-04T12:00:00Z");
const latestAcceptedMs = now + 10 * 60_000;

function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(`tests/fixtures/alerts/${name}`, "utf8"));
}

function parseError(source: AlertSource, input: unknown): ApiError {
  try {
    parseAlertDelivery(source, input, latestAcceptedMs);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

function alertmanagerBody(alert: Record<string, unknown>) {
  return {
    version: "4",
    status: "firing",
    receiver: "vigil",
    groupKey: "{}:{}",
    alerts: [
      {
        status: "firing",
        labels: { alertname: "HighLatency", service: "checkout" },
        annotations: {},
        startsAt: "2026-12-04T11:00:00Z",
        endsAt: "0001-01-01T00:00:00Z",
        ...alert,
      },
    ],
  };
}

describe("labelSetFingerprint", () => {
  // Expected values are the decimal fingerprints in prometheus/common's
  // model/signature_test.go, written in hex.
  it("matches the Prometheus test vectors", () => {
    expect(labelSetFingerprint({})).toBe(
      14695981039346656037n.toString(16),
    );
    expect(
      labelSetFingerprint({
        name: "garland, briggs",
        fear: "love is not enough",
      }),
    ).toBe(5799056148416392346n.toString(16));
    expect(labelSetFingerprint({ "first-label": "first-label-value" })).toBe(
      5146282821936882169n.toString(16),
    );
  });

  it("ignores label order", () => {
    expect(labelSetFingerprint({ b: "2", a: "1" })).toBe(
      labelSetFingerprint({ a: "1", b: "2" }),
    );
  });

  it("pads to 16 hex digits", () => {
    // FNV-1a 64 of "a" from the FNV reference test vectors.
    expect(fnv1a64Hex(new TextEncoder().encode("a"))).toBe("af63dc4c8601ec8c");
    expect(fnv1a64Hex(new Uint8Array(0))).toBe("cbf29ce484222325");
  });
});

describe("parseAlertDelivery fixtures", () => {
  it("parses an old Alertmanager body without fingerprint", () => {
    const body = fixture(
      "alertmanager-firing-single-no-fingerprint-tz-offset.json",
    );
    const delivery = parseAlertDelivery("alertmanager", body, latestAcceptedMs);

    expect(delivery.receiver).toBe("webhook");
    expect(delivery.groupKey).toBe('{}:{alertname="Test", job="prometheus24"}');
    expect(delivery.truncatedAlerts).toBe(0);
    expect(delivery.alerts).toHaveLength(1);
    const alert = delivery.alerts[0]!;
    expect(alert.status).toBe("firing");
    // 09:52:26.739266876+02:00 is 07:52:26.739 UTC; nanoseconds are cut.
    expect(alert.startsAt).toBe(Date.UTC(2018, 7, 3, 7, 52, 26, 739));
    expect(alert.endsAt).toBeNull();
    expect(alert.fingerprintComputed).toBe(true);
    expect(alert.fingerprint).toBe(
      labelSetFingerprint({
        alertname: "Test",
        dc: "eu-west-1",
        instance: "localhost:9090",
        job: "prometheus24",
      }),
    );
    expect(alert.annotations).toEqual({ description: "some description" });
    expect(alert.generatorURL).toBe(
      "http://prometheus-a.example:9090/graph?g0.expr=go_memstats_alloc_bytes+%3E+0&g0.tab=1",
    );
    expect(severityFromLabels(alert.labels)).toBe("sev3");
    expect(alertTitle(alert)).toBe("Test");
  });

  it("parses a resolved Kubernetes alert", () => {
    const body = fixture(
      "alertmanager-resolved-k8s-many-labels-relative-generatorurl.json",
    );
    const delivery = parseAlertDelivery("alertmanager", body, latestAcceptedMs);

    expect(delivery.alerts).toHaveLength(1);
    const alert = delivery.alerts[0]!;
    expect(alert.status).toBe("resolved");
    expect(alert.startsAt).toBe(Date.UTC(2022, 6, 29, 11, 13, 27, 300));
    expect(alert.endsAt).toBe(Date.UTC(2022, 6, 29, 11, 17, 27, 300));
    expect(alert.fingerprint).toBe("fbab788ec4c1018b");
    expect(alert.fingerprintComputed).toBe(false);
    expect(Object.keys(alert.labels)).toHaveLength(13);
    expect(alert.labels.job).toBe("app-pm-kube-state-metrics");
    expect(alert.generatorURL).toMatch(/^\/metrics\/viewer\/graph\?/);
    // "Warning" with a capital W is still a warning.
    expect(severityFromLabels(alert.labels)).toBe("sev3");
    expect(alertTitle(alert)).toBe(
      "Deployment: Kubernetes Deployment Replicas Mismatch",
    );
  });

  it("parses Grafana alerts with values", () => {
    const body = fixture("grafana-docs-firing-two-alerts-values.json");
    const delivery = parseAlertDelivery("grafana", body, latestAcceptedMs);

    expect(delivery.receiver).toBe("My Super Webhook");
    expect(delivery.alerts.map((alert) => alert.status)).toEqual([
      "firing",
      "firing",
    ]);
    expect(delivery.alerts.map((alert) => alert.fingerprint)).toEqual([
      "c6eadffa33fcdf37",
      "bc97ff14869b13e3",
    ]);
    expect(delivery.alerts.map((alert) => alert.startsAt)).toEqual([
      Date.UTC(2021, 9, 12, 7, 51, 3, 157),
      Date.UTC(2021, 9, 12, 7, 56, 3, 157),
    ]);
    expect(delivery.alerts.map((alert) => alert.endsAt)).toEqual([null, null]);
    expect(delivery.alerts[0]!.values).toEqual({
      B: 44.23943737541908,
      C: 1,
    });
    expect(delivery.alerts[0]!.valueString).toBeNull();
    expect(alertTitle(delivery.alerts[0]!)).toBe(
      "High memory usage: This alert was triggered for zone us-1",
    );
    expect(alertTitle(delivery.alerts[1]!)).toBe(
      "High CPU usage: This alert was triggered for zone eu-1",
    );
  });

  it("keeps each alert's status in a mixed group", () => {
    const body = fixture("grafana-v9-mixed-firing-resolved-valuestring.json");
    expect(body.status).toBe("firing");
    const delivery = parseAlertDelivery("grafana", body, latestAcceptedMs);

    expect(delivery.alerts.map((alert) => alert.status)).toEqual([
      "resolved",
      "resolved",
      "firing",
    ]);
    expect(delivery.alerts.map((alert) => alert.fingerprint)).toEqual([
      "aaafafe0953f0962",
      "fb31814ac93dbe7d",
      "6f9cd313db421ef1",
    ]);
    const [first, second, third] = delivery.alerts as [
      ParsedAlert,
      ParsedAlert,
      ParsedAlert,
    ];
    expect(first.startsAt).toBe(Date.UTC(2022, 5, 17, 1, 4, 0, 782));
    expect(first.endsAt).toBe(Date.UTC(2022, 5, 17, 1, 8, 28, 652));
    expect(second.endsAt).toBe(Date.UTC(2022, 5, 17, 1, 8, 28, 652));
    expect(third.startsAt).toBe(Date.UTC(2022, 5, 17, 1, 3, 0, 782));
    expect(third.endsAt).toBeNull();
    expect(first.valueString).toMatch(/^\[ var='B' labels=/);
    expect(first.values).toBeNull();
    expect(alertTitle(third)).toBe(
      "Second webhook test: Testing **another** failing alert",
    );
  });
});

describe("parseAlertDelivery errors", () => {
  it.each([
    [
      "an unknown version",
      { ...alertmanagerBody({}), version: "3" },
      "version",
    ],
    ["missing alerts", { version: "4" }, "alerts"],
    ["missing labels", alertmanagerBody({ labels: undefined }), "alerts[0].labels"],
    [
      "a label value that is not a string",
      alertmanagerBody({ labels: { alertname: "X", replicas: 3 } }),
      "alerts[0].labels.replicas",
    ],
    ["an unknown status", alertmanagerBody({ status: "pending" }), "alerts[0].status"],
    ["missing startsAt", alertmanagerBody({ startsAt: undefined }), "alerts[0].startsAt"],
    ["startsAt without time zone", alertmanagerBody({ startsAt: "2026-12-04T11:00:00" }), "alerts[0].startsAt"],
    ["startsAt in the future", alertmanagerBody({ startsAt: "2026-12-04T12:30:00Z" }), "alerts[0].startsAt"],
    [
      "resolved with zero endsAt",
      alertmanagerBody({ status: "resolved" }),
      "alerts[0].endsAt",
    ],
    [
      "resolved with endsAt before startsAt",
      alertmanagerBody({ status: "resolved", endsAt: "2026-12-04T10:59:59Z" }),
      "alerts[0].endsAt",
    ],
    [
      "a negative truncatedAlerts",
      { ...alertmanagerBody({}), truncatedAlerts: -1 },
      "truncatedAlerts",
    ],
    // JSONB, where the alert is stored, cannot hold NUL or a lone surrogate.
    [
      "a label name with NUL",
      alertmanagerBody({ labels: { alertname: "X", "a\u0000b": "1" } }),
      'alerts[0].labels["a\\u0000b"]',
    ],
    [
      "an annotation name with a lone surrogate",
      alertmanagerBody({ annotations: { "summary\ud800": "x" } }),
      'alerts[0].annotations["summary\\ud800"]',
    ],
    [
      "a generatorURL with NUL",
      alertmanagerBody({ generatorURL: "http://prometheus/\u0000" }),
      "alerts[0].generatorURL",
    ],
    [
      "a valueString with a lone surrogate",
      alertmanagerBody({ valueString: "[ var='A' value=\udc00 ]" }),
      "alerts[0].valueString",
    ],
    [
      "a values name __proto__",
      alertmanagerBody({ values: JSON.parse('{"__proto__": 1}') }),
      "alerts[0].values.__proto__",
    ],
    ["a receiver with NUL", { ...alertmanagerBody({}), receiver: "a\u0000" }, "receiver"],
    ["a groupKey with NUL", { ...alertmanagerBody({}), groupKey: "{}\u0000" }, "groupKey"],
  ])("rejects %s", (_case, body, field) => {
    const error = parseError("alertmanager", body);
    expect(error.status).toBe(400);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(field)).toBe(true);
  });

  it("names the value of an invalid time", () => {
    const error = parseError(
      "alertmanager",
      alertmanagerBody({ startsAt: "yesterday" }),
    );
    expect(error.message).toBe(
      'alerts[0].startsAt must be an RFC 3339 timestamp with a time zone, got "yesterday"',
    );
  });

  it("accepts a firing endsAt far ahead", () => {
    const delivery = parseAlertDelivery(
      "alertmanager",
      alertmanagerBody({ endsAt: "2026-12-05T12:00:00Z" }),
      latestAcceptedMs,
    );
    expect(delivery.alerts[0]!.endsAt).toBe(Date.UTC(2026, 11, 5, 12));
  });

  it("accepts Grafana without version 4", () => {
    const delivery = parseAlertDelivery(
      "grafana",
      { ...alertmanagerBody({}), version: "1" },
      latestAcceptedMs,
    );
    expect(delivery.source).toBe("grafana");
    expect(delivery.alerts).toHaveLength(1);
  });
});

describe("severityFromLabels", () => {
  it.each([
    ["critical", "sev1"],
    ["CRITICAL", "sev1"],
    ["error", "sev2"],
    ["high", "sev2"],
    ["page", "sev2"],
    ["warning", "sev3"],
    ["info", "sev4"],
    ["low", "sev4"],
    ["unknown-level", "sev3"],
  ])("maps %s to %s", (severity, expected) => {
    expect(severityFromLabels({ severity })).toBe(expected);
  });

  it("defaults to sev3 without the label", () => {
    expect(severityFromLabels({})).toBe("sev3");
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])(
    "maps the Object member name %s to sev3",
    (severity) => {
      expect(severityFromLabels({ severity })).toBe("sev3");
    },
  );
});

describe("alertTitle", () => {
  it("cuts long titles to 200 characters", () => {
    const delivery = parseAlertDelivery(
      "alertmanager",
      alertmanagerBody({ annotations: { summary: "x".repeat(300) } }),
      latestAcceptedMs,
    );
    const title = alertTitle(delivery.alerts[0]!);
    expect(title).toHaveLength(200);
    expect(title.startsWith("HighLatency: xxx")).toBe(true);
    expect(title.endsWith("...")).toBe(true);
  });

  it("names the fingerprint without alertname", () => {
    const delivery = parseAlertDelivery(
      "alertmanager",
      alertmanagerBody({ labels: { service: "checkout" }, fingerprint: "abc123" }),
      latestAcceptedMs,
    );
    expect(alertTitle(delivery.alerts[0]!)).toBe("Alert abc123");
  });
});

describe("chooseAlertServices", () => {
  const alerts = parseAlertDelivery(
    "grafana",
    {
      alerts: [
        { status: "firing", labels: { service: "Checkout API", job: "node" }, startsAt: "2026-12-04T11:00:00Z" },
        { status: "firing", labels: { job: "orders_db" }, startsAt: "2026-12-04T11:00:00Z" },
        { status: "firing", labels: { alertname: "Lonely" }, startsAt: "2026-12-04T11:00:00Z" },
      ],
    },
    latestAcceptedMs,
  ).alerts;

  it("prefers service, then job", () => {
    expect(chooseAlertServices(alerts.slice(0, 2), null)).toEqual([
      "checkout-api",
      "orders-db",
    ]);
  });

  it("lets the forced service win", () => {
    expect(chooseAlertServices(alerts, "payments")).toEqual([
      "payments",
      "payments",
      "payments",
    ]);
  });

  it("rejects an alert without a service", () => {
    let caught: unknown;
    try {
      chooseAlertServices(alerts, null);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).status).toBe(400);
    expect((caught as ApiError).field).toBe("alerts[2].labels");
  });
});
