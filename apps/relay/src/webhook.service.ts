import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isFormat, siteRoutingKey } from '@not/events';
import { RelaySettings, WEBHOOK_SOURCE, type WebhookKind } from './relay.config.js';
import { RelayMetrics } from './relay.metrics.js';
import { readCloudEventsRequest } from './cloudevents.binding.js';
import { BrokerUnavailableError, WebhookPublisher } from './webhook.publisher.js';
import { deliveryId, REQUIRED_EVENT_HEADER, toolEvent, verifyWebhook } from './webhook.verifier.js';

export interface Accepted {
  readonly status: 'accepted';
  readonly deliveryId: string;
  readonly routingKey: string;
}

/** The format each endpoint's payload is parsed as at central. */
const FORMAT_OF: Record<Exclude<WebhookKind, 'generic'>, string> = {
  github: 'github',
  gitlab: 'gitlab',
  gitea: 'gitea',
  nexus: 'nexus',
  artifactory: 'artifactory',
  verdaccio: 'verdaccio',
  jenkins: 'jenkins',
  'git-hook': 'git-hook',
  cloudevents: 'cdevents',
  jira: 'jira',
};

/**
 * Takes a webhook request: size limit, signature, shape; publishes the body
 * byte for byte with its format and delivery id in headers; answers 202 only
 * after the site broker confirmed.
 */
@Injectable()
export class WebhookService {
  private readonly log = new Logger(WebhookService.name);

  constructor(
    private readonly settings: RelaySettings,
    private readonly publisher: WebhookPublisher,
    private readonly metrics: RelayMetrics,
  ) {}

  async accept(kind: WebhookKind, req: IncomingMessage, formatParam?: string): Promise<Accepted> {
    try {
      const result = await this.handle(kind, req, formatParam);
      this.metrics.webhooks.inc({ endpoint: kind, result: 'accepted' });
      return result;
    } catch (err) {
      const status = err instanceof HttpException ? err.getStatus() : 500;
      this.metrics.webhooks.inc({ endpoint: kind, result: String(status) });
      throw err;
    }
  }

  private async handle(kind: WebhookKind, req: IncomingMessage, formatParam?: string): Promise<Accepted> {
    const cfg = this.settings.config.webhooks;
    if (!cfg) throw new HttpException('webhooks are not enabled on this relay (no "webhooks" section in its config)', HttpStatus.NOT_FOUND);
    const raw = await readBody(req, cfg.maxBytes);
    const secret = cfg.secrets[kind];
    if (secret) {
      const problem = verifyWebhook(kind, secret, req.headers, raw);
      if (problem) throw new UnauthorizedException(problem);
    }
    const format = kind === 'generic' ? this.genericFormat(formatParam) : FORMAT_OF[kind];
    const required = REQUIRED_EVENT_HEADER[kind];
    if (required && !req.headers[required.toLowerCase()]) throw new BadRequestException(`missing ${required} header`);
    const sent = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    // GitHub's default and Gitea's form content type: the JSON is the `payload` field; the signature
    // (checked above) covers the raw form body, what goes on is the JSON.
    const form = sent === FORM && FORM_ENDPOINTS.includes(kind);
    const body = form ? formPayload(raw) : raw;
    // CloudEvents in binary mode may carry any content type: the binding below reads it.
    let contentType = form ? 'application/json' : sent;
    if (contentType !== 'application/json' && kind !== 'cloudevents') {
      const also = FORM_ENDPOINTS.includes(kind) ? ` or ${FORM}` : '';
      throw new BadRequestException(`content type must be application/json${also}, not ${sent}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new BadRequestException(`the body is not valid JSON: ${(err as Error).message}`);
    }
    const ce = kind === 'cloudevents' ? readCloudEventsRequest(req.headers, body, json) : undefined;
    if (typeof ce === 'string') throw new BadRequestException(ce);
    if (ce) contentType = ce.contentType;
    const id = ce?.deliveryId ?? deliveryId(kind, req.headers) ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const headers: Record<string, string> = {
      ...ce?.attributes,
      'x-not-format': format,
      'x-not-delivery-id': id,
      'x-not-endpoint': kind,
      // The time of an event whose payload has none.
      'x-not-received-at': new Date().toISOString(),
    };
    const event = toolEvent(kind, req.headers);
    if (event) headers['x-not-event'] = event;
    const routingKey = siteRoutingKey(this.settings.config.site, WEBHOOK_SOURCE, format);
    try {
      await this.publisher.publish(routingKey, body, headers, contentType);
    } catch (err) {
      if (err instanceof BrokerUnavailableError) {
        this.log.warn(`webhook ${id} not accepted (503): ${err.message}`);
        throw new ServiceUnavailableException(`could not hand the event to the site broker (${err.message}); retry later`);
      }
      throw err;
    }
    return { status: 'accepted', deliveryId: id, routingKey };
  }

  private genericFormat(formatParam?: string): string {
    if (!formatParam) throw new BadRequestException('the generic endpoint needs ?format=<format> (eiffel, cdevents, jenkins, …)');
    if (!isFormat(formatParam)) throw new BadRequestException(`unknown format "${formatParam}"`);
    return formatParam;
  }
}

const FORM = 'application/x-www-form-urlencoded';
/** The endpoints whose tools may send `payload=<json>` as a form. */
const FORM_ENDPOINTS: readonly WebhookKind[] = ['github', 'gitea'];

/** The `payload` field of a form-encoded webhook body. */
function formPayload(raw: Buffer): Buffer {
  const payload = new URLSearchParams(raw.toString('utf8')).get('payload');
  if (payload === null) throw new BadRequestException(`payload: a ${FORM} webhook body needs a "payload" field holding the JSON`);
  return Buffer.from(payload, 'utf8');
}

/** Reads the raw body, refusing (413) past the limit without buffering the rest. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(new PayloadTooLargeException(`the body is ${declared} bytes; the limit is ${max}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new PayloadTooLargeException(`the body is over the limit of ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
