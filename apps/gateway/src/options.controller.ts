import { Controller, HttpCode, Options, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { BearerTokenGuard } from './bearer-token.guard';
import { AdminTokenGuard } from './admin-token.guard';

/**
 * OPTIONS is held to the same rules as GET: without these routes Express would answer
 * `OPTIONS /jam/...` itself, before any guard, and tell an anonymous client which methods exist.
 * No CORS is offered; an authenticated OPTIONS gets 204. Left out of the OpenAPI document: these
 * catch-alls are not operations of their own (the document's `security` of each path says who may
 * send OPTIONS there).
 */
@ApiExcludeController()
@Controller()
export class OptionsController {
  @Options(['jam', 'jam/*path'])
  @UseGuards(BearerTokenGuard)
  @HttpCode(204)
  jam(): void {}

  @Options(['admin', 'admin/*path'])
  @UseGuards(AdminTokenGuard)
  @HttpCode(204)
  admin(): void {}
}
