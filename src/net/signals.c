#include <signal.h>
#include <sys/signalfd.h>

#include "net.h"

/*
 * Signals become ordinary readable events: block them, then read them
 * from a signalfd in the loop, so no handler ever runs in the middle of
 * a request.  SIGPIPE is ignored: a client closing early must surface as
 * EPIPE from send(), not kill the process.
 */
int keel__net_signalfd(bool with_sigchld, int flags)
{
	sigset_t set;
	sigemptyset(&set);
	if (with_sigchld)
		sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int fd = signalfd(-1, &set, flags | SFD_CLOEXEC);
	return fd < 0 ? KEEL_EIO : fd;
}
