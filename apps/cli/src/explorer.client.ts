/** A small HTTP client for the explorer API with errors a person can act on. */
export class ExplorerError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'ExplorerError';
  }
}

export interface ExplorerTarget {
  readonly url: string;
  readonly token: string;
}

export function explorerGet<T>(target: ExplorerTarget, path: string): Promise<T> {
  return explorerRequest<T>(target, 'GET', path);
}

/** A call of the explorer API; `body` is sent as JSON. An answer without a body (204) is undefined. */
export async function explorerRequest<T>(
  target: ExplorerTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const url = new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new ExplorerError(
      `the explorer at ${target.url} is unreachable (${cause}): is the mesh up ("traces mesh status")? pass --url or set TRACES_EXPLORER_URL to reach another`,
      3,
    );
  }
  const text = await res.text();
  if (res.ok && text === '') return undefined as T;
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    if (!res.ok) throw new ExplorerError(`the explorer answered ${res.status} ${res.statusText}`, 1);
    throw new ExplorerError(`the explorer at ${target.url} did not answer with JSON: is that the explorer's address?`, 1);
  }
  if (res.status === 401) {
    throw new ExplorerError(
      `the explorer rejected the token (${String(answer['message'] ?? '')}): pass --token or set TRACES_TOKEN to one of its auth.tokens`,
      4,
    );
  }
  if (!res.ok) {
    const extra = [
      answer['hint'],
      Array.isArray(answer['candidates']) ? `candidates: ${(answer['candidates'] as string[]).join(', ')}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
    throw new ExplorerError(
      `${String(answer['message'] ?? res.statusText)}${extra ? ` (${extra})` : ''}`,
      res.status === 404 || res.status === 409 ? 5 : 1,
    );
  }
  return answer as T;
}
