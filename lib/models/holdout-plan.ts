import {
  DEFAULT_RETRAIN_POLICY,
  holdoutSize,
  type RetrainPolicy,
} from "@/lib/detector/retrain-policy";

// How a retraining splits a series' history into training points and the
// newest points held out for the comparison, as the NAB replay splits it
// (holdoutSize in lib/detector/retrain-policy.ts).

export type HoldoutPlan = {
  /** Newest points held out from the candidate's training. */
  holdout: number;
  /** Points before the holdout, the candidate's training history. */
  trainingPoints: number;
  /** Reason the history is too short to retrain, or null when it is not. */
  problem: string | null;
};

/** Plans the holdout of a series with `historyPoints` points. */
export function planHoldout(
  historyPoints: number,
  minTrainingPoints: number,
  policy: RetrainPolicy = DEFAULT_RETRAIN_POLICY,
): HoldoutPlan {
  const holdout = holdoutSize(historyPoints, policy);
  const trainingPoints = historyPoints - holdout;
  const problem =
    holdout < 1 || trainingPoints < minTrainingPoints
      ? `the series has ${historyPoints} points; retraining needs ` +
        `${minTrainingPoints} to train on besides the newest points it holds ` +
        `out for the comparison (up to ${policy.holdoutPoints}, at most a quarter of the history)`
      : null;
  return { holdout, trainingPoints, problem };
}
