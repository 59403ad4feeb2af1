import type { Node } from 'libpg-query';

/**
 * Functions whose value is fixed for the statement (STABLE or IMMUTABLE): PostgreSQL 11+ stores
 * such a default once instead of rewriting the table. Any other function call counts as volatile.
 */
const STABLE_FUNCTIONS = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_timestamp',
  'current_date',
  'localtimestamp',
  'lower',
  'upper',
  'length',
  'jsonb_build_object',
  'jsonb_build_array',
  'to_jsonb',
  'array_fill',
  'make_interval',
]);

/** True when a DEFAULT expression may differ row by row, so adding the column rewrites the table. */
export function isVolatileDefault(expr: Node | undefined): boolean {
  if (!expr) return false;
  if ('A_Const' in expr || 'SQLValueFunction' in expr) return false;
  if ('TypeCast' in expr) return isVolatileDefault(expr.TypeCast.arg);
  if ('A_ArrayExpr' in expr) return (expr.A_ArrayExpr.elements ?? []).some(isVolatileDefault);
  if ('A_Expr' in expr) {
    return isVolatileDefault(expr.A_Expr.lexpr) || isVolatileDefault(expr.A_Expr.rexpr);
  }
  if ('FuncCall' in expr) {
    const name = expr.FuncCall.funcname?.at(-1);
    const fn = name && 'String' in name ? (name.String.sval ?? '') : '';
    return !STABLE_FUNCTIONS.has(fn) || (expr.FuncCall.args ?? []).some(isVolatileDefault);
  }
  // Sub-selects, column references and anything else: cannot be shown constant, so assume not.
  return true;
}
