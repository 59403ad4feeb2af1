import type {
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  DropStmt,
  IndexStmt,
  Node,
  RangeVar,
  RenameStmt,
} from 'libpg-query';
import type { RuleId } from './rule-catalogue.js';
import { isVolatileDefault } from './volatile-default.js';

/** What the linter knows from the migrations before this one (they run in file-name order). */
export interface SchemaHistory {
  /** `table.constraint` of CHECK (col IS NOT NULL) constraints, to the column they prove. */
  readonly notNullChecks: Map<string, string>;
  /** `table.column` proven NOT NULL by a validated check: SET NOT NULL then skips its scan. */
  readonly provenNotNull: Set<string>;
}

/** What this migration has done so far: objects it created are new, so nobody else uses them. */
export interface MigrationScope {
  readonly createdTables: Set<string>;
  readonly addedColumns: Set<string>;
  readonly createdIndexes: Set<string>;
  readonly addedConstraints: Set<string>;
  lockTimeoutSet: boolean;
  lockTimeoutReported: boolean;
  readonly noTransaction: boolean;
}

export interface RuleHit {
  readonly rule: RuleId;
  /** The object at fault, e.g. `emails.status`. */
  readonly subject: string;
}

export function newSchemaHistory(): SchemaHistory {
  return { notNullChecks: new Map(), provenNotNull: new Set() };
}

export function newMigrationScope(noTransaction: boolean): MigrationScope {
  return {
    createdTables: new Set(),
    addedColumns: new Set(),
    createdIndexes: new Set(),
    addedConstraints: new Set(),
    lockTimeoutSet: false,
    lockTimeoutReported: false,
    noTransaction,
  };
}

/** The rules one statement breaks; records what it creates in `scope` and `history`. */
export function checkStatement(
  node: Node,
  scope: MigrationScope,
  history: SchemaHistory,
): RuleHit[] {
  const hits: RuleHit[] = [];
  const locked = lockedExistingTable(node, scope);
  if (locked !== undefined && !scope.lockTimeoutSet && !scope.lockTimeoutReported) {
    scope.lockTimeoutReported = true;
    hits.push({ rule: 'require-lock-timeout', subject: locked });
  }
  if ('VariableSetStmt' in node) {
    const set = node.VariableSetStmt;
    if (set.name === 'lock_timeout' && set.kind === 'VAR_SET_VALUE') {
      scope.lockTimeoutSet = !isZero(set.args?.[0]);
    }
  } else if ('CreateStmt' in node) {
    const relation = node.CreateStmt.relation;
    if (relation) scope.createdTables.add(tableKey(relation));
  } else if ('IndexStmt' in node) {
    hits.push(...checkIndex(node.IndexStmt, scope));
  } else if ('DropStmt' in node) {
    hits.push(...checkDrop(node.DropStmt, scope));
  } else if ('AlterTableStmt' in node) {
    hits.push(...checkAlterTable(node.AlterTableStmt, scope, history));
  } else if ('RenameStmt' in node) {
    hits.push(...checkRename(node.RenameStmt, scope));
  } else if ('VacuumStmt' in node) {
    const vacuum = node.VacuumStmt;
    const full = vacuum.options?.some(
      (option) => 'DefElem' in option && option.DefElem.defname === 'full',
    );
    if (vacuum.is_vacuumcmd && full)
      hits.push({ rule: 'ban-vacuum-full', subject: relations(vacuum.rels) });
  } else if ('ClusterStmt' in node) {
    const relation = node.ClusterStmt.relation;
    hits.push({
      rule: 'ban-cluster',
      subject: relation ? tableKey(relation) : 'every clustered table',
    });
  }
  return hits;
}

function checkIndex(index: IndexStmt, scope: MigrationScope): RuleHit[] {
  if (index.idxname) scope.createdIndexes.add(index.idxname);
  const table = index.relation ? tableKey(index.relation) : '';
  const subject = `${index.idxname ?? 'index'} on ${table}`;
  if (index.concurrent && !scope.noTransaction) {
    return [{ rule: 'concurrently-requires-no-transaction', subject }];
  }
  if (!index.concurrent && !scope.createdTables.has(table)) {
    return [{ rule: 'require-concurrent-index-creation', subject }];
  }
  return [];
}

