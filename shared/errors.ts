/** A setting that cannot work: the process refuses to start and says which and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Bad input from a user: retrying cannot help; the message says what to change. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  /** CamelCase, for a status condition: `InvalidSpecification`, `ApimRejected`, ... */
  readonly reason: string;
  constructor(message: string, options: { cause?: unknown; reason?: string } = {}) {
    super(message, { cause: options.cause });
    this.reason = options.reason ?? 'ReconcileFailed';
  }
}

/** A failure that may pass: network, throttling, conflicts, 5xx. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryAfterMs: number | undefined;
  /** Which consecutive failure of its key this is, when the failing party knows better than the job (a job that replaced another). */
  readonly attempt: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number; attempt?: number } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.attempt = options.attempt;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
