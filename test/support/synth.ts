import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type TerraformStack, Testing } from 'cdktf';

/** A synthesized stack: the Terraform JSON that cdktf writes to cdk.tf.json. */
// biome-ignore lint/suspicious/noExplicitAny: Terraform JSON is untyped; tests assert its shape.
export type TerraformJson = Record<string, any>;

/**
 * Synthesizes one stack with cdktf's Testing helpers (a temporary outdir, stubbed version)
 * and returns the parsed JSON without cdktf's `//` metadata.
 */
export function synthStack(build: (app: App) => TerraformStack): TerraformJson {
  const app = Testing.app();
  try {
    return JSON.parse(Testing.synth(build(app)));
  } finally {
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

/**
 * Runs a full `app.synth()` into a fresh temporary outdir, as `npm run synth` does into
 * cdktf.out, and returns the outdir and the raw text of `stacks/<stackId>/cdk.tf.json`.
 * The caller removes the outdir.
 */
export function synthesizeToDirectory(
  stackId: string,
  build: (app: App) => void,
): { outdir: string; text: string; json: TerraformJson } {
  const outdir = mkdtempSync(join(tmpdir(), 'selfmx-synth-'));
  const app = new App({ outdir, stackTraces: false });
  build(app);
  app.synth();
  const text = readFileSync(join(outdir, 'stacks', stackId, 'cdk.tf.json'), 'utf8');
  return { outdir, text, json: JSON.parse(text) };
}

/** The resources of one type, by logical name (`{}` when there are none). */
export function resourcesOfType(json: TerraformJson, type: string): Record<string, TerraformJson> {
  return json.resource?.[type] ?? {};
}

/** One resource; fails with the names that exist when it is missing. */
export function resource(json: TerraformJson, type: string, name: string): TerraformJson {
  const found = resourcesOfType(json, type)[name];
  if (found === undefined) {
    const known = Object.keys(resourcesOfType(json, type)).join(', ') || 'none';
    throw new Error(`no ${type}.${name} in the synthesized stack (${type}: ${known})`);
  }
  return found;
}

/** Every `type.name` resource address in the stack. */
export function resourceAddresses(json: TerraformJson): string[] {
  return Object.entries(json.resource ?? {}).flatMap(([type, byName]) =>
    Object.keys(byName as object).map((name) => `${type}.${name}`),
  );
}

/** Docker's `KEY=value` list as a map. */
export function envMap(env: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    env.map((entry) => {
      const separator = entry.indexOf('=');
      return [entry.slice(0, separator), entry.slice(separator + 1)];
    }),
  );
}

/**
 * Resolves the Terraform interpolations in a synthesized string the way `terraform apply` would,
 * for the small expression language the stacks use: `${<type>.<name>.<attribute>}`,
 * `${var.<name>}` and `${urlencode(<expression>)}`. `lookup` answers an address such as
 * `random_password.postgres_password.result`; anything else is an error, so a reference the
 * resolver does not understand fails the test instead of passing through unresolved.
 */
export function resolveInterpolations(value: string, lookup: (address: string) => string): string {
  return value.replace(/\$\{([^}]*)\}/g, (_match, expression: string) =>
    evaluate(expression.trim(), lookup),
  );
}

function evaluate(expression: string, lookup: (address: string) => string): string {
  const call = /^urlencode\((.*)\)$/.exec(expression);
  if (call?.[1] !== undefined) return encodeURIComponent(evaluate(call[1].trim(), lookup));
  if (/^[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+(\.[a-z0-9_]+)?$/.test(expression))
    return lookup(expression);
  throw new Error(`cannot resolve the Terraform expression \${${expression}}`);
}

/**
 * The addresses (`type.name`) a resource depends on: its `depends_on` and every resource it
 * references in an interpolation, as Terraform's graph would see them.
 */
export function dependenciesOf(item: TerraformJson): string[] {
  const explicit: string[] = item.depends_on ?? [];
  const text = JSON.stringify({ ...item, depends_on: undefined, lifecycle: undefined });
  const implicit = [...text.matchAll(/\$\{[^}]*?\b([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\./g)]
    .map((match) => `${match[1]}.${match[2]}`)
    .filter((address) => !address.startsWith('var.'));
  return [...new Set([...explicit, ...implicit])];
}

/** Whether `address` (type.name) depends on `dependency`, directly or through others. */
export function dependsOn(json: TerraformJson, address: string, dependency: string): boolean {
  const seen = new Set<string>();
  const visit = (current: string): boolean => {
    if (seen.has(current)) return false;
    seen.add(current);
    const [type = '', name = ''] = current.split('.');
    const item = resourcesOfType(json, type)[name];
    if (item === undefined) throw new Error(`${current} is referenced but not declared`);
    return dependenciesOf(item).some((next) => next === dependency || visit(next));
  };
  return visit(address);
}