function checkDrop(drop: DropStmt, scope: MigrationScope): RuleHit[] {
  const names = (drop.objects ?? []).map(objectName);
  if (drop.removeType === 'OBJECT_TABLE') {
    return names
      .filter((name) => !scope.createdTables.has(name))
      .map((name) => ({ rule: 'ban-drop-table', subject: name }));
  }
  if (drop.removeType === 'OBJECT_INDEX') {
    if (drop.concurrent && !scope.noTransaction) {
      return [{ rule: 'concurrently-requires-no-transaction', subject: names.join(', ') }];
    }
    if (drop.concurrent) return [];
    return names
      .filter((name) => !scope.createdIndexes.has(name))
      .map((name) => ({ rule: 'require-concurrent-index-deletion', subject: name }));
  }
  return [];
}

function checkAlterTable(
  alter: AlterTableStmt,
  scope: MigrationScope,
  history: SchemaHistory,
): RuleHit[] {
  if (alter.objtype !== 'OBJECT_TABLE' || !alter.relation) return [];
  const table = tableKey(alter.relation);
  const isNew = scope.createdTables.has(table);
  const hits: RuleHit[] = [];
  for (const item of alter.cmds ?? []) {
    if (!('AlterTableCmd' in item)) continue;
    const hit = checkAlterTableCommand(item.AlterTableCmd, table, scope, history);
    if (hit && !isNew) hits.push(hit);
  }
  return hits;
}

function checkAlterTableCommand(
  command: AlterTableCmd,
  table: string,
  scope: MigrationScope,
  history: SchemaHistory,
): RuleHit | undefined {
  const column = `${table}.${command.name ?? ''}`;
  switch (command.subtype) {
    case 'AT_AddColumn': {
      const def = command.def && 'ColumnDef' in command.def ? command.def.ColumnDef : undefined;
      return def ? checkAddColumn(def, table, scope) : undefined;
    }
    case 'AT_AlterColumnType':
      return scope.addedColumns.has(column)
        ? undefined
        : { rule: 'changing-column-type', subject: column };
    case 'AT_SetNotNull':
      return history.provenNotNull.has(column)
        ? undefined
        : { rule: 'setting-not-nullable-field', subject: column };
    case 'AT_AddConstraint': {
      const constraint =
        command.def && 'Constraint' in command.def ? command.def.Constraint : undefined;
      return constraint ? checkAddConstraint(constraint, table, scope, history) : undefined;
    }
    case 'AT_ValidateConstraint': {
      const key = `${table}.${command.name ?? ''}`;
      const proves = history.notNullChecks.get(key);
      if (proves !== undefined) history.provenNotNull.add(`${table}.${proves}`);
      return scope.addedConstraints.has(key)
        ? { rule: 'constraint-missing-not-valid', subject: key }
        : undefined;
    }
    case 'AT_DropColumn':
      return scope.addedColumns.has(column)
        ? undefined
        : { rule: 'ban-drop-column', subject: column };
    default:
      return undefined;
  }
}

const SERIAL_TYPES = new Set([
  'serial',
  'serial4',
  'bigserial',
  'serial8',
  'smallserial',
  'serial2',
]);

