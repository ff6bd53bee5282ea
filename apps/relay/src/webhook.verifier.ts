import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookKind } from './relay.config.js';

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(h: Headers, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hmac(algo: 'sha1' | 'sha256', secret: string, body: Buffer): string {
  return createHmac(algo, secret).update(body).digest('hex');
}

function bearer(h: Headers): string | undefined {
  const auth = header(h, 'authorization');
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
}

/**
 * Checks that a request proves the endpoint's secret the way its tool does.
 * Returns undefined when it does, else what was wrong (for the 401 body).
 */
export function verifyWebhook(kind: WebhookKind, secret: string, h: Headers, body: Buffer): string | undefined {
  switch (kind) {
    case 'github': {
      const sig = header(h, 'x-hub-signature-256');
      if (!sig) return 'missing X-Hub-Signature-256 header';
      return safeEqual(sig, `sha256=${hmac('sha256', secret, body)}`) ? undefined : 'X-Hub-Signature-256 does not match the body';
    }
    case 'gitea': {
      const sig = header(h, 'x-gitea-signature');
      if (!sig) return 'missing X-Gitea-Signature header';
      return safeEqual(sig, hmac('sha256', secret, body)) ? undefined : 'X-Gitea-Signature does not match the body';
    }
    case 'gitlab': {
      const token = header(h, 'x-gitlab-token');
      if (!token) return 'missing X-Gitlab-Token header';
      return safeEqual(token, secret) ? undefined : 'X-Gitlab-Token is wrong';
    }
    case 'nexus': {
      const sig = header(h, 'x-nexus-webhook-signature');
      if (!sig) return 'missing X-Nexus-Webhook-Signature header';
      return safeEqual(sig, hmac('sha1', secret, body)) ? undefined : 'X-Nexus-Webhook-Signature does not match the body';
    }
    case 'artifactory': {
      // JFrog sends the secret token itself, or (signing enabled) an HMAC-SHA256 of the body.
      const auth = header(h, 'x-jfrog-event-auth');
      if (!auth) return 'missing X-JFrog-Event-Auth header';
      return safeEqual(auth, secret) || safeEqual(auth, hmac('sha256', secret, body)) ? undefined : 'X-JFrog-Event-Auth is wrong';
    }
    case 'jira': {
      // Jira admin webhooks with a secret: WebSub's `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>`.
      const sig = header(h, 'x-hub-signature');
      if (!sig) return 'missing X-Hub-Signature header';
      return safeEqual(sig, `sha256=${hmac('sha256', secret, body)}`) ? undefined : 'X-Hub-Signature does not match the body';
    }
    case 'verdaccio':
    case 'jenkins':
    case 'git-hook':
    case 'generic':
    case 'cloudevents': {
      const token = bearer(h);
      if (!token) return 'missing "Authorization: Bearer <token>" header';
      return safeEqual(token, secret) ? undefined : 'the bearer token is wrong';
    }
  }
}

/** The tool's own delivery id, for de-duplication downstream; undefined when the tool sends none. */
export function deliveryId(kind: WebhookKind, h: Headers): string | undefined {
  switch (kind) {
    case 'github':
      return header(h, 'x-github-delivery');
    case 'gitea':
      return header(h, 'x-gitea-delivery');
    case 'gitlab':
      return header(h, 'x-gitlab-event-uuid') ?? header(h, 'idempotency-key');
    case 'nexus':
      return header(h, 'x-nexus-webhook-delivery');
    case 'jira':
      return header(h, 'x-atlassian-webhook-identifier') ?? header(h, 'x-delivery-id');
    default:
      return header(h, 'x-delivery-id');
  }
}

/** The tool's event name header, where it has one (GitHub `push`, GitLab `Push Hook`, …). */
export function toolEvent(kind: WebhookKind, h: Headers): string | undefined {
  switch (kind) {
    case 'github':
      return header(h, 'x-github-event');
    case 'gitea':
      return header(h, 'x-gitea-event');
    case 'gitlab':
      return header(h, 'x-gitlab-event');
    case 'nexus':
      return header(h, 'x-nexus-webhook-id');
    default:
      return undefined;
  }
}

/** Which endpoints need an event-name header to be understood at all. */
export const REQUIRED_EVENT_HEADER: Partial<Record<WebhookKind, string>> = {
  github: 'X-GitHub-Event',
  gitea: 'X-Gitea-Event',
  gitlab: 'X-Gitlab-Event',
};
