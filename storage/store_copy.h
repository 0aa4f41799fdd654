/*
 * A compacted copy of an LMDB environment at a bounded rate (store_backup's backup_rate): what a
 * backup writes at full speed is a burst of dirty pages that the kernel writes back all at once,
 * and the ingest's fsync waits behind it.
 */
#ifndef XXGK_STORE_COPY_H
#define XXGK_STORE_COPY_H

#include <lmdb.h>
#include <stdint.h>

/*
 * mdb_env_copyfd2(env, MDB_CP_COMPACT) into out through a pipe, written out at most rate bytes
 * a second, each 8 MiB pushed to the disk before the next 8 are written. Returns 0 or an errno
 * or LMDB code.
 */
int store_copy_paced(MDB_env *env, int out, uint64_t rate);

#endif