function checkAddColumn(def: ColumnDef, table: string, scope: MigrationScope): RuleHit | undefined {
  const subject = `${table}.${def.colname ?? ''}`;
  scope.addedColumns.add(subject);
  const constraints = (def.constraints ?? []).flatMap((c) =>
    'Constraint' in c ? [c.Constraint] : [],
  );
  const typeName = def.typeName?.names?.at(-1);
  const serial = typeName && 'String' in typeName && SERIAL_TYPES.has(typeName.String.sval ?? '');
  const rewrites = constraints.some(
    (c) =>
      c.contype === 'CONSTR_IDENTITY' ||
      c.contype === 'CONSTR_GENERATED' ||
      (c.contype === 'CONSTR_DEFAULT' && isVolatileDefault(c.raw_expr)),
  );
  if (serial || rewrites) return { rule: 'adding-field-with-default', subject };
  const hasDefault = constraints.some((c) => c.contype === 'CONSTR_DEFAULT');
  if (constraints.some((c) => c.contype === 'CONSTR_NOTNULL') && !hasDefault) {
    return { rule: 'adding-required-field', subject };
  }
  if (constraints.some((c) => c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_PRIMARY')) {
    return { rule: 'disallowed-unique-constraint', subject };
  }
  return undefined;
}

function checkAddConstraint(
  constraint: Constraint,
  table: string,
  scope: MigrationScope,
  history: SchemaHistory,
): RuleHit | undefined {
  const key = `${table}.${constraint.conname ?? ''}`;
  scope.addedConstraints.add(key);
  const proves = notNullColumn(constraint);
  if (proves !== undefined) {
    history.notNullChecks.set(key, proves);
    if (!constraint.skip_validation) history.provenNotNull.add(`${table}.${proves}`);
  }
  const validating =
    constraint.contype === 'CONSTR_FOREIGN' || constraint.contype === 'CONSTR_CHECK';
  if (validating && !constraint.skip_validation) {
    return { rule: 'constraint-missing-not-valid', subject: key };
  }
  const indexed = constraint.contype === 'CONSTR_UNIQUE' || constraint.contype === 'CONSTR_PRIMARY';
  if (indexed && !constraint.indexname)
    return { rule: 'disallowed-unique-constraint', subject: key };
  return undefined;
}

/** The column of a `CHECK (col IS NOT NULL)` constraint. */
function notNullColumn(constraint: Constraint): string | undefined {
  if (constraint.contype !== 'CONSTR_CHECK' || !constraint.raw_expr) return undefined;
  const expr = constraint.raw_expr;
  if (!('NullTest' in expr) || expr.NullTest.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const arg = expr.NullTest.arg;
  if (!arg || !('ColumnRef' in arg)) return undefined;
  const last = arg.ColumnRef.fields?.at(-1);
  return last && 'String' in last ? last.String.sval : undefined;
}

function checkRename(rename: RenameStmt, scope: MigrationScope): RuleHit[] {
  const table = rename.relation ? tableKey(rename.relation) : '';
  if (scope.createdTables.has(table)) {
    if (rename.renameType === 'OBJECT_TABLE' && rename.newname) {
      scope.createdTables.add(rename.newname);
    }
    return [];
  }
  if (rename.renameType === 'OBJECT_COLUMN') {
    return [{ rule: 'renaming-column', subject: `${table}.${rename.subname ?? ''}` }];
  }
  if (rename.renameType === 'OBJECT_TABLE') return [{ rule: 'renaming-table', subject: table }];
  return [];
}

/** The existing table a statement locks (the lock_timeout rule), if any. */
function lockedExistingTable(node: Node, scope: MigrationScope): string | undefined {
  let relation: RangeVar | undefined;
  if ('AlterTableStmt' in node && node.AlterTableStmt.objtype === 'OBJECT_TABLE') {
    relation = node.AlterTableStmt.relation;
  } else if ('IndexStmt' in node) {
    relation = node.IndexStmt.relation;
  } else if ('RenameStmt' in node) {
    relation = node.RenameStmt.relation;
  } else if ('ClusterStmt' in node) {
    relation = node.ClusterStmt.relation;
  } else if ('CreateTrigStmt' in node) {
    relation = node.CreateTrigStmt.relation;
  } else if ('DropStmt' in node && node.DropStmt.removeType === 'OBJECT_TABLE') {
    return (node.DropStmt.objects ?? [])
      .map(objectName)
      .find((name) => !scope.createdTables.has(name));
  }
  if (!relation) return undefined;
  const table = tableKey(relation);
  return scope.createdTables.has(table) ? undefined : table;
}

/** `schema.table` when the schema is not `public`, else `table`. */
function tableKey(relation: RangeVar): string {
  const schema =
    relation.schemaname && relation.schemaname !== 'public' ? `${relation.schemaname}.` : '';
  return `${schema}${relation.relname ?? ''}`;
}

/** The dotted name of a dropped object (`List` of `String`s), `public.` left out. */
function objectName(node: Node): string {
  const items = 'List' in node ? (node.List.items ?? []) : [node];
  const parts = items.flatMap((item) => ('String' in item ? [item.String.sval ?? ''] : []));
  return (parts[0] === 'public' ? parts.slice(1) : parts).join('.');
}

function relations(rels: Node[] | undefined): string {
  const names = (rels ?? []).flatMap((rel) =>
    'VacuumRelation' in rel && rel.VacuumRelation.relation
      ? [tableKey(rel.VacuumRelation.relation)]
      : [],
  );
  return names.length > 0 ? names.join(', ') : 'every table';
}

function isZero(value: Node | undefined): boolean {
  if (!value || !('A_Const' in value)) return false;
  const constant = value.A_Const;
  // The parse tree leaves out zero values: `ival: {}` is 0.
  if (constant.ival) return !constant.ival.ival;
  return /^0\s*[a-z]*$/i.test(constant.sval?.sval ?? '');
}
