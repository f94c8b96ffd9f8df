#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

static int open_bound(const struct addrinfo *ai, int backlog, bool reuseport,
                      const char **why)
{
	int one = 1;
	int fd = socket(ai->ai_family,
	                ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0) {
		*why = "socket";
		return KEEL_EIO;
	}
	/* SO_REUSEADDR lets a restarted server bind while old connections of
	 * the previous run sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (reuseport &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)) {
		*why = "setsockopt";
	} else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		*why = "bind";
	} else if (listen(fd, backlog) < 0) {
		*why = "listen";
	} else {
		return fd;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return KEEL_EIO;
}

int keel__net_listen(const char *host, int port, int backlog, bool reuseport,
                     const char **why)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	if (host && !*host)
		host = NULL;
	if (!host)
		hints.ai_family = AF_INET;
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		*why = "resolve";
		errno = rc == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
		return KEEL_EIO;
	}
	int fd = KEEL_EIO;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = open_bound(ai, backlog, reuseport, why);
	freeaddrinfo(res);
	return fd;
}

int keel__net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return KEEL_EIO;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void keel__net_nodelay(int fd)
{
	int one = 1;
	/* Without it, a small response waits for the client's delayed ACK
	 * (Nagle), adding tens of milliseconds on keep-alive connections. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
