import { stopProcess } from "./processes";

// Playwright global teardown: stops the server and the worker that the
// set-up started, then drops the test database.
export default async function globalTeardown(): Promise<void> {
  const runtime = globalThis.vigilE2eRuntime;
  if (!runtime) return;
  for (const pid of runtime.pids) await stopProcess(pid);
  await runtime.dropDatabase();
  globalThis.vigilE2eRuntime = undefined;
}
