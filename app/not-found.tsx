import Link from "next/link";

export default function NotFound() {
  return (
    <div className="flex min-h-[60vh] flex-col items-center justify-center text-center">
      <p className="text-sm font-medium text-indigo-600">404</p>
      <h1 className="mt-2 text-xl font-semibold text-slate-900">
        Page not found
      </h1>
      <p className="mt-1 text-sm text-slate-500">
        The incident, service or page you asked for does not exist.
      </p>
      <Link
        href="/"
        className="mt-4 text-sm font-medium text-indigo-600 hover:text-indigo-800"
      >
        Back to the overview
      </Link>
    </div>
  );
}
