import { RiPulseLine } from "@remixicon/react";

export function Logo({ tone = "dark" }: { tone?: "dark" | "light" }) {
  return (
    <span className="inline-flex items-center gap-2">
      <span className="inline-flex size-7 items-center justify-center rounded-md bg-indigo-500 text-white">
        <RiPulseLine className="size-5" aria-hidden />
      </span>
      <span
        className={`text-base font-semibold tracking-tight ${tone === "dark" ? "text-white" : "text-slate-900"}`}
      >
        Vigil
      </span>
    </span>
  );
}
