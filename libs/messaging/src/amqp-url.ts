/** `amqp://user:pass@host:port/vhost` → the same with the password masked, for messages and logs. */
export function maskUrl(url: string): string {
  return url.replace(/(\/\/[^:@/]+):[^@/]*@/g, '$1:***@');
}

/** Describes a connection failure in one line a user can act on. */
export function describeConnectError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused (is the broker running on that port?)';
  if (e.code === 'ENOTFOUND') return 'host not found';
  if (e.code === 'ETIMEDOUT') return 'connection timed out';
  const msg = e.message ?? String(err);
  if (/ACCESS_REFUSED|403/.test(msg)) return 'the broker refused the credentials (ACCESS_REFUSED)';
  if (/NOT_ALLOWED|vhost/i.test(msg)) return `the broker refused the virtual host (${msg})`;
  return msg;
}

/** The vhost an AMQP URL names, from its path (`/%2F` or none: `/`). */
export function amqpVhost(url: string): string {
  const path = new URL(url).pathname.replace(/^\//, '');
  return path ? decodeURIComponent(path) : '/';
}
