"use client";

import { Button, MultiSelect, MultiSelectItem } from "@tremor/react";
import { useState, type FormEvent } from "react";

import { FeedbackLine, useApiRequest } from "@/components/api-request";

// Forms of the /settings/teams page. Each sends one request to the team API
// with the session cookie, so the server checks that the user is an admin.

type ServiceOption = { slug: string; name: string };

export type TeamRow = {
  slug: string;
  name: string;
  description: string | null;
  services: ServiceOption[];
};

const INPUT_CLASS =
  "block w-full rounded-md border-slate-300 text-sm shadow-sm focus:border-indigo-500 focus:ring-indigo-500";

/** Creates a team from a slug, a name, a description and its services. */
export function CreateTeamForm({ services }: { services: ServiceOption[] }) {
  const { pending, feedback, send } = useApiRequest();
  const [selected, setSelected] = useState<string[]>([]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const description = String(data.get("description") ?? "").trim();
    const body = {
      slug: String(data.get("slug") ?? "").trim(),
      name: String(data.get("name") ?? "").trim(),
      description: description === "" ? null : description,
      services: selected,
    };
    const created = await send("POST", "/api/v1/teams", body, {
      ok: (response) => `Created team ${response.team.name}.`,
      failed: "The team was not created.",
    });
    if (created) {
      form.reset();
      setSelected([]);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Create team">
      <div className="grid gap-3 sm:grid-cols-2">
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Slug</span>
          <input
            name="slug"
            required
            maxLength={63}
            pattern="[a-z0-9][a-z0-9\-]*"
            title="Lower-case letters, digits and hyphens, starting with a letter or digit"
            placeholder="payments"
            className={INPUT_CLASS}
          />
        </label>
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Name</span>
          <input name="name" required maxLength={100} placeholder="Payments" className={INPUT_CLASS} />
        </label>
        <label className="block text-sm sm:col-span-2">
          <span className="mb-1 block font-medium text-slate-700">Description (optional)</span>
          <input name="description" maxLength={1000} className={INPUT_CLASS} />
        </label>
        <div className="block text-sm sm:col-span-2">
          <span className="mb-1 block font-medium text-slate-700">Services</span>
          <MultiSelect
            value={selected}
            onValueChange={setSelected}
            placeholder="No services"
            aria-label="Services of the new team"
          >
            {services.map((service) => (
              <MultiSelectItem key={service.slug} value={service.slug}>
                {service.name}
              </MultiSelectItem>
            ))}
          </MultiSelect>
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" size="xs" loading={pending}>
          Create team
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}

/**
 * Edits one team: its name, description and whole service list, saved
 * together, and a delete button that keeps the services without a team.
 */
export function EditTeamForm({ team, services }: { team: TeamRow; services: ServiceOption[] }) {
  const { pending, feedback, send } = useApiRequest();
  const [selected, setSelected] = useState<string[]>(team.services.map((service) => service.slug));
  const url = `/api/v1/teams/${encodeURIComponent(team.slug)}`;

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const description = String(data.get("description") ?? "").trim();
    await send(
      "PATCH",
      url,
      {
        name: String(data.get("name") ?? "").trim(),
        description: description === "" ? null : description,
        services: selected,
      },
      {
        ok: (response) => `Saved team ${response.team.name}.`,
        failed: "The team was not saved.",
      },
    );
  }

  function remove() {
    const question =
      `Delete team ${team.name}? Its ${team.services.length} services stay, without a team.`;
    if (!window.confirm(question)) return;
    void send("DELETE", url, undefined, {
      ok: () => `Deleted team ${team.name}.`,
      failed: "The team was not deleted.",
    });
  }

  return (
    <form onSubmit={save} className="space-y-3" aria-label={`Team ${team.slug}`}>
      <div className="grid gap-3 sm:grid-cols-2">
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Name</span>
          <input name="name" required maxLength={100} defaultValue={team.name} className={INPUT_CLASS} />
        </label>
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Description</span>
          <input
            name="description"
            maxLength={1000}
            defaultValue={team.description ?? ""}
            className={INPUT_CLASS}
          />
        </label>
        <div className="block text-sm sm:col-span-2">
          <span className="mb-1 block font-medium text-slate-700">Services</span>
          <MultiSelect
            value={selected}
            onValueChange={setSelected}
            placeholder="No services"
            aria-label={`Services of team ${team.slug}`}
          >
            {services.map((service) => (
              <MultiSelectItem key={service.slug} value={service.slug}>
                {service.name}
              </MultiSelectItem>
            ))}
          </MultiSelect>
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" size="xs" loading={pending}>
          Save
        </Button>
        <Button type="button" size="xs" variant="light" color="rose" loading={pending} onClick={remove}>
          Delete team
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}
