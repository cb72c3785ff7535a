import { promisify } from "node:util";
import zlib from "node:zlib";

import { ApiError } from "@/lib/api/errors";
import { findJsonSyntaxError } from "@/lib/api/json-syntax";

// Reads a JSON request body with a size limit. The limit is enforced on the
// bytes actually read from the stream, so a request whose Content-Length
// understates its body is still cut off at the limit.

function payloadTooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `request body is larger than the limit of ${maxBytes} bytes ` +
      "(VIGIL_INGEST_MAX_BODY_BYTES)",
  );
}

/** Reads the body stream into one buffer, rejecting it past maxBytes. */
export async function readBodyBytes(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared)) {
    if (Number(declared) > maxBytes) throw payloadTooLarge(maxBytes);
  }
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }

  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Parses JSON text, reporting a syntax error as a 400 that gives the
 * character position of the first invalid character.
 */
export function parseJsonText(text: string): unknown {
  if (text.trim() === "") {
    throw new ApiError(
      400,
      "invalid_json",
      "invalid JSON at position 0: the request body is empty",
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const syntaxError = findJsonSyntaxError(text);
    const position = syntaxError?.position ?? 0;
    const reason = syntaxError?.reason ?? (error as Error).message;
    throw new ApiError(
      400,
      "invalid_json",
      `invalid JSON at position ${position}: ${reason}`,
    );
  }
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

export type RequestBody = {
  bytes: Uint8Array;
  /**
   * Content-Encoding the bytes are still in: "identity" after gzip or
   * deflate were decoded here, or "snappy", which only remote write uses and
   * decodes itself.
   */
  encoding: "identity" | "snappy";
};

/**
 * Reads the body and decodes a gzip or deflate Content-Encoding, with
 * maxBytes applying to the bytes received and again to the decoded bytes,
 * so that a small compressed body cannot expand without bound. Any other
 * encoding than these, identity and snappy gets a 415.
 */
export async function readRequestBody(
  request: Request,
  maxBytes: number,
): Promise<RequestBody> {
  const header = (request.headers.get("content-encoding") ?? "identity")
    .trim()
    .toLowerCase();
  if (!["identity", "", "gzip", "x-gzip", "deflate", "snappy"].includes(header)) {
    throw new ApiError(
      415,
      "unsupported_encoding",
      `Content-Encoding "${header}" is not supported; ` +
        "send identity, gzip or deflate (or snappy for remote write)",
      { field: "Content-Encoding" },
    );
  }
  const raw = await readBodyBytes(request, maxBytes);
  if (header === "snappy") return { bytes: raw, encoding: "snappy" };
  if (header === "identity" || header === "") {
    return { bytes: raw, encoding: "identity" };
  }

  const decode = header === "deflate" ? inflate : gunzip;
  try {
    const decoded = await decode(raw, { maxOutputLength: maxBytes });
    return { bytes: new Uint8Array(decoded), encoding: "identity" };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ApiError(
        413,
        "payload_too_large",
        `decompressed request body is larger than the limit of ${maxBytes} ` +
          "bytes (VIGIL_INGEST_MAX_BODY_BYTES)",
      );
    }
    throw new ApiError(
      400,
      "invalid_encoding",
      `request body is not valid ${header} data: ${(error as Error).message}`,
      { field: "Content-Encoding" },
    );
  }
}

/** Decodes UTF-8 bytes, with a 400 naming the expected format on bad input. */
export function decodeUtf8(bytes: Uint8Array, format: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(
      400,
      "invalid_encoding",
      `request body is not valid UTF-8; send ${format} encoded as UTF-8`,
    );
  }
}

/** Reads and parses a JSON body of at most maxBytes bytes of UTF-8. */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
): Promise<unknown> {
  const { bytes, encoding } = await readRequestBody(request, maxBytes);
  if (encoding !== "identity") {
    throw new ApiError(
      415,
      "unsupported_encoding",
      "Content-Encoding snappy is only accepted by remote write; " +
        "send JSON as identity, gzip or deflate",
      { field: "Content-Encoding" },
    );
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(
      400,
      "invalid_json",
      "request body is not valid UTF-8; send JSON encoded as UTF-8",
    );
  }
  return parseJsonText(text);
}
