// Plain lines for the person at the terminal. Structured events go to the
// pino logger, and these are the few lines a user needs to read.

export function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

export function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** An error whose message is meant for the user as is, without a stack. */
export class CliError extends Error {}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
