import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLIENT_PROTOCOL, type EngineInfo } from '@jam/client';
import { ENGINE_IDENTITY } from '@jam/sandbox';

/** Name of the root package.json whose `version` is the CLI's. */
const PACKAGE_NAME = 'jam-prototype';

/** What `jam --version` / `jam version` report. */
export interface CliVersion {
  /** `version` of the repository's package.json (the CLI ships with the server) */
  cli: string;
  /** Gray Paper version of the JSON and binary codecs the client uses */
  gray_paper: string;
  /** refine/accumulate engine of this build (a server's own is in each report: `jam report get`) */
  engine: EngineInfo;
}

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
  return { cli: version, gray_paper: CLIENT_PROTOCOL.gray_paper, engine: { ...ENGINE_IDENTITY } };
}

/** The text of `jam --version`: the version on the first line (what scripts read), then what it speaks. */
export function versionText(v: CliVersion): string {
  return [
    `jam ${v.cli}`,
    `protocol: Gray Paper ${v.gray_paper} (work package JSON and binary codecs)`,
    `engine:   ${v.engine.name} ${v.engine.version}, cost table v${v.engine.cost_table_version} (this build; a server's own is in each report, see jam report get)`,
  ].join('\n');
}
