import { createRequire } from "node:module";
import path from "node:path";

import * as tf from "@tensorflow/tfjs";

import { logger } from "@/lib/logger";

// Chooses the TensorFlow.js backend once per process, fastest first:
// tensorflow (native, from the optional @tensorflow/tfjs-node package), then
// wasm (ships its .wasm binaries inside the npm package), then cpu (plain JS).

export type BackendName = "tensorflow" | "wasm" | "cpu";

// Kept in a variable so that bundlers and the type checker do not try to
// resolve a package that is usually not installed.
const TFJS_NODE_PACKAGE = "@tensorflow/tfjs-node";

let ready: Promise<BackendName> | undefined;

/** Returns the folder containing the wasm backend's .wasm files, ending in "/". */
function wasmBinaryFolder(): string {
  try {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve(
      "@tensorflow/tfjs-backend-wasm/package.json",
    );
    return path.join(path.dirname(packageJson), "dist") + path.sep;
  } catch {
    return (
      path.join(
        process.cwd(),
        "node_modules/@tensorflow/tfjs-backend-wasm/dist",
      ) + path.sep
    );
  }
}

async function tryNative(): Promise<boolean> {
  try {
    await import(/* webpackIgnore: true */ TFJS_NODE_PACKAGE);
    return await tf.setBackend("tensorflow");
  } catch (error) {
    logger.debug(
      { err: error },
      "native TensorFlow backend not available, trying wasm",
    );
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(wasmBinaryFolder());
    return await tf.setBackend("wasm");
  } catch (error) {
    logger.warn(
      { err: error },
      "wasm TensorFlow backend failed to start, falling back to cpu",
    );
    return false;
  }
}

async function selectBackend(): Promise<BackendName> {
  let name: BackendName = "cpu";

  if (await tryNative()) {
    name = "tensorflow";
  } else if (await tryWasm()) {
    name = "wasm";
  } else {
    await tf.setBackend("cpu");
  }
  await tf.ready();

  logger.info(
    { backend: tf.getBackend(), tfjsVersion: tf.version.tfjs },
    "TensorFlow.js backend ready",
  );
  return name;
}

/** Initialises TensorFlow.js on first call and returns the active backend. */
export function initBackend(): Promise<BackendName> {
  ready ??= selectBackend().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

/** Returns the active backend, or throws if initBackend has not finished. */
export function activeBackend(): BackendName {
  const name = tf.getBackend();
  if (name === "tensorflow" || name === "wasm" || name === "cpu") return name;
  throw new Error(
    `TensorFlow.js backend "${name}" is not one Vigil selects; call initBackend() first`,
  );
}

export { tf };
