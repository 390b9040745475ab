/** One line for logs and /readyz: client-node's ApiException message spans lines and carries response headers. */
export function describeError(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    statusCode?: unknown;
    body?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
  };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let detail = typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '') : String(error);
  if (typeof e.body === 'string') {
    try {
      const body = JSON.parse(e.body) as { reason?: string; message?: string };
      if (body.reason) detail = `${body.reason}: ${body.message ?? ''}`;
    } catch {
      /* not a Status: keep the message */
    }
  }
  if (typeof e.cause?.code === 'string') detail = `${detail} (${e.cause.code})`;
  return status === undefined ? detail : `HTTP ${status} ${detail}`;
}
