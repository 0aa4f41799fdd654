/*
 * The project's error codes, public: libxxgk's functions return 0 or one of these, and a
 * department's client compares them (xxgk.h includes this header; it is installed beside it).
 */
#ifndef XXGK_ERROR_CODES_H
#define XXGK_ERROR_CODES_H

enum xxgk_error {
	XXGK_OK = 0,
	XXGK_ENOMEM = -1,   /* out of memory */
	XXGK_EIO = -2,	    /* the disk or the operating system failed */
	XXGK_EINVAL = -3,   /* bad argument or input */
	XXGK_ESCHEMA = -4,  /* the store was written by another schema version */
	XXGK_ECORRUPT = -5, /* stored data that cannot be read back */
	XXGK_ENOTFOUND = -6,
	XXGK_EFULL = -7,      /* a fixed limit of LMDB is full (the map, a transaction) */
	XXGK_EBUSY = -8,      /* locked by another process, or too many readers */
	XXGK_ESTORE = -9,     /* any other LMDB failure */
	XXGK_ETIMEDOUT = -10, /* no answer in time */
	XXGK_EPROTO = -11,    /* the peer answered outside the protocol */
	XXGK_ENET = -12,      /* a ZeroMQ failure */
	XXGK_E2BIG = -13,     /* more records in one request than the daemon takes */
	XXGK_EACCES = -14,    /* permission denied (EACCES, EPERM) */
	XXGK_EROFS = -15,     /* a read-only filesystem */
	XXGK_ENOSPC = -16,    /* no space left on the device, or over the disk quota */
	XXGK_EEXIST = -17,    /* a file is in the way */
	XXGK_ERANGE = -18,    /* a counter or a sum of counters would pass its limit */
};

/* A short English message for a project code. */
const char *xxgk_strerror(int code);

#endif
