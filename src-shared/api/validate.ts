// Turns valibot issues into one short AppError message that names the input at fault, e.g.
// "saveProject: params.speakers[2].color must be a colour ...". Messages are capped so a hostile
// megabyte string in a wrong field cannot come back inside the error.
import * as v from 'valibot';
import { AppError, type AppErrorCode } from '../errors.ts';

const MAX_ISSUES = 3;
const MAX_ISSUE_CHARS = 200;

function pathOf(issue: v.BaseIssue<unknown>, root: string): string {
  let out = root;
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key)).slice(0, 40)}]`;
  }
  return out;
}

function clip(text: string): string {
  return text.length <= MAX_ISSUE_CHARS ? text : `${text.slice(0, MAX_ISSUE_CHARS)}…`;
}

/** Plain words for the two object-shape issues valibot words as "Invalid key". */
function messageOf(issue: v.BaseIssue<unknown>): string {
  if (issue.kind === 'schema' && (issue.type === 'strict_object' || issue.type === 'object')) {
    if (issue.expected === 'never') return 'is not an allowed field';
    if (issue.received === 'undefined') return 'is required';
  }
  return clip(issue.message);
}

export function describeIssues(issues: readonly v.BaseIssue<unknown>[], root: string): string {
  const parts = issues.slice(0, MAX_ISSUES).map((issue) => `${pathOf(issue, root)}: ${messageOf(issue)}`);
  if (issues.length > MAX_ISSUES) parts.push(`and ${issues.length - MAX_ISSUES} more`);
  return parts.join('; ');
}

/** Parses `value` with `schema` or throws AppError(code) naming `what` and the failing path. */
export function parseOrThrow<S extends v.GenericSchema>(schema: S, value: unknown, what: string, root: string, code: AppErrorCode = 'invalid-input'): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) throw new AppError(code, `${what}: ${describeIssues(result.issues, root)}`);
  return result.output;
}
