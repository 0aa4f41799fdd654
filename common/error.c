#include "error.h"
#include "i18n.h" /* N_: the tools translate these with _() */

#include <errno.h>
#include <lmdb.h>
#include <sys/statvfs.h>
#include <unistd.h>

int xxgk_error_from_errno(int err)
{
	switch (err) {
	case 0:
		return XXGK_OK;
	case ENOMEM:
		return XXGK_ENOMEM;
	case ENOENT:
		return XXGK_ENOTFOUND;
	case ENOSPC:
	case EDQUOT:
		return XXGK_ENOSPC;
	case EACCES:
	case EPERM:
		return XXGK_EACCES;
	case EROFS:
		return XXGK_EROFS;
	case EEXIST:
		return XXGK_EEXIST;
	case EAGAIN:
	case EBUSY:
		return XXGK_EBUSY;
	case EINVAL:
		return XXGK_EINVAL;
	case ETIMEDOUT:
		return XXGK_ETIMEDOUT;
	default:
		return XXGK_EIO;
	}
}

int xxgk_is_mdb_code(int rc)
{
	return rc > 0 || (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE);
}

int xxgk_error_from_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return XXGK_OK;
	case MDB_NOTFOUND:
		return XXGK_ENOTFOUND;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
	case MDB_DBS_FULL:
		return XXGK_EFULL;
	case MDB_READERS_FULL:
		return XXGK_EBUSY;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_VALSIZE:
		return XXGK_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return XXGK_ESCHEMA;
	default:
		if (rc > 0)
			return xxgk_error_from_errno(rc);
		return XXGK_ESTORE;
	}
}

/* Below this much room (to root: blocks reserved for it included) a failed write is taken for a
 * full disk: a commit writes a few pages at a time, far less than this. */
#define NEARLY_FULL ((unsigned long long)16 << 20)

int xxgk_error_at(int code, const char *path)
{
	struct statvfs v;
	if (code != XXGK_EIO || path == NULL || statvfs(path, &v) != 0)
		return code;
	if (v.f_flag & ST_RDONLY)
		return XXGK_EROFS;
	unsigned long long blocks = geteuid() == 0 ? v.f_bfree : v.f_bavail;
	if (blocks * v.f_frsize < NEARLY_FULL || (v.f_files > 0 && v.f_favail == 0))
		return XXGK_ENOSPC;
	return code;
}

const char *xxgk_strerror(int code)
{
	switch (code) {
	case XXGK_OK:
		return N_("success");
	case XXGK_ENOMEM:
		return N_("out of memory");
	case XXGK_EIO:
		return N_("input/output error");
	case XXGK_EINVAL:
		return N_("invalid argument");
	case XXGK_ESCHEMA:
		return N_("the store has another schema version");
	case XXGK_ECORRUPT:
		return N_("stored data is corrupt");
	case XXGK_ENOTFOUND:
		return N_("not found");
	case XXGK_EFULL:
		return N_("the LMDB map or a transaction is full");
	case XXGK_EBUSY:
		return N_("busy");
	case XXGK_ESTORE:
		return N_("LMDB failure");
	case XXGK_ETIMEDOUT:
		return N_("no answer in time");
	case XXGK_EPROTO:
		return N_("unexpected answer");
	case XXGK_ENET:
		return N_("network failure");
	case XXGK_E2BIG:
		return N_("more records than the daemon takes in one push");
	case XXGK_EACCES:
		return N_("permission denied");
	case XXGK_EROFS:
		return N_("read-only file system");
	case XXGK_ENOSPC:
		return N_("no space left on the device (or over the disk quota)");
	case XXGK_EEXIST:
		return N_("already exists");
	case XXGK_ERANGE:
		return N_("a counter or a sum of counters would pass its limit");
	default:
		return N_("unknown error");
	}
}
