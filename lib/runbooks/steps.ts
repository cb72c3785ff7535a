import { randomUUID } from "node:crypto";

import { z } from "zod";

import { checkStoredJson } from "@/lib/runbooks/text";

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

function hasTemplateVariable(text: string): boolean {
  return text.match(TEMPLATE_PATTERN) !== null;
}

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

/** How template values are escaped in a string body. */
type BodyEncoding = "json" | "form" | "xml";

/**
 * Returns how template values are escaped in a string body sent with this
 * Content-Type, or null when Vigil cannot escape them for it: a value
 * pasted into plain text or an unknown format could add fields or
 * commands to the request.
 */
function bodyEncodingOf(contentType: string | undefined): BodyEncoding | null {
  if (contentType === undefined) return null;
  const essence = contentType.split(";")[0]!.trim().toLowerCase();
  if (essence.endsWith("/json") || essence.endsWith("+json")) return "json";
  if (essence === "application/x-www-form-urlencoded") return "form";
  if (essence.endsWith("/xml") || essence.endsWith("+xml")) return "xml";
  return null;
}

function findContentTypeName(headers: Record<string, string>): string | undefined {
  return Object.keys(headers).find((name) => name.toLowerCase() === "content-type");
}

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
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name.toLowerCase())) {
        context.addIssue({
          code: "custom",
          path: [name],
          message: "is given twice (header names ignore case), so keep one of them",
        });
      }
      seen.add(name.toLowerCase());
    }
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

/**
 * Checks that Vigil can escape the step's template values for its body:
 * the Content-Type has no variables, a JSON object body goes with a JSON
 * type, and a string body with variables has a JSON, form or XML type.
 */
function checkBodyEncoding(
  step: { headers?: Record<string, string>; body?: unknown },
  context: z.RefinementCtx,
): void {
  const contentTypeName = findContentTypeName(step.headers ?? {});
  if (contentTypeName !== undefined && hasTemplateVariable(step.headers![contentTypeName]!)) {
    context.addIssue({
      code: "custom",
      path: ["headers", contentTypeName],
      message: "must not contain template variables, because the content type decides how they are escaped in the body",
    });
  } else if (
    typeof step.body === "object" &&
    contentTypeName !== undefined &&
    bodyEncodingOf(step.headers![contentTypeName]) !== "json"
  ) {
    context.addIssue({
      code: "custom",
      path: ["headers", contentTypeName],
      message: "must be a JSON type such as application/json for a JSON object body, or be left out",
    });
  } else if (
    typeof step.body === "string" &&
    hasTemplateVariable(step.body) &&
    bodyEncodingOf(contentTypeName && step.headers![contentTypeName]) === null
  ) {
    context.addIssue({
      code: "custom",
      path: ["body"],
      message:
        "uses template variables, which Vigil can escape only in a JSON, form (application/x-www-form-urlencoded) or XML body; set such a Content-Type header, use a JSON object body, or remove the variables",
    });
  }
}

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
    checkStoredJson(step, context);
    checkBodyEncoding(step, context);
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
  /** The request URL, for its scheme, host and port. */
  url: URL;
  /**
   * The request target (path and query) to send. It can differ from the
   * URL's path, because it keeps a value such as ".." encoded as %2E%2E
   * where URL parsing would remove it as a dot segment.
   */
  target: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutSeconds: number;
};

function substitute(text: string, escape: (value: string) => string, values: TemplateValues): string {
  return text.replace(TEMPLATE_PATTERN, (whole, name: string) =>
    name in values ? escape(values[name as TemplateVariable]) : whole,
  );
}

/**
 * Percent-encodes a value for a URL path segment or query. A value made of
 * dots only, such as "..", has every dot encoded as %2E, so that it cannot
 * form a "." or ".." path segment that moves the request to another path.
 * NOTE: a destination or proxy that decodes %2E before it resolves dot
 * segments still sees "..", which only rejecting such values would stop.
 */
export function encodeUrlValue(value: string): string {
  if (/^\.+$/.test(value)) return value.replace(/\./g, "%2E");
  return encodeURIComponent(value);
}

/**
 * Renders a step URL. The template is parsed with a placeholder for each
 * variable, so dot segments that the runbook itself wrote are resolved, and
 * the encoded values are put in afterwards, so that WHATWG URL parsing,
 * which treats %2E%2E like "..", never sees them.
 */
function renderUrl(template: string, values: TemplateValues): { url: URL; target: string } {
  const marker = `vigil${randomUUID().replace(/-/g, "")}`;
  const encoded: string[] = [];
  const withPlaceholders = template.replace(TEMPLATE_PATTERN, (whole, name: string) => {
    if (!(name in values)) return whole;
    encoded.push(encodeUrlValue(values[name as TemplateVariable]));
    return `${marker}x${encoded.length - 1}x`;
  });
  const parsed = new URL(withPlaceholders);
  const placeholder = new RegExp(`${marker}x(\\d+)x`, "g");
  const fill = (text: string) => text.replace(placeholder, (_whole, index: string) => encoded[Number(index)]!);
  const target = fill(`${parsed.pathname}${parsed.search}`);
  const url = new URL(fill(parsed.href.replace(/#.*$/, "")));
  return { url, target };
}

/** Replaces line breaks with spaces and characters a header cannot carry with "?". */
function headerSafe(text: string): string {
  return text.replace(/[\r\n\0]+/g, " ").replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Escapes a value for a string body of the given encoding. */
const BODY_ESCAPES: Record<BodyEncoding, (value: string) => string> = {
  json: (value) => JSON.stringify(value).slice(1, -1),
  // URLSearchParams writes application/x-www-form-urlencoded, with + for a space.
  form: (value) => new URLSearchParams([["", value]]).toString().slice(1),
  xml: escapeXml,
};

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
 * Replaces the template variables of a step, so that an incident title
 * cannot change the request's shape or make it invalid. Values are
 * percent-encoded in the URL (see encodeUrlValue), and have line breaks
 * replaced by spaces and characters outside Latin-1 by "?" in header
 * values. In a string body they are escaped for its Content-Type: JSON
 * string escapes, form encoding, or XML character references. The schema
 * rejects variables in a string body of any other type, and a body without
 * variables is sent as written. A JSON object body gets Content-Type
 * application/json unless the step sets one.
 */
export function renderStep(step: RunbookStep, values: TemplateValues): RenderedStep {
  const { url, target } = renderUrl(step.url, values);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.headers ?? {})) {
    headers[name] = substitute(value, headerSafe, values);
  }
  const contentTypeName = findContentTypeName(headers);

  let body: string | undefined;
  if (typeof step.body === "string") {
    const encoding = bodyEncodingOf(contentTypeName && headers[contentTypeName]);
    if (encoding === null && hasTemplateVariable(step.body)) {
      // runbookStepSchema rejects such a step, so only a caller that skips
      // the schema gets here.
      throw new Error(`step ${step.id}: template variables in a body without a JSON, form or XML Content-Type`);
    }
    body = encoding === null ? step.body : substitute(step.body, BODY_ESCAPES[encoding], values);
  } else if (step.body !== undefined) {
    body = JSON.stringify(substituteJson(step.body, values));
    if (contentTypeName === undefined) headers["content-type"] = "application/json";
  }
  return { method: step.method, url, target, headers, body, timeoutSeconds: step.timeoutSeconds };
}
