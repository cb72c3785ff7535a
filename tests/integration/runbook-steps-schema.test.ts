import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import {
  renderStep,
  runbookStepsSchema,
  type RunbookStep,
  type TemplateValues,
} from "@/lib/runbooks/steps";

// The step format of runbook front matter and the API: defaults, the error
// for each invalid field, and how template variables are escaped when a
// step is rendered. No database or network.

const VALUES: TemplateValues = {
  "incident.id": "42",
  "incident.title": 'p99 "slow" on /pay?x=1&y=2\r\nX-Injected: yes',
  "incident.severity": "sev1",
  "incident.status": "triggered",
  "incident.url": "http://vigil.test/incidents/42",
  "service.slug": "checkout",
  "service.name": "Checkout API",
  "runbook.slug": "restart-pods",
  "step.id": "restart",
};

function parseSteps(steps: unknown): RunbookStep[] {
  return parseInput(runbookStepsSchema, steps);
}

function errorOf(steps: unknown): string {
  try {
    parseSteps(steps);
  } catch (error) {
    if (error instanceof ApiError) return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(steps)}`);
}

const minimal = { id: "restart", title: "Restart", url: "https://ops.example.com/restart" };

describe("runbook step schema", () => {
  it("fills in the defaults", () => {
    expect(parseSteps([minimal])).toEqual([
      { ...minimal, method: "POST", timeoutSeconds: 10, retries: 2 },
    ]);
  });

  it("accepts every field", () => {
    const step = {
      id: "scale-up",
      title: "Scale up",
      method: "PATCH",
      url: "http://127.0.0.1:9000/scale/{{service.slug}}?incident={{incident.id}}",
      headers: { Authorization: "Bearer abc", "X-Severity": "{{incident.severity}}" },
      body: { replicas: 6, reason: "{{incident.title}}", tags: ["a", { b: null }] },
      timeoutSeconds: 60,
      retries: 0,
    };
    expect(parseSteps([step])).toEqual([step]);
  });

  const invalid: Array<[string, unknown, string]> = [
    ["id with capitals", [{ ...minimal, id: "Restart" }], "[0].id must be lower-case words joined by -"],
    ["missing title", [{ id: "a", url: minimal.url }], "[0].title is required"],
    ["unknown method", [{ ...minimal, method: "HEAD" }], "[0].method must be one of GET, POST, PUT, PATCH, DELETE"],
    ["relative URL", [{ ...minimal, url: "/restart" }], "[0].url must be an absolute http or https URL"],
    ["ftp URL", [{ ...minimal, url: "ftp://ops.example.com/" }], "[0].url must use http or https, got ftp"],
    ["user in URL", [{ ...minimal, url: "https://u:p@ops.example.com/" }], "[0].url must not contain a user name or password"],
    ["template in host", [{ ...minimal, url: "https://{{service.slug}}.example.com/" }], "[0].url must name a literal host"],
    ["unknown variable", [{ ...minimal, url: "https://ops.example.com/{{incident.owner}}" }], "[0].url uses the unknown template variable {{incident.owner}}"],
    ["unknown variable in body", [{ ...minimal, body: { a: "{{secret}}" } }], "[0].body uses the unknown template variable {{secret}}"],
    ["reserved header", [{ ...minimal, headers: { Host: "other.example.com" } }], "[0].headers.Host is set by Vigil and cannot be given in a step"],
    ["invalid header name", [{ ...minimal, headers: { "Bad Header": "x" } }], '[0].headers["Bad Header"] must be a valid HTTP header name'],
    ["header with a line break", [{ ...minimal, headers: { "X-A": "a\r\nB: c" } }], '[0].headers["X-A"] must not contain line breaks or NUL characters'],
    ["header outside Latin-1", [{ ...minimal, headers: { "X-A": "fire 🔥" } }], '[0].headers["X-A"] must contain only printable ASCII or Latin-1 characters and tabs'],
    ["numeric body", [{ ...minimal, body: 5 }], "[0].body must be a string or a JSON object"],
    ["GET with a body", [{ ...minimal, method: "GET", body: "x" }], "[0].body must be left out for a GET step"],
    ["timeout above 60", [{ ...minimal, timeoutSeconds: 61 }], "[0].timeoutSeconds must be at most 60"],
    ["timeout of 0", [{ ...minimal, timeoutSeconds: 0 }], "[0].timeoutSeconds must be at least 1"],
    ["6 retries", [{ ...minimal, retries: 6 }], "[0].retries must be at most 5"],
    ["unknown field", [{ ...minimal, automatic: true }], "[0].automatic is not a known field"],
    ["duplicate ids", [minimal, { ...minimal, title: "Again" }], '[1].id must be unique within the runbook, "restart" appears twice'],
    ["21 steps", Array.from({ length: 21 }, (_, index) => ({ ...minimal, id: `s${index}` })), "must contain at most 20 items"],
    ["variables in a body without a type", [{ ...minimal, body: "incident {{incident.id}}" }], "[0].body uses template variables, which Vigil can escape only in a JSON, form"],
    ["variables in a text/plain body", [{ ...minimal, headers: { "Content-Type": "text/plain" }, body: "incident {{incident.title}}" }], "[0].body uses template variables"],
    ["variables in a multipart body", [{ ...minimal, headers: { "content-type": "multipart/form-data; boundary=x" }, body: "{{incident.title}}" }], "[0].body uses template variables"],
    ["variable in Content-Type", [{ ...minimal, headers: { "Content-Type": "{{incident.title}}" }, body: "{{incident.id}}" }], '[0].headers["Content-Type"] must not contain template variables'],
    ["object body sent as a form", [{ ...minimal, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: { a: "{{incident.title}}" } }], '[0].headers["Content-Type"] must be a JSON type such as application/json for a JSON object body'],
    ["header given twice", [{ ...minimal, headers: { "X-A": "1", "x-a": "2" } }], '[0].headers["x-a"] is given twice'],
    ["NUL in the title", [{ ...minimal, title: "Restart\u0000now" }], "[0].title contains the NUL character (U+0000) at position 7"],
    ["surrogate in the title", [{ ...minimal, title: "Restart \ud800" }], "[0].title contains an unpaired UTF-16 surrogate (U+D800)"],
    ["NUL in the URL", [{ ...minimal, url: "https://ops.example.com/a\u0000b" }], "[0].url contains the NUL character (U+0000)"],
    ["NUL in a text body", [{ ...minimal, body: "a\u0000" }], "[0].body contains the NUL character (U+0000) at position 1"],
    ["surrogate in a text body", [{ ...minimal, body: "a\ud800" }], "[0].body contains an unpaired UTF-16 surrogate (U+D800)"],
    ["NUL in a body object value", [{ ...minimal, body: { a: { b: ["x\u0000"] } } }], "[0].body.a.b[0] contains the NUL character (U+0000)"],
    ["surrogate in a body object key", [{ ...minimal, body: { "k\udc00": 1 } }], "has a key that contains an unpaired UTF-16 surrogate (U+DC00)"],
    ["surrogate in a header value", [{ ...minimal, headers: { "X-A": "a\ud800" } }], '[0].headers["X-A"] must contain only printable ASCII or Latin-1'],
  ];
  for (const [name, steps, message] of invalid) {
    it(`rejects ${name}`, () => {
      expect(errorOf(steps)).toContain(message);
    });
  }
});

describe("renderStep", () => {
  it("percent-encodes values in the URL", () => {
    const [step] = parseSteps([
      { ...minimal, url: "https://ops.example.com/i/{{incident.id}}?title={{incident.title}}&s={{ service.slug }}" },
    ]);
    const rendered = renderStep(step!, VALUES);
    expect(rendered.url.host).toBe("ops.example.com");
    expect(rendered.url.pathname).toBe("/i/42");
    expect(rendered.url.searchParams.get("title")).toBe(VALUES["incident.title"]);
    expect(rendered.url.searchParams.get("s")).toBe("checkout");
    expect(rendered.url.searchParams.get("y")).toBeNull();
    expect(rendered.target).toBe(`${rendered.url.pathname}${rendered.url.search}`);
  });

  it("escapes values inside a JSON object body", () => {
    const [step] = parseSteps([{ ...minimal, body: { title: "{{incident.title}}", n: 1, list: ["{{incident.id}}"] } }]);
    const rendered = renderStep(step!, VALUES);
    expect(JSON.parse(rendered.body!)).toEqual({ title: VALUES["incident.title"], n: 1, list: ["42"] });
    expect(rendered.headers["content-type"]).toBe("application/json");
  });

  it("JSON-escapes a string body sent as JSON", () => {
    const [step] = parseSteps([
      {
        ...minimal,
        headers: { "Content-Type": "application/json" },
        body: '{"title": "{{incident.title}}"}',
      },
    ]);
    const rendered = renderStep(step!, VALUES);
    expect(JSON.parse(rendered.body!)).toEqual({ title: VALUES["incident.title"] });
    expect(rendered.headers["content-type"]).toBeUndefined();
  });

  it("keeps a text body without variables as written", () => {
    const [step] = parseSteps([{ ...minimal, body: "restart all {pods} & caches" }]);
    expect(renderStep(step!, VALUES).body).toBe("restart all {pods} & caches");
  });

  it("form-encodes values in a form body", () => {
    const [step] = parseSteps([
      {
        ...minimal,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "incident={{incident.title}}&action=restart",
      },
    ]);
    const title = "FormTest: x&action=drop_database&confirm=yes +100%";
    const body = renderStep(step!, { ...VALUES, "incident.title": title }).body!;
    const form = new URLSearchParams(body);
    expect(form.get("incident")).toBe(title);
    expect(form.getAll("action")).toEqual(["restart"]);
    expect(form.has("confirm")).toBe(false);
    expect(body).toBe("incident=FormTest%3A+x%26action%3Ddrop_database%26confirm%3Dyes+%2B100%25&action=restart");
  });

  it("escapes values in an XML body", () => {
    const [step] = parseSteps([
      {
        ...minimal,
        headers: { "content-type": "application/soap+xml; charset=utf-8" },
        body: "<restart reason='{{incident.title}}'>{{incident.title}}</restart>",
      },
    ]);
    const title = `</restart><drop db="all"/>'&`;
    const body = renderStep(step!, { ...VALUES, "incident.title": title }).body!;
    const escaped = "&lt;/restart&gt;&lt;drop db=&quot;all&quot;/&gt;&apos;&amp;";
    expect(body).toBe(`<restart reason='${escaped}'>${escaped}</restart>`);
  });

  for (const title of [".", "..", "...."]) {
    it(`encodes the value ${JSON.stringify(title)} in the URL as %2E`, () => {
      const [step] = parseSteps([
        { ...minimal, url: "https://ops.example.com/api/v1/incidents/{{incident.title}}/ack?title={{incident.title}}" },
      ]);
      const rendered = renderStep(step!, { ...VALUES, "incident.title": title });
      const encoded = "%2E".repeat(title.length);
      expect(rendered.target).toBe(`/api/v1/incidents/${encoded}/ack?title=${encoded}`);
      expect(rendered.url.host).toBe("ops.example.com");
    });
  }

  it("resolves dot segments the runbook wrote", () => {
    const [step] = parseSteps([{ ...minimal, url: "https://ops.example.com/a/../b/./{{incident.id}}/{{incident.title}}" }]);
    const rendered = renderStep(step!, { ...VALUES, "incident.title": "a/../.." });
    expect(rendered.target).toBe("/b/42/a%2F..%2F..");
  });

  it("replaces line breaks in header values", () => {
    const [step] = parseSteps([{ ...minimal, headers: { "X-Title": "{{incident.title}}" } }]);
    expect(renderStep(step!, VALUES).headers["X-Title"]).toBe('p99 "slow" on /pay?x=1&y=2 X-Injected: yes');
  });

  it("sends no body for a step without one", () => {
    const [step] = parseSteps([{ ...minimal, method: "GET" }]);
    const rendered = renderStep(step!, VALUES);
    expect(rendered.body).toBeUndefined();
    expect(rendered.method).toBe("GET");
    expect(rendered.timeoutSeconds).toBe(10);
  });
});
