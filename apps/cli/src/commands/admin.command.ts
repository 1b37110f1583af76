import { InvalidArgumentError, Option, type Command } from 'commander';
import { JamAdminClient, JamApiError, type PackageInfo, type Service } from '@jam/client';
import { parseHashArg, parseNonNegativeIntArg, parseServiceIdArg } from '../cli.args';
import { CliHintedError, CliUsageError, commandContext, type CliEnvironment, type CommandContext } from '../cli.context';
import { printFields } from './preimage.command';

const PRINCIPAL_RE = /^[A-Za-z0-9_.@:-]{1,64}$/;

/** A principal name as the admin API accepts it (1 to 64 of A-Z a-z 0-9 _ . @ : -). */
function parsePrincipalArg(value: string): string {
  if (!PRINCIPAL_RE.test(value)) throw new InvalidArgumentError('expected a principal: 1 to 64 characters of A-Z a-z 0-9 _ . @ : -');
  return value;
}

/** A quota: a non-negative integer, or `default` (null: back to the server's max_pending_packages). */
function parseQuotaArg(value: string): number | null {
  if (value === 'default') return null;
  return parseNonNegativeIntArg(value);
}

/** What an admin action gets: the usual context, an admin client and where its token came from. */
interface AdminContext extends CommandContext {
  admin: JamAdminClient;
  tokenSource: '--admin-token' | 'JAM_ADMIN_TOKEN';
}

function adminContext(env: CliEnvironment, cmd: Command): AdminContext {
  const ctx = commandContext(env, cmd);
  const { adminToken } = cmd.optsWithGlobals<{ adminToken?: string }>();
  const token = adminToken ?? env.adminToken;
  if (!token) throw new CliUsageError('no admin token: pass --admin-token or set JAM_ADMIN_TOKEN (an admin token, not the /jam token)');
  return {
    ...ctx,
    admin: new JamAdminClient({ baseUrl: ctx.global.url, token }),
    tokenSource: adminToken !== undefined ? '--admin-token' : 'JAM_ADMIN_TOKEN',
  };
}

/**
 * Runs an admin action, turning 401, 403 and 404 into the server's message plus a hint on what
 * to check (which token was sent, the address allowlist, what was not found).
 */
async function adminAction(ctx: AdminContext, notFound: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof JamApiError)) throw err;
    if (err.status === 401) {
      throw new CliHintedError(
        err,
        `the server refused the admin token from ${ctx.tokenSource}: it must be one of the server's admin_tokens (JAM_ADMIN_TOKENS); /jam tokens are not admin tokens, and a server without admin_tokens has no admin API`,
      );
    }
    if (err.status === 403) {
      throw new CliHintedError(
        err,
        `${ctx.global.url} does not take admin requests from this machine's address: it must be in the server's admin_ip_allowlist (JAM_ADMIN_IP_ALLOWLIST, default loopback only)`,
      );
    }
    if (err.status === 404) throw new CliHintedError(err, `${notFound} on ${ctx.global.url}`);
    throw err;
  }
}

/**
 * `jam admin delegate|quota|dispute|audit`: the admin API (`/admin/*`, docs/security-authz.md)
 * with an admin token from `--admin-token` or JAM_ADMIN_TOKEN.
 */
export function registerAdminCommands(program: Command, env: CliEnvironment): void {
  const admin = program
    .command('admin')
    .description('administer delegates, quotas, disputes and read the audit log (needs an admin token)')
    // Like --token, the default is named by its source, never shown.
    .addOption(new Option('--admin-token <token>', "admin token (one of the server's admin_tokens; env JAM_ADMIN_TOKEN)"))
    .addHelpText(
      'after',
      "\nAdmin requests must come from an address in the server's admin_ip_allowlist (loopback by default).\n" +
        "Every admin request, refused ones included, is written to the audit log with the token's SHA-256.",
    );

  registerDelegateCommands(admin, env);
  registerQuotaCommands(admin, env);
  registerDisputeCommands(admin, env);
  registerAdminPackageCommands(admin, env);
  registerAuditCommand(admin, env);
}

