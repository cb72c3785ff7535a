import { z } from "zod";

// Executable runbook steps: HTTP requests declared in a runbook's YAML front
// matter under `steps`, which a responder (or, for an automatic runbook, the
// worker) sends to a host on the admin allowlist. The runbook parser and the
// runbook API both validate with these schemas, so a stored step always has
// its defaults filled in.

export const STEP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

export const MAX_STEPS_PER_RUNBOOK = 20;
export const MAX_STEP_TIMEOUT_SECONDS = 60;
export const MAX_STEP_RETRIES = 5;
export const DEFAULT_STEP_TIMEOUT_SECONDS = 10;
export const DEFAULT_STEP_RETRIES = 2;

const MAX_URL_LENGTH = 2000;
const MAX_HEADERS = 20;
const MAX_HEADER_VALUE_LENGTH = 1000;
const MAX_BODY_LENGTH = 20_000;

/** Variables that a step's URL, header values and body may contain as {{name}}. */
export const TEMPLATE_VARIABLES = [
  "incident.id",
  "incident.title",
  "incident.severity",
  "incident.status",
  "incident.url",
  "service.slug",
  "service.name",
  "runbook.slug",
  "step.id",
] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

export type TemplateValues = Record<TemplateVariable, string>;

const TEMPLATE_PATTERN = /\{\{\s*([A-Za-z0-9_.-]*)\s*\}\}/g;

function unknownTemplateVariable(text: string): string | null {
  for (const match of text.matchAll(TEMPLATE_PATTERN)) {
    const name = match[1]!;
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) return name;
  }
  return null;
}

const stepIdPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

// Characters Node.js accepts in a header value: tab, printable ASCII and
// Latin-1 (RFC 9110 field-vchar and obs-text).
const HEADER_VALUE_PATTERN = /^[\t\x20-\x7e\x80-\xff]*$/;

// RFC 9110 token characters for a field name.
const headerNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// The HTTP client sets these from the URL and the body, and a step that set
// them itself could send a request to a different host than the allowlist
// check saw, or split one request into two.
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "expect",
  "keep-alive",
  "te",
  "trailer",
]);

/**
 * Checks a step URL: absolute http or https, no user:password part, and a
 * literal host, because the allowlist check at run time must see the host
 * the request goes to. Template variables such as {{incident.id}} may appear
 * in the path and the query only.
 */
function checkStepUrl(value: string, context: z.RefinementCtx): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    context.addIssue({
      code: "custom",
      message: `must be an absolute http or https URL, got ${JSON.stringify(value.slice(0, 60))}`,
    });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    context.addIssue({
      code: "custom",
      message: `must use http or https, got ${url.protocol.slice(0, -1)}`,
    });
    return;
  }
  if (url.username !== "" || url.password !== "") {
    context.addIssue({
      code: "custom",
      message: "must not contain a user name or password, so send credentials in headers",
    });
  }
  if (/[{}]|%7b|%7d/i.test(url.host)) {
    context.addIssue({
      code: "custom",
      message: "must name a literal host because template variables are allowed in the path and query only",
    });
  }
}

const headersSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(MAX_HEADER_VALUE_LENGTH)
      .refine((value) => !/[\r\n\0]/.test(value), {
        message: "must not contain line breaks or NUL characters",
      })
      .refine((value) => HEADER_VALUE_PATTERN.test(value.replace(/[\r\n\0]/g, "")), {
        message: "must contain only printable ASCII or Latin-1 characters and tabs",
      }),
  )
  .superRefine((headers, context) => {
    const names = Object.keys(headers);
    if (names.length > MAX_HEADERS) {
      context.addIssue({
        code: "custom",
        message: `must contain at most ${MAX_HEADERS} headers`,
      });
    }
    for (const name of names) {
      if (!headerNamePattern.test(name)) {
        context.addIssue({
          code: "custom",
          path: [name],
          message: "must be a valid HTTP header name",
        });
      } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
        context.addIssue({
          code: "custom",
          path: [name],
          message: "is set by Vigil and cannot be given in a step",
        });
      }
    }
  });

const bodySchema = z.union(
  [
    z.string().max(MAX_BODY_LENGTH),
    z.record(z.string(), z.json()).refine(
      (body) => JSON.stringify(body).length <= MAX_BODY_LENGTH,
      { message: `must be at most ${MAX_BODY_LENGTH} characters as JSON` },
    ),
  ],
  { error: "must be a string or a JSON object" },
);

