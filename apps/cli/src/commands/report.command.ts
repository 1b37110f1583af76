import type { Command } from 'commander';
import type { ReportInfo } from '@jam/client';
import { initHashing } from '@jam/domain';
import { formatTrap, type TrapInfo } from '@jam/sandbox';
import { parseHashArg } from '../cli.args';
import { commandContext, type CliEnvironment } from '../cli.context';
import { checkReportHash, verifyAttestation } from '../attestation.verify';
import { printFields } from './preimage.command';

/** `jam report get`. */
export function registerReportCommands(program: Command, env: CliEnvironment): void {
  const report = program.command('report').description('inspect work reports and their attestations');

  report
    .command('get')
    .description("show a package's work report, attestations (signatures checked locally), verdict, and each item's guest log lines and trap")
    .argument('<hash>', 'package hash (0x hex)', parseHashArg)
    .action(async (hash: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const r = await ctx.client.getReport(hash);
      if (ctx.global.json) return ctx.json(r);
      await initHashing(); // checkReportHash hashes the GP encoding

      const valid = r.attestations.filter((a) => verifyAttestation(r.report_hash, a)).length;
      printFields(ctx.out, {
        package_hash: r.package_hash,
        report_hash: r.report_hash,
        report_hash_check: { match: 'Blake2b-256 of the GP encoding (GP 0.7.2 eq. 11.26)', mismatch: 'MISMATCH', legacy: 'legacy format 1 (not checked)' }[
          checkReportHash(r)
        ],
        engine: `${r.engine.name} ${r.engine.version} (cost table ${r.engine.cost_table_version})`,
        verdict: r.verdict,
        attestations: `${r.attestations.length} (valid signatures: ${valid}, threshold ${r.threshold})`,
        results: describeResults(r).join(', '),
      });
      for (const a of r.attestations) {
        ctx.out(`  attester ${a.attester_index} ${a.public_key} ${verifyAttestation(r.report_hash, a) ? 'valid' : 'INVALID'}`);
      }
      for (const g of r.guest_log ?? []) {
        if (g.logs.length === 0 && g.trap === null) continue;
        ctx.out(`item ${g.item_index} (service ${g.service_id}):`);
        if (g.trap) ctx.out(`  trap: ${g.trap.kind}: ${formatTrap(g.trap as TrapInfo)}`);
        for (const line of g.logs) ctx.out(`  log ${line}`);
      }
    });

  program
    .command('attesters')
    .description('list the attester set (index, Ed25519 public key) and the threshold')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const set = await ctx.client.attesters();
      if (ctx.global.json) return ctx.json(set);
      ctx.out(`threshold ${set.threshold} of ${set.attester_count}; signed message: ${set.signed_message}`);
      for (const a of set.attesters) ctx.out(`  attester ${a.index} ${a.public_key}`);
    });
}

/**
 * One word per work digest of the report JSON: the WorkExecResult variant (`ok`, `panic`, ...),
 * read defensively since the report is GP JSON of the server's making.
 */
export function describeResults(r: ReportInfo): string[] {
  const report = r.report as { results?: unknown } | null;
  if (!report || !Array.isArray(report.results)) return [];
  return report.results.map((d: unknown) => {
    const result = (d as { result?: unknown } | null)?.result;
    if (result && typeof result === 'object') return Object.keys(result)[0] ?? '?';
    return '?';
  });
}