/** `jam admin delegate add|remove <service> <principal>`: a service's delegates. */
function registerDelegateCommands(admin: Command, env: CliEnvironment): void {
  const delegate = admin.command('delegate').description('add or remove a delegate of a service (acts for it like its owner)');
  for (const [verb, what] of [
    ['add', 'add a delegate to a service (idempotent); prints the service'],
    ['remove', 'remove a delegate from a service (idempotent); prints the service'],
  ] as const) {
    delegate
      .command(verb)
      .description(what)
      .argument('<service>', 'service id', parseServiceIdArg)
      .argument('<principal>', 'principal name of the delegate (as in allowed_tokens)', parsePrincipalArg)
      .action(async (service: number, principal: string, _opts: unknown, cmd: Command) => {
        const ctx = adminContext(env, cmd);
        await adminAction(ctx, `service ${service} does not exist`, async () => {
          const s = verb === 'add' ? await ctx.admin.addDelegate(service, principal) : await ctx.admin.removeDelegate(service, principal);
          printService(ctx, s);
        });
      });
  }
}

/** `jam admin quota list|set|remove`: per-principal overrides of max_pending_packages. */
function registerQuotaCommands(admin: Command, env: CliEnvironment): void {
  const quota = admin.command('quota').description('per-principal overrides of max_pending_packages');
  quota
    .command('list')
    .description('list quota overrides (one page, by principal) and the server default')
    .option('--limit <n>', 'page size (capped by the server)', parseNonNegativeIntArg)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts: { limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, 'no admin API', async () => {
        const page = await ctx.admin.listQuotas(pageOpts(opts));
        if (ctx.global.json) return ctx.json(page);
        for (const q of page.items) ctx.out(`${q.principal.padEnd(24)}  ${String(q.max_pending_packages ?? 'default').padStart(10)}  ${q.updated_at}`);
        ctx.err(`default max_pending_packages: ${page.default_max_pending_packages}`);
        if (page.next_cursor) ctx.err(`more: --cursor ${page.next_cursor}`);
      });
    });
  quota
    .command('set')
    .description("set a principal's max_pending_packages (0 refuses every submission; 'default' follows the server setting)")
    .argument('<principal>', 'principal name', parsePrincipalArg)
    .argument('<max-pending>', "unfinished packages allowed, or 'default'", parseQuotaArg)
    .action(async (principal: string, max: number | null, _opts: unknown, cmd: Command) => {
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, 'no admin API', async () => {
        const q = await ctx.admin.setQuota(principal, max);
        if (ctx.global.json) return ctx.json(q);
        printFields(ctx.out, { principal: q.principal, max_pending_packages: q.max_pending_packages ?? 'default', updated_at: q.updated_at });
      });
    });
  quota
    .command('remove')
    .description("remove a principal's override (back to the server default)")
    .argument('<principal>', 'principal name', parsePrincipalArg)
    .action(async (principal: string, _opts: unknown, cmd: Command) => {
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, 'no admin API', async () => {
        const r = await ctx.admin.removeQuota(principal);
        if (ctx.global.json) return ctx.json(r);
        ctx.out(r.removed ? `removed the override of ${r.principal}` : `${r.principal} had no override`);
      });
    });
}

