import * as path from 'node:path';
import type { Toolchain } from './toolchain';

/** Payload of the template's work package and `jam run`'s example: "hello jam" as UTF-8. */
export const TEMPLATE_PAYLOAD_HEX = '0x68656c6c6f206a616d';
/** Refine gas of the template's work item (gas). */
export const TEMPLATE_REFINE_GAS = 10_000_000;
/** Accumulate gas of the template's work item (gas; a package's total must stay below G_A = 10,000,000). */
export const TEMPLATE_ACCUMULATE_GAS = 1_000_000;
/** Placeholder code hash of a template work package that `jam deploy` has not filled in yet. */
export const PLACEHOLDER_HASH = `0x${'00'.repeat(32)}`;

/** The template service (docs/service-guide.md walks through it). */
const INDEX_TS = `// A JAM service (docs/service-guide.md in the JAM Prototype repository).
// refine: the payload in upper case (ASCII letters), logged with its length; an empty payload
// is refused with \`panic\` (the item's result is then \`panic\`, and the log and trap say why).
// accumulate: for each operand that refined ok, stores its output under key "last" and adds 1 to
// the u64 (8 bytes little-endian) under key "count".
import {
  ACCUMULATE_OK,
  key,
  logInfo,
  operandOutput,
  panic,
  payload,
  refineOutput,
  storageReadU64,
  storageWrite,
  storageWriteU64,
  text,
} from "@jam/service-sdk";

export function refine(payload_len: i32, item_index: i32): i64 {
  if (payload_len == 0) panic("refine: empty payload");
  const data = payload(payload_len);
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b >= 0x61 && b <= 0x7a) data[i] = b - 0x20;
  }
  logInfo("refine: item " + item_index.toString() + ", " + payload_len.toString() + " bytes");
  return refineOutput(data);
}

export function accumulate(operand_count: i32): i64 {
  let count = storageReadU64(key("count"));
  for (let i = 0; i < operand_count; i++) {
    const out = operandOutput(i); // null unless the operand refined ok
    if (out == null) continue;
    storageWrite(key("last"), out);
    count++;
    logInfo("accumulate: last = " + text(out));
  }
  storageWriteU64(key("count"), count);
  return ACCUMULATE_OK;
}
`;

/** A work package for the service (docs/package-json.md); `jam deploy` fills in the service id and code hash. */
export function workPackageTemplate(serviceId = 0, codeHash = PLACEHOLDER_HASH): string {
  const zero = PLACEHOLDER_HASH;
  const pkg = {
    authorization: '0x',
    auth_code_host: serviceId,
    auth_code_hash: codeHash,
    authorizer_config: '0x',
    context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
    items: [
      {
        service: serviceId,
        code_hash: codeHash,
        refine_gas_limit: TEMPLATE_REFINE_GAS,
        accumulate_gas_limit: TEMPLATE_ACCUMULATE_GAS,
        export_count: 0,
        payload: TEMPLATE_PAYLOAD_HEX,
        import_segments: [],
        extrinsic: [],
      },
    ],
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** The files `jam init` writes, by path relative to the project directory. */
export function projectFiles(name: string, toolchain: Toolchain): Record<string, string> {
  const jam = path.join(toolchain.root, 'bin', 'jam.js');
  const packageJson = {
    name,
    version: '0.1.0',
    private: true,
    description: 'A JAM service (AssemblyScript)',
    scripts: {
      build: `node ${JSON.stringify(jam)} build .`,
      run: `node ${JSON.stringify(jam)} run . --payload ${TEMPLATE_PAYLOAD_HEX}`,
      deploy: `node ${JSON.stringify(jam)} deploy .`,
    },
  };
  // Editor support only (asc does not read it): the AssemblyScript standard library's types and the SDK.
  const tsconfig = {
    extends: path.join(toolchain.root, 'node_modules', 'assemblyscript', 'std', 'assembly.json'),
    compilerOptions: { baseUrl: '.', paths: { '@jam/service-sdk': [path.join(toolchain.sdkPath, '@jam', 'service-sdk', 'index.ts')] } },
    include: ['./**/*.ts'],
  };
  const readme = `# ${name}

A JAM service written in AssemblyScript with \`@jam/service-sdk\`, made by \`jam init\`. It is built
with the toolchain of the JAM Prototype checkout at \`${toolchain.root}\` (no install needed here);
the guide is \`docs/service-guide.md\` there.

| file | what |
|---|---|
| \`assembly/index.ts\` | the service: \`refine\` and \`accumulate\` |
| \`work-package.json\` | a work package for it (\`jam deploy\` fills in the service id and code hash) |
| \`build/service.wasm\` | the compiled module (\`jam build\`) |

\`\`\`sh
jam build .                                # compile to build/service.wasm
jam run . --payload ${TEMPLATE_PAYLOAD_HEX}   # refine then accumulate locally: gas, result, writes, log lines
jam deploy .                               # upload, register, fill in work-package.json
jam package submit work-package.json --watch
jam storage get <service id> last --utf8
\`\`\`

(\`jam\` is \`node ${jam}\` when it is not on your PATH; \`npm run build|run|deploy\` do the same.)
`;
  return {
    [path.join('assembly', 'index.ts')]: INDEX_TS,
    [path.join('assembly', 'tsconfig.json')]: `${JSON.stringify(tsconfig, null, 2)}\n`,
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'work-package.json': workPackageTemplate(),
    'README.md': readme,
    '.gitignore': 'build/\n',
  };
}
