import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import {
  incidentNotFound,
  incidentRoute,
  parseIncidentId,
  requireIncidentAccess,
} from "@/lib/incidents/api";
import { addIncidentNote, NOTE_MAX_LENGTH } from "@/lib/incidents/notes";

const bodySchema = z.strictObject({
  text: z.string().trim().min(1).max(NOTE_MAX_LENGTH),
});

/** POST /api/v1/incidents/{id}/notes with {"text": "..."}: 201 with the note. */
export const POST = incidentRoute(
  "POST /api/v1/incidents/{id}/notes",
  { access: "write", action: "add notes to incidents" },
  async ({ params, actor, readJson, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    const body = parseInput(bodySchema, await readJson());
    await requireIncidentAccess(incidentId, actor);
    const note = await addIncidentNote(incidentId, body.text, actor);
    if (!note) throw incidentNotFound(incidentId);
    return {
      status: 201,
      body: {
        note: { ...note, createdAt: note.createdAt.toISOString() },
        requestId,
      },
    };
  },
);