/** `jam admin dispute list|resolve`: disputed packages and their resolution (accept a report or reject). */
function registerDisputeCommands(admin: Command, env: CliEnvironment): void {
  const dispute = admin.command('dispute').description('disputed packages: conflicting reports, resolved by an administrator');
  dispute
    .command('list')
    .description('list disputed packages (newest first) with each report hash and its signers')
    .option('--limit <n>', 'page size (capped by the server)', parseNonNegativeIntArg)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts: { limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, 'no admin API', async () => {
        const page = await ctx.admin.listDisputes(pageOpts(opts));
        if (ctx.global.json) return ctx.json(page);
        for (const p of page.items) {
          ctx.out(`${p.hash}  services ${p.service_ids.join(',')}  by ${p.submitted_by}  ${p.updated_at}`);
          for (const r of p.reports) ctx.out(`  report ${r.report_hash}  signers ${r.signers}/${page.threshold}`);
        }
        if (!page.items.length) ctx.err('no disputed packages');
        if (page.next_cursor) ctx.err(`more: --cursor ${page.next_cursor}`);
      });
    });
  dispute
    .command('resolve')
    .description('resolve a disputed package: --accept one of its reports (it goes on to accumulation) or --reject it (failed)')
    .argument('<package>', 'package hash (0x hex)', parseHashArg)
    .option('--accept <report-hash>', 'accept this report of the package (see admin dispute list)', parseHashArg)
    .option('--reject', 'reject the package: it ends failed (dispute_rejected)')
    .option('--reason <text>', 'with --reject: why (stored as the error message, at most 500 characters)')
    .action(async (hash: string, opts: { accept?: string; reject?: boolean; reason?: string }, cmd: Command) => {
      if ((opts.accept !== undefined) === (opts.reject === true)) throw new CliUsageError('give exactly one of --accept <report-hash> and --reject');
      if (opts.reason !== undefined && !opts.reject) throw new CliUsageError('--reason goes with --reject');
      if (opts.reason !== undefined && (opts.reason.length < 1 || opts.reason.length > 500)) throw new CliUsageError('--reason must be 1 to 500 characters');
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, `package ${hash} does not exist`, async () => {
        const p = await ctx.admin.resolveDispute(
          hash,
          opts.accept !== undefined
            ? { decision: 'accept', report_hash: opts.accept }
            : { decision: 'reject', ...(opts.reason !== undefined ? { reason: opts.reason } : {}) },
        );
        if (ctx.global.json) return ctx.json(p);
        printResolved(ctx, p);
      });
    });
}

/** `jam admin package retry <package>`: retry any tenant's failed package. */
function registerAdminPackageCommands(admin: Command, env: CliEnvironment): void {
  admin
    .command('package')
    .description("act on any tenant's packages")
    .command('retry')
    .description('run any failed package again (failures that were not guest outcomes; same bound as its owners have)')
    .argument('<package>', 'package hash (0x hex)', parseHashArg)
    .action(async (hash: string, _opts: unknown, cmd: Command) => {
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, `package ${hash} does not exist`, async () => {
        const p = await ctx.admin.adminRetryPackage(hash);
        if (ctx.global.json) return ctx.json(p);
        printResolved(ctx, p);
      });
    });
}

/** `jam admin audit`: the audit log, newest first. */
function registerAuditCommand(admin: Command, env: CliEnvironment): void {
  admin
    .command('audit')
    .description('read the audit log, newest first (admin actions and refused admin requests)')
    .option('--action <action>', 'only this action (delegate.add, quota.set, dispute.resolve, admin.auth, ...)')
    .option('--limit <n>', 'page size (capped by the server)', parseNonNegativeIntArg)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts: { action?: string; limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = adminContext(env, cmd);
      await adminAction(ctx, 'no admin API', async () => {
        const page = await ctx.admin.listAudit({ ...pageOpts(opts), ...(opts.action !== undefined ? { action: opts.action } : {}) });
        if (ctx.global.json) return ctx.json(page);
        for (const e of page.items) {
          const actor = e.actor_token_hash ? e.actor_token_hash.slice(0, 14) : '-';
          ctx.out(`${e.id.padStart(8)}  ${e.at}  ${e.action.padEnd(16)}  ${e.outcome.padEnd(7)}  ${actor}  ${e.target ?? '-'}`);
        }
        if (page.next_cursor) ctx.err(`more: --cursor ${page.next_cursor}`);
      });
    });
}

function pageOpts(opts: { limit?: number; cursor?: string }): { limit?: number; cursor?: string } {
  return { ...(opts.limit !== undefined ? { limit: opts.limit } : {}), ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}) };
}

function printService(ctx: CommandContext, s: Service): void {
  if (ctx.global.json) return ctx.json(s);
  printFields(ctx.out, { id: s.id, owner: s.owner, delegates: s.delegates, code_hash: s.code_hash });
}

function printResolved(ctx: CommandContext, p: PackageInfo): void {
  printFields(ctx.out, {
    hash: p.hash,
    status: p.status,
    report_hash: p.report_hash,
    error: p.error ? `${p.error.code}: ${p.error.message}` : null,
    updated_at: p.updated_at,
  });
}
