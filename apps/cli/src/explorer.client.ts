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

export async function explorerGet<T>(target: ExplorerTarget, path: string): Promise<T> {
  const url = new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' },
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
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    if (!res.ok) throw new ExplorerError(`the explorer answered ${res.status} ${res.statusText}`, 1);
    throw new ExplorerError(`the explorer at ${target.url} did not answer with JSON: is that the explorer's address?`, 1);
  }
  if (res.status === 401) {
    throw new ExplorerError(
      `the explorer rejected the token (${String(body['message'] ?? '')}): pass --token or set TRACES_TOKEN to one of its auth.tokens`,
      4,
    );
  }
  if (!res.ok) {
    const extra = [
      body['hint'],
      Array.isArray(body['candidates']) ? `candidates: ${(body['candidates'] as string[]).join(', ')}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
    throw new ExplorerError(
      `${String(body['message'] ?? res.statusText)}${extra ? ` (${extra})` : ''}`,
      res.status === 404 || res.status === 409 ? 5 : 1,
    );
  }
  return body as T;
}