/** One executable step: an HTTP request with its timeout and retry count. */
export const runbookStepSchema = z
  .object({
    id: z
      .string()
      .regex(stepIdPattern, { message: "must be lower-case words joined by -" })
      .max(64),
    title: z.string().trim().min(1).max(200),
    method: z.enum(STEP_METHODS).default("POST"),
    url: z.string().trim().min(1).max(MAX_URL_LENGTH).superRefine(checkStepUrl),
    headers: headersSchema.optional(),
    body: bodySchema.optional(),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_STEP_TIMEOUT_SECONDS)
      .default(DEFAULT_STEP_TIMEOUT_SECONDS),
    retries: z
      .number()
      .int()
      .min(0)
      .max(MAX_STEP_RETRIES)
      .default(DEFAULT_STEP_RETRIES),
  })
  .strict()
  .superRefine((step, context) => {
    if (step.method === "GET" && step.body !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["body"],
        message: "must be left out for a GET step, because a GET request has no body",
      });
    }
    const templated: Array<[PropertyKey[], string]> = [[["url"], step.url]];
    for (const [name, value] of Object.entries(step.headers ?? {})) {
      templated.push([["headers", name], value]);
    }
    if (typeof step.body === "string") templated.push([["body"], step.body]);
    else if (step.body !== undefined) templated.push([["body"], JSON.stringify(step.body)]);
    for (const [path, text] of templated) {
      const unknown = unknownTemplateVariable(text);
      if (unknown !== null) {
        context.addIssue({
          code: "custom",
          path,
          message: `uses the unknown template variable {{${unknown}}}; the known ones are ${TEMPLATE_VARIABLES.map((name) => `{{${name}}}`).join(", ")}`,
        });
      }
    }
  });

export type RunbookStep = z.output<typeof runbookStepSchema>;

/** The `steps` list of a runbook: at most 20 steps with distinct ids. */
export const runbookStepsSchema = z
  .array(runbookStepSchema)
  .max(MAX_STEPS_PER_RUNBOOK)
  .superRefine((steps, context) => {
    const seen = new Set<string>();
    steps.forEach((step, index) => {
      if (seen.has(step.id)) {
        context.addIssue({
          code: "custom",
          path: [index, "id"],
          message: `must be unique within the runbook, "${step.id}" appears twice`,
        });
      }
      seen.add(step.id);
    });
  });

/** A step with its template variables replaced, ready to send. */
export type RenderedStep = {
  method: RunbookStep["method"];
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutSeconds: number;
};

function substitute(text: string, escape: (value: string) => string, values: TemplateValues): string {
  return text.replace(TEMPLATE_PATTERN, (whole, name: string) =>
    name in values ? escape(values[name as TemplateVariable]) : whole,
  );
}

/** Replaces line breaks with spaces and characters a header cannot carry with "?". */
function headerSafe(text: string): string {
  return text.replace(/[\r\n\0]+/g, " ").replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
}

function substituteJson(value: unknown, values: TemplateValues): unknown {
  if (typeof value === "string") return substitute(value, (text) => text, values);
  if (Array.isArray(value)) return value.map((item) => substituteJson(item, values));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteJson(item, values)]),
    );
  }
  return value;
}

/**
 * Replaces the template variables of a step. Values are percent-encoded in
 * the URL, JSON-escaped in a JSON body (an object body, or a string body
 * sent as application/json), and have line breaks replaced by spaces and
 * characters outside Latin-1 by "?" in header values, so an incident title
 * cannot change the request's shape or make it invalid.
 * A JSON object body gets Content-Type application/json unless the step
 * sets one.
 */
export function renderStep(step: RunbookStep, values: TemplateValues): RenderedStep {
  const url = new URL(substitute(step.url, encodeURIComponent, values));

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.headers ?? {})) {
    headers[name] = substitute(value, headerSafe, values);
  }
  const contentTypeName = Object.keys(headers).find(
    (name) => name.toLowerCase() === "content-type",
  );

  let body: string | undefined;
  if (typeof step.body === "string") {
    const isJson = contentTypeName !== undefined && /json/i.test(headers[contentTypeName]!);
    const escape = isJson
      ? (text: string) => JSON.stringify(text).slice(1, -1)
      : (text: string) => text;
    body = substitute(step.body, escape, values);
  } else if (step.body !== undefined) {
    body = JSON.stringify(substituteJson(step.body, values));
    if (contentTypeName === undefined) headers["content-type"] = "application/json";
  }
  return { method: step.method, url, headers, body, timeoutSeconds: step.timeoutSeconds };
}
