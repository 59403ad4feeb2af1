import type { ImportEdge } from './import-graph.js';

/**
 * One layer: the modules it holds. A module is a folder (`app/src/db/`, with everything under
 * it), a single file (`app/src/logger.ts`), or the files directly in a folder (`stacks/*.ts`).
 */
export interface Layer {
  readonly name: string;
  readonly modules: readonly string[];
}

/** A program's layers, top to bottom. A file may import its own layer or a lower one. */
export interface LayeredSystem {
  readonly name: string;
  readonly layers: readonly Layer[];
  /** Modules of other systems that this one may import as well. */
  readonly mayAlsoImport?: readonly string[];
}

interface Placement {
  readonly system: LayeredSystem;
  readonly layerIndex: number;
  readonly module: string;
}

export interface LayerViolation {
  readonly from: string;
  readonly to: string;
  readonly message: string;
}

/** The module that holds `file`: the most specific match in the table. */
export function placementOf(
  systems: readonly LayeredSystem[],
  file: string,
): Placement | undefined {
  let best: Placement | undefined;
  for (const system of systems) {
    system.layers.forEach((layer, layerIndex) => {
      for (const module of layer.modules) {
        if (!moduleHolds(module, file)) continue;
        if (!best || module.length > best.module.length) best = { system, layerIndex, module };
      }
    });
  }
  return best;
}

function moduleHolds(module: string, file: string): boolean {
  if (module.endsWith('/*.ts')) {
    const folder = module.slice(0, -'*.ts'.length);
    return file.startsWith(folder) && file.endsWith('.ts') && !file.includes('/', folder.length);
  }
  return module.endsWith('/') ? file.startsWith(module) : file === module;
}

/** Files that no layer holds: the table must place every file. */
export function findUnplacedFiles(
  systems: readonly LayeredSystem[],
  files: readonly string[],
): string[] {
  return files.filter((file) => placementOf(systems, file) === undefined);
}

/** Imports from a lower layer into a higher one, or into another system not allowed to it. */
export function findUpwardImports(
  systems: readonly LayeredSystem[],
  edges: readonly ImportEdge[],
): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const { from, to } of edges) {
    const source = placementOf(systems, from);
    const target = placementOf(systems, to);
    if (!source || !target) continue;
    const where = (placement: Placement) =>
      `${placement.system.name} layer "${placement.system.layers[placement.layerIndex]?.name}"`;
    if (source.system !== target.system) {
      if (source.system.mayAlsoImport?.includes(target.module)) continue;
      violations.push({
        from,
        to,
        message: `${from} (${where(source)}) imports ${to} (${where(target)}); ${source.system.name} may import only ${source.system.mayAlsoImport?.join(', ') || 'itself'}`,
      });
    } else if (target.layerIndex < source.layerIndex) {
      violations.push({
        from,
        to,
        message: `${from} (${where(source)}) imports ${to} (${where(target)}), a higher layer`,
      });
    }
  }
  return violations;
}

/** The imports between modules, one edge per pair; a module's imports of itself are dropped. */
export function moduleEdges(
  systems: readonly LayeredSystem[],
  edges: readonly ImportEdge[],
): ImportEdge[] {
  const pairs = new Map<string, ImportEdge>();
  for (const { from, to } of edges) {
    const source = placementOf(systems, from)?.module;
    const target = placementOf(systems, to)?.module;
    if (!source || !target || source === target) continue;
    pairs.set(`${source}\n${target}`, { from: source, to: target });
  }
  return [...pairs.values()];
}

/** A ring of imports, and every node tangled in it (its strongly connected component). */
export interface ImportCycle {
  /** The nodes in import order, the first repeated at the end: `a -> b -> c -> a`. */
  readonly path: readonly string[];
  readonly members: readonly string[];
}

/** One cycle per strongly connected component of the graph (Tarjan's algorithm). */
export function findCycles(edges: readonly ImportEdge[]): ImportCycle[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, index.size);
    lowLink.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        lowLink.set(node, Math.min(lowLink.get(node) as number, lowLink.get(target) as number));
      } else if (onStack.has(target)) {
        lowLink.set(node, Math.min(lowLink.get(node) as number, index.get(target) as number));
      }
    }
    if (lowLink.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    components.push(component);
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) connect(node);
  return components
    .filter(
      (component) =>
        component.length > 1 || next.get(component[0] as string)?.includes(component[0] as string),
    )
    .map((component) => ({
      path: shortestCycle(next, new Set(component)),
      members: [...component].sort(),
    }))
    .sort((a, b) => (a.members[0] as string).localeCompare(b.members[0] as string));
}

/** The shortest cycle through the component's first node (in sort order), found breadth-first. */
function shortestCycle(next: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0] as string;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const target of next.get(node) ?? []) {
      if (!component.has(target)) continue;
      if (target === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}
