/**
 * One line for a child process that could not be started (spawn's 'error' event), instead of
 * Node's unhandled-error stack trace: which program, and what to do about it.
 */
export function childProcessFailure(command: string, error: unknown, asUser?: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const who = asUser ? ` as the OS user ${asUser}` : '';
  switch (code) {
    case 'ENOENT':
      return `cannot run ${command}${who}: not found (install it, or check that it is on PATH)`;
    case 'EACCES':
      return (
        `cannot run ${command}${who}: permission denied (the file is not executable, or ` +
        `${asUser ?? 'this user'} cannot enter a directory on its path)`
      );
    default:
      return `cannot run ${command}${who}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
