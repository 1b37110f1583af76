import { consume } from '@jam/queue';
import { ATTESTATION_QUEUE, VERIFY_ATTESTATION_V1 } from '@jam/queue-contracts';
import type { RoleModule } from '@jam/runtime';
import { AttestationProcessor } from './attestation.processor';

/** Jobs of the attestation queue one process verifies at a time. */
const ATTESTATION_CONCURRENCY = 4;

/**
 * The attestation role: consumes the `attestation` queue (verify, count distinct signers per
 * report hash, enqueue accumulate at the threshold, detect conflicts; docs/architecture.md section 6).
 */
export function attestationRole(): RoleModule {
  return {
    role: 'attestation',
    async start(host) {
      const { config } = host;
      const processor = new AttestationProcessor({
        ...host.repos,
        queue: host.queue,
        threshold: config.attestationThreshold,
        attesterCount: config.attesters,
        metrics: host.metrics,
        logger: host.logger,
      });
      consume(
        host.queue,
        ATTESTATION_QUEUE,
        { [VERIFY_ATTESTATION_V1]: (job) => processor.handle(job) },
        { concurrency: ATTESTATION_CONCURRENCY, wrap: host.instrument(ATTESTATION_QUEUE) },
      );
    },
  };
}
