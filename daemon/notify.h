/*
 * systemd's notify protocol (sd_notify(3)): one datagram of "KEY=value" lines to the socket
 * named by $NOTIFY_SOCKET. It is a few lines, so xxgkd speaks it itself rather than link
 * libsystemd: nothing more to install, and nothing happens when not under systemd.
 */
#ifndef XXGK_NOTIFY_H
#define XXGK_NOTIFY_H

#include <stdint.h>

/* Sends state (e.g. "READY=1") if $NOTIFY_SOCKET is set; failures are logged, not fatal. */
void notify(const char *state);

/* The watchdog interval systemd asks for ($WATCHDOG_USEC, for this process), or 0. */
uint64_t notify_watchdog_usec(void);

#endif
