import { context, propagation } from '@opentelemetry/api';

/**
 * The active trace context as W3C headers, or `undefined` when there is none (tracing off: the
 * global propagator is the API's no-op and nothing is injected). The queue library uses the
 * OpenTelemetry API only; `@jam/telemetry` owns the SDK.
 */
export function captureTraceContext(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** Parses a carrier stored as JSON beside a job; anything but a string-to-string object is dropped. */
export function parseTraceContext(raw: unknown): Record<string, string> | undefined {
  if (typeof raw !== 'string' || raw === '' || raw.length > 4096) return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}
