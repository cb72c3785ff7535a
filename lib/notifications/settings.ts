import type { Config } from "@/lib/config";
import type { DeliveryOptions } from "@/lib/notifications/deliver";

/** Returns the base URL of incident links: VIGIL_PUBLIC_URL, NEXTAUTH_URL or localhost. */
export function publicUrl(config: Config): string {
  return config.VIGIL_PUBLIC_URL ?? config.NEXTAUTH_URL ?? `http://localhost:${config.PORT}`;
}

/** Returns the delivery settings that the environment sets. */
export function deliveryOptions(config: Config): DeliveryOptions {
  return {
    timeoutMs: config.VIGIL_NOTIFY_TIMEOUT_MS,
    maxAttempts: config.VIGIL_NOTIFY_MAX_ATTEMPTS,
    retryBaseSeconds: config.VIGIL_NOTIFY_RETRY_BASE_SECONDS,
    publicUrl: publicUrl(config),
  };
}
