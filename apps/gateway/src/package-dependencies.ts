import { DomainError, segmentAddress, toHex, type ValidationProblem, type WorkPackage } from '@jam/domain';
import type { ExportedSegmentRepository, WorkPackageRepository } from '@jam/persistence';

/** What the dependency check reads. */
export interface PackageDependencyDeps {
  exportedSegments: ExportedSegmentRepository;
  workPackages: WorkPackageRepository;
}

/**
 * Problems with what a package depends on (issue 9 item 5, docs/service-abi.md "Exports and imports"):
 * - `unknown_import_segment`: an imported segment (GP 0.7.2 ImportSpec: segments root, or work
 *   package hash when bit 15 of the index is set, and index) that this system does not hold:
 *   held means exported by the report its package was attested with (status attested,
 *   accumulating or accumulated). Refining without it is impossible, so it is refused here
 *   rather than refined without its input.
 * - `unknown_prerequisite`: a prerequisite (RefineContext.prerequisites) that is not a package
 *   accumulated here. GP 0.7.2 section 11 lets a report through only when its prerequisites are
 *   in recent history or reported alongside it; this system refuses at submission instead of
 *   holding the package back (the submitter resubmits once the prerequisite is accumulated).
 * Visibility is not checked: as in GP, where reports are public, knowing a package hash or a
 * segments root is enough to depend on it; the answer tells the caller only whether that package
 * was accumulated (or its segments are held), never its content.
 */
export async function packageDependencyProblems(deps: PackageDependencyDeps, pkg: WorkPackage): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (let i = 0; i < pkg.items.length; i++) {
    const specs = pkg.items[i]!.import_segments;
    for (let k = 0; k < specs.length; k++) {
      const a = segmentAddress(specs[k]!);
      if ((await deps.exportedSegments.getHeld(a)) === null) {
        problems.push({
          path: `items[${i}].import_segments[${k}]`,
          code: 'unknown_import_segment',
          message: `segment ${a.index} of ${a.kind === 'package_hash' ? 'package' : 'segments root'} ${a.root} is not held by this system`,
        });
      }
    }
  }
  const prerequisites = pkg.context.prerequisites;
  for (let j = 0; j < prerequisites.length; j++) {
    const hash = toHex(prerequisites[j]!);
    const row = await deps.workPackages.get(hash);
    if (row?.status !== 'accumulated') {
      problems.push({ path: `context.prerequisites[${j}]`, code: 'unknown_prerequisite', message: `prerequisite package ${hash} is not accumulated here` });
    }
  }
  return problems;
}

/**
 * Throws the first dependency problem as its own 422 code (`unknown_import_segment` or
 * `unknown_prerequisite`), details `{ path, problems }`; returns when there is none.
 * @throws DomainError
 */
export function throwDependencyProblem(problems: readonly ValidationProblem[]): void {
  const first = problems[0];
  if (first === undefined) return;
  throw new DomainError(first.code as 'unknown_import_segment' | 'unknown_prerequisite', first.message, { path: first.path, problems });
}
