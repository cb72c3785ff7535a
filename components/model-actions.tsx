"use client";

import { RiArrowGoBackLine, RiPlayLine, RiRefreshLine } from "@remixicon/react";
import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

// The Retrain and Activate buttons of the Models page. They call the model
// API routes with the session cookie, which check the role on the server,
// and show the API's error message when a request is rejected.

type Feedback = { tone: "ok" | "error"; text: string } | null;

async function postJson(url: string): Promise<{ ok: boolean; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    credentials: "same-origin",
  });
  let body: any = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { ok: response.ok, body };
}

function errorText(body: any, fallback: string): string {
  return typeof body?.error?.message === "string" ? body.error.message : fallback;
}

function FeedbackLine({ feedback }: { feedback: Feedback }) {
  if (!feedback) return null;
  return (
    <p
      role={feedback.tone === "error" ? "alert" : "status"}
      className={
        feedback.tone === "error"
          ? "text-xs text-rose-700"
          : "text-xs text-emerald-700"
      }
    >
      {feedback.text}
    </p>
  );
}

/** Queues a retraining of the series' model. */
export function RetrainButton({ seriesId }: { seriesId: number }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [feedback, setFeedback] = useState<Feedback>(null);

  async function retrain() {
    setPending(true);
    try {
      const { ok, body } = await postJson(`/api/v1/series/${seriesId}/retrain`);
      if (!ok) {
        setFeedback({ tone: "error", text: errorText(body, "Retraining was not queued.") });
        return;
      }
      setFeedback({
        tone: "ok",
        text: body.created
          ? `Training job ${body.trainingJob.id} queued.`
          : `Training job ${body.trainingJob.id} is already ${body.trainingJob.status}.`,
      });
      router.refresh();
    } catch {
      setFeedback({ tone: "error", text: "The request failed; check the connection and try again." });
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        icon={RiRefreshLine}
        loading={pending}
        onClick={retrain}
        data-testid="retrain-button"
      >
        Retrain
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

/**
 * Activates a stored version (admin only). The API stores a copy of it as
 * a new version with the reason rollback. The button reads "Roll back" for
 * a model older than the serving one and "Activate" for a newer one, such
 * as a rejected candidate.
 */
export function ActivateButton({
  seriesId,
  version,
  servingModelVersion,
}: {
  seriesId: number;
  version: number;
  /** Version whose model serves: the source of a copy, or null if none serves. */
  servingModelVersion: number | null;
}) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [feedback, setFeedback] = useState<Feedback>(null);
  const rollsBack = servingModelVersion !== null && version < servingModelVersion;

  async function activate() {
    const question = rollsBack
      ? `Roll back to version ${version}? It will score the next points.`
      : `Activate version ${version} in place of the serving model? ` +
        "It will score the next points, stored as a new version with the reason rollback.";
    if (!window.confirm(question)) {
      return;
    }
    setPending(true);
    try {
      const { ok, body } = await postJson(
        `/api/v1/series/${seriesId}/models/${version}/activate`,
      );
      if (!ok) {
        setFeedback({ tone: "error", text: errorText(body, "The version was not activated.") });
        return;
      }
      setFeedback({
        tone: "ok",
        text: `Version ${body.modelVersion.version} is active, a copy of version ${version}.`,
      });
      router.refresh();
    } catch {
      setFeedback({ tone: "error", text: "The request failed; check the connection and try again." });
    } finally {
      setPending(false);
    }
  }

  // After a successful activation this version's model serves as a copy,
  // so only the result line remains.
  if (version === servingModelVersion) return <FeedbackLine feedback={feedback} />;

  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="secondary"
        icon={rollsBack ? RiArrowGoBackLine : RiPlayLine}
        loading={pending}
        onClick={activate}
        title={
          rollsBack
            ? `Serve v${version} again, older than the serving model`
            : `Serve v${version}, newer than the serving model`
        }
        data-testid={`activate-version-${version}`}
      >
        {rollsBack ? `Roll back to v${version}` : `Activate v${version}`}
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}
