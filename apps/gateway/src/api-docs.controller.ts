import * as path from 'node:path';
import { Controller, Injectable, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { DomainError } from '@jam/domain';
import { ROUTES } from '@jam/http-contract';
import { Endpoint } from './endpoint.decorator';

/** Holds the OpenAPI document once `startGateway` generated it from the built app (it needs the app, so it cannot be a plain provider value). */
@Injectable()
export class OpenApiDocumentHolder {
  private document: object | undefined;

  set(document: object): void {
    this.document = document;
  }

  /** @throws DomainError('dependency_unavailable') before the document was generated (a gateway still starting) */
  get(): object {
    if (this.document === undefined) throw new DomainError('dependency_unavailable', 'the API description is not generated yet');
    return this.document;
  }
}

/** Swagger UI files served from the installed `swagger-ui-dist` (no CDN), by the name the page asks for. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Starts Swagger UI on /jam/openapi.json; a file, not an inline script, so a strict CSP can still allow it. */
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/jam/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>JAM Prototype API</title>
<link rel="stylesheet" type="text/css" href="/jam/docs/swagger-ui.css">
<link rel="stylesheet" type="text/css" href="/jam/docs/index.css">
<link rel="icon" type="image/png" href="/jam/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/jam/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="/jam/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script src="/jam/docs/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
`;

/**
 * The API description: the OpenAPI 3 document and Swagger UI over it. Unauthenticated, like
 * /healthz: a browser cannot send a bearer token when it opens the page, and the document holds
 * only what the README's route table already publishes (no tenant data, settings or secrets).
 * Swagger UI's "Authorize" button takes a token for trying routes out; those calls are
 * authenticated as usual.
 */
@Controller()
export class ApiDocsController {
  constructor(private readonly holder: OpenApiDocumentHolder) {}

  @Endpoint(ROUTES.openApiDocument)
  openApi(): object {
    return this.holder.get();
  }

  @Endpoint(ROUTES.apiDocs)
  page(@Res() res: Response): void {
    res.status(200).type('text/html; charset=utf-8').send(PAGE);
  }

  @Endpoint(ROUTES.apiDocsAsset)
  asset(@Param('asset') name: string, @Res() res: Response): void {
    if (name === 'swagger-initializer.js') {
      res.status(200).type('application/javascript; charset=utf-8').send(INITIALIZER);
      return;
    }
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (type === undefined) throw new DomainError('not_found', `no API docs asset ${name}`);
    res.status(200).type(type).sendFile(path.join(getAbsoluteFSPath(), name));
  }
}
