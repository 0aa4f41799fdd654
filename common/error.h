/* Errors of the system and of LMDB as the project's codes (xxgk_error.h, which clients see too). */
#ifndef XXGK_ERROR_H
#define XXGK_ERROR_H

#include "xxgk_error.h"

/* Maps an LMDB return code (or an errno value LMDB passes on) to a project code. */
/*
 * Whether rc is LMDB's rather than the project's: errno values (positive) and LMDB's own
 * codes (MDB_KEYEXIST to MDB_LAST_ERRCODE, negative like the project's).
 */
int xxgk_is_mdb_code(int rc);
int xxgk_error_from_mdb(int rc);

/* Maps an errno value to a project code. */
int xxgk_error_from_errno(int err);

/*
 * code, or a truer one when it is XXGK_EIO and the filesystem that holds path is read-only
 * (XXGK_EROFS) or full (XXGK_ENOSPC): LMDB turns a short write, which is how a full disk often
 * shows, into EIO. path may be NULL.
 */
int xxgk_error_at(int code, const char *path);

#endif
