// What the global set-up hands to the tests and to the teardown. Tests read
// it from VIGIL_E2E_STATE, which Playwright's worker processes inherit from
// the runner process that ran the set-up.

export type E2eUser = { email: string; password: string; name: string };

export type E2eState = {
  baseUrl: string;
  databaseUrl: string;
  users: { admin: E2eUser; responder: E2eUser; viewer: E2eUser };
  incidents: { latency: number; viewerTarget: number; race: number };
  logDir: string;
};

export const STATE_ENV = "VIGIL_E2E_STATE";

export function readState(): E2eState {
  const raw = process.env[STATE_ENV];
  if (!raw) {
    throw new Error(
      `${STATE_ENV} is not set: run the browser tests with \`npx playwright test\`, whose global set-up seeds the database and starts the server`,
    );
  }
  return JSON.parse(raw) as E2eState;
}
