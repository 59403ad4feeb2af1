/**
 * The app's containers (the service and the migration job) write nothing to their image: the root
 * filesystem is read-only, and /tmp is a small memory-backed scratch space for whatever a library
 * may put there.
 */
export const READ_ONLY_ROOT_FILESYSTEM = {
  readOnly: true,
  tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
} as const;
