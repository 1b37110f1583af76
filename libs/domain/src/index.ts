export * from './work-types';
export * from './domain-error';
export * from './hex';
export * from './hashing';
export { GpReader, GpWriter } from './gp-codec';
export {
  encodeRefineContext,
  decodeRefineContext,
  encodeImportSpec,
  decodeImportSpec,
  encodeExtrinsicSpec,
  decodeExtrinsicSpec,
  encodeWorkItem,
  decodeWorkItem,
  encodeWorkPackage,
  decodeWorkPackage,
} from './work-package.codec';
export * from './work-report.codec';
export * from './jam-json';
export { type U64Json, type HexJson, u64ToJson } from './json-reader';
export {
  type RefineContextJson,
  type ImportSpecJson,
  type ExtrinsicSpecJson,
  type WorkItemJson,
  type WorkPackageJson,
  refineContextToJson,
  refineContextFromJson,
  importSpecToJson,
  importSpecFromJson,
  extrinsicSpecToJson,
  extrinsicSpecFromJson,
  workItemToJson,
  workItemFromJson,
  workPackageToJson,
  workPackageFromJson,
} from './work-package.json';
export * from './work-report.json';
export * from './package-hash';
export * from './report-hash';
export * from './segments-root';
export * from './guarantee-message';
export * from './gp-constants';
export * from './work-package.validation';
export * from './package-lifecycle';
