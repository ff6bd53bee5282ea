import { Controller, Get, Inject } from '@nestjs/common';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { openApiDocument } from './openapi.document.js';

/** The API's OpenAPI 3.1 document, generated from the zod schemas (`openapi.document.ts`). */
@Controller('api/docs')
export class OpenApiController {
  private readonly doc: Record<string, unknown>;

  constructor(@Inject(EXPLORER_CONFIG) config: ExplorerConfig) {
    this.doc = openApiDocument(config.eiffelApi.basePath);
  }

  @Get()
  document(): Record<string, unknown> {
    return this.doc;
  }
}
