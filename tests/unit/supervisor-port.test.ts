import net from "node:net";

import { describe, expect, it } from "vitest";

import { checkPortFree } from "@/scripts/cli/supervisor";

// Binds a real loopback port to check that a taken port is reported.

async function listenOnFreePort(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, resolve),
  );
  return server;
}

describe("checkPortFree", () => {
  it("rejects a port in use", async () => {
    const server = await listenOnFreePort();
    const { port } = server.address() as net.AddressInfo;

    await expect(checkPortFree("127.0.0.1", port)).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
    server.close();
  });

  it("resolves for a free port", async () => {
    const server = await listenOnFreePort();
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));

    await expect(checkPortFree("127.0.0.1", port)).resolves.toBeUndefined();
  });
});
