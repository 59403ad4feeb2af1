import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** One import between two files of the repo, both as paths relative to its root. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** The `.ts` files under `roots` (folders or single files), as repo-relative paths. */
export function listTypeScriptFiles(repoRoot: string, roots: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
      files.push(toRepoPath(repoRoot, path));
    }
  };
  for (const root of roots) visit(join(repoRoot, root));
  return files.sort();
}

/**
 * Every module specifier a file names: static imports and re-exports (type-only ones too),
 * `import x = require()`, dynamic `import()` and `import('x').Type` in type positions.
 */
export function moduleSpecifiersOf(fileName: string, sourceText: string): string[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    const specifier = specifierOf(node);
    if (specifier !== undefined) specifiers.push(specifier);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

function specifierOf(node: ts.Node): string | undefined {
  if (
    (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
    node.moduleSpecifier &&
    ts.isStringLiteral(node.moduleSpecifier)
  ) {
    return node.moduleSpecifier.text;
  }
  if (
    ts.isImportEqualsDeclaration(node) &&
    ts.isExternalModuleReference(node.moduleReference) &&
    ts.isStringLiteral(node.moduleReference.expression)
  ) {
    return node.moduleReference.expression.text;
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const [argument] = node.arguments;
    return argument && ts.isStringLiteralLike(argument) ? argument.text : undefined;
  }
  if (
    ts.isImportTypeNode(node) &&
    ts.isLiteralTypeNode(node.argument) &&
    ts.isStringLiteral(node.argument.literal)
  ) {
    return node.argument.literal.text;
  }
  return undefined;
}

/**
 * The imports between repo files among `files`. Package and `node:` specifiers are not
 * followed; a relative specifier that names no file is returned in `unresolved`.
 */
export function buildImportGraph(
  repoRoot: string,
  files: readonly string[],
): { edges: ImportEdge[]; unresolved: { from: string; specifier: string }[] } {
  const edges: ImportEdge[] = [];
  const unresolved: { from: string; specifier: string }[] = [];
  for (const from of files) {
    const text = readFileSync(join(repoRoot, from), 'utf8');
    for (const specifier of moduleSpecifiersOf(from, text)) {
      if (!specifier.startsWith('.')) continue;
      const to = resolveRelative(repoRoot, from, specifier);
      if (to === undefined) unresolved.push({ from, specifier });
      else edges.push({ from, to });
    }
  }
  return { edges, unresolved };
}

/** NodeNext style: `./x.js` names `./x.ts`; a folder names its `index.ts`. */
function resolveRelative(repoRoot: string, from: string, specifier: string): string | undefined {
  const target = posix.join(posix.dirname(from), specifier);
  const candidates = [
    target.replace(/\.js$/, '.ts'),
    target,
    `${target}.ts`,
    posix.join(target, 'index.ts'),
  ];
  return candidates.find((candidate) => {
    const path = join(repoRoot, candidate);
    return existsSync(path) && statSync(path).isFile();
  });
}

function toRepoPath(repoRoot: string, path: string): string {
  return relative(repoRoot, path).split(sep).join('/');
}
