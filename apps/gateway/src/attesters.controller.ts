import { Controller, UseGuards } from '@nestjs/common';
import { ROUTES } from '@jam/http-contract';
import { AttesterRepository } from '@jam/persistence';
import { BearerTokenGuard } from './bearer-token.guard';
import { Endpoint } from './endpoint.decorator';
import { GatewayLimits } from './gateway.providers';

/** The attester set (docs/architecture.md section 5): what a report's guarantee signatures verify against. */
@Controller()
@UseGuards(BearerTokenGuard)
export class AttestersController {
  constructor(
    private readonly attesters: AttesterRepository,
    private readonly limits: GatewayLimits,
  ) {}

  /**
   * The registered attesters in index order, `{ attesters: [{ index, public_key }], threshold,
   * attester_count, public_key_encoding, signed_message }`. `public_key` is the raw 32-byte
   * Ed25519 public key (RFC 8032 section 5.1.5 encoding) as `0x` + 64 lowercase hex digits; a
   * guarantee signature verifies under it, with any Ed25519 library, over the 45 bytes ASCII
   * `jam_guarantee` ++ report hash (GP 0.7.2 eq. 11.26, report hash = Blake2b-256 of the GP
   * encoding of the report). Same bearer auth as every /jam read; the set is the same for all tenants.
   */
  @Endpoint(ROUTES.listAttesters)
  async list() {
    const attesters = (await this.attesters.list()).map((a) => ({ index: a.index, public_key: a.publicKey }));
    return {
      attesters,
      threshold: this.limits.attestationThreshold,
      attester_count: this.limits.attesterCount,
      public_key_encoding: 'ed25519-raw-32-hex',
      signed_message: 'jam_guarantee ++ blake2b256(E(report))',
    };
  }
}
