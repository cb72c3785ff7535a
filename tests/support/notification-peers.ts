import http from "node:http";
import type { AddressInfo } from "node:net";

import { SMTPServer } from "smtp-server";

// Peers for the notification tests, all on 127.0.0.1 with a port the OS
// picks: an HTTP receiver that responds 200, one that responds 500, one
// that never responds, and an SMTP server that requires a login.

export type HttpPeerMode = "ok" | "fail" | "hang";

export type ReceivedRequest = {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export type HttpPeer = {
  url: string;
  requests: ReceivedRequest[];
  close: () => Promise<void>;
};

export async function startHttpPeer(mode: HttpPeerMode): Promise<HttpPeer> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      if (mode === "ok") {
        response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      } else if (mode === "fail") {
        response.writeHead(500, { "content-type": "text/plain" }).end("receiver is broken");
      }
      // "hang" never responds, and close() destroys the socket.
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook/T000/B000/secret-token-${mode}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type ReceivedMail = { from: string; to: string[]; raw: string; user: string };

export type SmtpPeer = {
  host: string;
  port: number;
  mails: ReceivedMail[];
  close: () => Promise<void>;
};

/** Starts an SMTP server that accepts only `username` with `password`. */
export async function startSmtpPeer(
  username: string,
  password: string,
): Promise<SmtpPeer> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    // Plain SMTP on loopback: no STARTTLS, so no certificate is needed,
    // and AUTH PLAIN/LOGIN allowed without TLS.
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === username && auth.password === password) {
        callback(null, { user: username });
      } else {
        const error = Object.assign(new Error("invalid username or password"), {
          responseCode: 535,
        });
        callback(error);
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((address) => address.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          user: String(session.user),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
