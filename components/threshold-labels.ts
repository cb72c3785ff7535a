// Names and descriptions of the detector's two thresholds, so that every
// page names each one the same way and none reads as a bare "threshold".

/** The model's forecast error threshold: the raw score is the error divided by it. */
export const ERROR_THRESHOLD_LABEL = "Error threshold";

export const ERROR_THRESHOLD_UNIT = "robust SD";

export const ERROR_THRESHOLD_DESCRIPTION =
  "Error threshold of the model: the RMS forecast error, in robust standard " +
  "deviations of the training data, at which the raw score reaches 1. " +
  "Each training sets it.";

/** The series' likelihood threshold: a point alarms when its likelihood reaches it. */
export const ALARM_THRESHOLD_LABEL = "Alarm threshold (likelihood)";

export const ALARM_THRESHOLD_DESCRIPTION =
  "Alarm threshold of the series: a point is anomalous when its anomaly " +
  "likelihood (0 to 1, 0.5 is usual) reaches it. Feedback on its incidents can change it.";
