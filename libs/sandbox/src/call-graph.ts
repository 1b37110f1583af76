import { FRAME_OVERHEAD_SLOTS, MAX_FRAME_SLOTS } from './cost-table';
import type { FuncType, ServiceModule } from './service-module.parser';

/** Which defined functions count call depth, and the stack bound that makes the rest safe. */
export interface CallDepthPlan {
  /** Per defined function (index minus imported functions): does its prologue count a depth level? */
  counted: boolean[];
  /**
   * Per defined function: weight (slots + FRAME_OVERHEAD_SLOTS per frame) of the heaviest chain of
   * frames it can start without entering another counted function; never above CHAIN_BUDGET_SLOTS.
   */
  chainSlots: number[];
}

/**
 * Weight budget of one chain of uncounted frames (slots, FRAME_OVERHEAD_SLOTS per frame included):
 * one frame of the largest size validation allows. Every counted frame and the entry frame start
 * at most one such chain, so the physical stack never exceeds (MAX_CALL_DEPTH + 2) chains, the
 * same envelope as (MAX_CALL_DEPTH + 2) maximal frames (docs/sandbox.md, "Call depth and the stack").
 */
export const CHAIN_BUDGET_SLOTS = MAX_FRAME_SLOTS + FRAME_OVERHEAD_SLOTS;

/**
 * Decides which defined functions count call depth (docs/gas.md step 5). Counted: every function
 * in a call-graph cycle of direct calls (strongly connected component with more than one function,
 * or a self call), every function in the table (the only `call_indirect` targets, so every cycle
 * through an indirect call passes one), and, when the uncounted frames a function can stack on top
 * of itself would weigh more than CHAIN_BUDGET_SLOTS, enough of its heaviest uncounted callees to
 * bring the chain under the budget. Uncounted functions form an acyclic graph, so the chain of
 * uncounted frames above any frame is finite and bounded by the budget. Deterministic: depends only
 * on the module bytes. Never rejects a module (any single frame fits the budget by the frame rule).
 */
export function planCallDepth(m: ServiceModule): CallDepthPlan {
  const n = m.bodies.length;
  const imported = m.importedFunctionCount;
  const callees: number[][] = m.bodies.map((body) => {
    const out = new Set<number>();
    for (const x of body.instructions) if (x.op === 0x10 && x.callee !== undefined && x.callee >= imported) out.add(x.callee - imported);
    return [...out].sort((a, b) => a - b);
  });
  const counted = new Array<boolean>(n).fill(false);
  for (const f of m.tableFunctions) if (f >= imported && f - imported < n) counted[f - imported] = true;

  // Tarjan's SCCs, iterative (a module may have 100k+ functions). SCCs come out callees first.
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const order: number[][] = [];
  let next = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [node: number, edge: number][] = [[root, 0]];
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const top = work[work.length - 1] as [number, number];
      const v = top[0];
      const edges = callees[v] as number[];
      if (top[1] < edges.length) {
        const w = edges[top[1]++] as number;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = true;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v] as number, index[w] as number);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] === index[v]) {
        const scc: number[] = [];
        for (;;) {
          const w = stack.pop() as number;
          onStack[w] = false;
          scc.push(w);
          if (w === v) break;
        }
        order.push(scc);
      }
    }
  }
  for (const scc of order) {
    const only = scc[0] as number;
    if (scc.length > 1 || (callees[only] as number[]).includes(only)) for (const f of scc) counted[f] = true;
  }

  // Chain weights, callees before callers. A counted callee ends the chain (its own chain is
  // bounded separately); if the heaviest uncounted callees would push the chain over the budget,
  // they become counted.
  const chainSlots = new Array<number>(n).fill(0);
  for (const scc of order) {
    for (const f of scc) {
      const body = m.bodies[f];
      const type = m.types[m.functionTypes[f] as number] as FuncType;
      const own = type.params.length + (body?.localCount ?? 0) + (body?.maxStackHeight ?? 0) + FRAME_OVERHEAD_SLOTS;
      const heavy = (callees[f] as number[]).filter((g) => !counted[g]).sort((a, b) => (chainSlots[b] as number) - (chainSlots[a] as number) || a - b);
      let k = 0;
      while (k < heavy.length && own + (chainSlots[heavy[k] as number] as number) > CHAIN_BUDGET_SLOTS) counted[heavy[k++] as number] = true;
      chainSlots[f] = own + (k < heavy.length ? (chainSlots[heavy[k] as number] as number) : 0);
    }
  }
  return { counted, chainSlots };
}
