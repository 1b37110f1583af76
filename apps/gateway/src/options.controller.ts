import { Controller, HttpCode, Options, UseGuards } from '@nestjs/common';
import { BearerTokenGuard } from './bearer-token.guard';
import { AdminTokenGuard } from './admin-token.guard';

/**
 * OPTIONS is held to the same rules as GET: without these routes Express would answer
 * `OPTIONS /jam/...` itself, before any guard, and tell an anonymous client which methods exist.
 * No CORS is offered; an authenticated OPTIONS gets 204.
 */
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
