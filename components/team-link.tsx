import Link from "next/link";

/** Link to the overview filtered by a service's team, shown in the service page header. */
export function TeamLink({ team }: { team: { slug: string; name: string } }) {
  return (
    <Link
      href={`/?team=${encodeURIComponent(team.slug)}`}
      prefetch={false}
      data-testid="service-team"
      className="inline-flex items-center rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 hover:bg-indigo-100"
    >
      Team {team.name}
    </Link>
  );
}
