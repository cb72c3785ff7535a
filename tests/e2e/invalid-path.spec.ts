import { expect, test } from "./support/fixtures";

// Paths whose percent-encoding is not UTF-8 get a 400 from proxy.ts.
// Without it, Next.js responds with a bare 500.

for (const path of [
  "/api/v1/services/%ED%A0%80",
  "/api/v1/prometheus/push/job/pj/x/%ED%A0%80",
  "/incidents/%E0%A4%A",
]) {
  test(`invalid encoding gets 400: ${path}`, async ({ request }) => {
    const response = await request.get(path);
    expect(response.status()).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe("invalid_path");
    expect(body.error.requestId).toBe(response.headers()["x-request-id"]);
  });
}
