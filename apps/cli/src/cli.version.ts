import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLIENT_PROTOCOL, type EngineInfo } from '@jam/client';
import { engineIdentityOf, type CodeFormat } from '@jam/sandbox';

/** Name of the root package.json whose `version` is the CLI's. */
const PACKAGE_NAME = 'jam-prototype';

/** What `jam --version` / `jam version` report. */
export interface CliVersion {
  /** `version` of the repository's package.json (the CLI ships with the server) */
  cli: string;
  /** Gray Paper version of the JSON and binary codecs the client uses */
  gray_paper: string;
  /**
   * The refine/accumulate engines of this build, one per code format, in this order: `wasm`
   * (WebAssembly services) and `jam-pvm` (JAM service blobs). A server's own is in each report
   * (`jam report get`).
   */
  engines: (EngineInfo & { format: CodeFormat })[];
}

/** The code formats, each run by its own engine (docs/service-abi.md). */
const FORMATS: readonly { format: CodeFormat; what: string }[] = [
  { format: 'wasm', what: 'WebAssembly services' },
  { format: 'jam-pvm', what: 'JAM service blobs, PVM' },
];

/**
 * The CLI's version: package.json found by walking up from this file (apps/cli/src in the
 * sources, dist/apps/cli/src in the build), `unknown` if there is none named jam-prototype.
 */
export function cliVersion(from: string = __dirname): CliVersion {
  let version = 'unknown';
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    } catch {
      // no (readable) package.json here
    }
    if (path.dirname(dir) === dir) break;
  }
  return { cli: version, gray_paper: CLIENT_PROTOCOL.gray_paper, engines: FORMATS.map(({ format }) => ({ format, ...engineIdentityOf(format) })) };
}

/**
 * The text of `jam --version`: the version on the first line (what scripts read), then what it
 * speaks: the protocol, then one line per engine of this build.
 */
export function versionText(v: CliVersion): string {
  const engines = v.engines.map((e, i) => {
    const what = FORMATS.find((f) => f.format === e.format)?.what ?? e.format;
    return `${i === 0 ? 'engines:  ' : '          '}${e.name} ${e.version}, cost table v${e.cost_table_version} (${what})`;
  });
  return [
    `jam ${v.cli}`,
    `protocol: Gray Paper ${v.gray_paper} (work package JSON and binary codecs)`,
    ...engines,
    `          (this build; a server's own is in each report, see jam report get)`,
  ].join('\n');
}
