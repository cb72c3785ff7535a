import type { io as tfio } from "@tensorflow/tfjs";

import { tf } from "@/lib/detector/backend";
import { inputSize, type ModelParams } from "@/lib/detector/params";
import { packInputs } from "@/lib/detector/windows";

// The TensorFlow.js network of the forecaster: its layers, batched
// prediction, the span error and serialisation to memory.

export function buildNetwork(params: ModelParams): tf.LayersModel {
  const initializer = (offset: number) =>
    tf.initializers.glorotUniform({ seed: params.seed + offset });
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      inputShape: [inputSize(params)],
      units: params.hiddenUnits[0],
      activation: "relu",
      kernelInitializer: initializer(1),
    }),
  );
  model.add(
    tf.layers.dense({
      units: params.hiddenUnits[1],
      activation: "relu",
      kernelInitializer: initializer(2),
    }),
  );
  model.add(
    tf.layers.dense({ units: 1, kernelInitializer: initializer(3) }),
  );
  model.compile({
    optimizer: tf.train.adam(params.learningRate),
    loss: "meanSquaredError",
  });
  return model;
}

/** Forecasts the points at `targets` (each at least inputLookback), in
 * batches. */
export function forecast(
  network: tf.LayersModel,
  units: Float32Array,
  params: ModelParams,
  targets: readonly number[],
): Float32Array {
  const result = new Float32Array(targets.length);
  const width = inputSize(params);
  const batch = 2048;
  for (let offset = 0; offset < targets.length; offset += batch) {
    const rows = targets.slice(offset, offset + batch);
    const packed = packInputs(units, params, rows);
    const predicted = tf.tidy(() => {
      const input = tf.tensor2d(packed, [rows.length, width]);
      return (network.predict(input) as tf.Tensor).dataSync();
    });
    result.set(predicted, offset);
  }
  return result;
}

/** Computes the RMS of the residuals in the span ending at each index. The
 * first errorSpan - 1 entries have no full span, so they are NaN. */
export function spanErrors(residuals: Float32Array, span: number): number[] {
  const errors: number[] = [];
  for (let index = 0; index < residuals.length; index += 1) {
    if (index < span - 1) {
      errors.push(Number.NaN);
      continue;
    }
    let sum = 0;
    for (let back = 0; back < span; back += 1) {
      sum += residuals[index - back]! ** 2;
    }
    errors.push(Math.sqrt(sum / span));
  }
  return errors;
}

/** Writes the network's topology and weights to memory. */
export async function serializeNetwork(network: tf.LayersModel) {
  let saved: tfio.ModelArtifacts | undefined;
  await network.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
        },
      };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs || !saved.weightData) {
    throw new Error("model serialisation returned no topology or weights");
  }
  const weightData = Array.isArray(saved.weightData)
    ? tf.io.concatenateArrayBuffers(saved.weightData)
    : saved.weightData;
  return {
    topology: saved.modelTopology as object,
    weightSpecs: saved.weightSpecs,
    weights: new Uint8Array(weightData.slice(0)),
  };
}
