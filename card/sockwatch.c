/* sockwatch.c — inotify on the directory of pcscd's socket. The directory rather than the file:
 * pcscd unlinks a stale socket and binds a new one, so a watch on the file would die with it. */
#include "sockwatch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/pcscd/pcscd.comm"
#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct sockwatch {
	int fd, wd;
	char dir[PATH_MAX];
	char name[NAME_MAX + 1];
	char path[PATH_MAX];
};

/* Watches the directory if it is not watched yet. True when that just happened and the socket
 * is already there: it may have been made while nothing watched. */
static bool arm(sockwatch *w)
{
	if (w->wd >= 0 || w->fd < 0)
		return false;
	w->wd = inotify_add_watch(w->fd, w->dir, DIR_EVENTS | IN_ONLYDIR);
	return w->wd >= 0 && access(w->path, F_OK) == 0;
}

card_err sockwatch_open(sockwatch **out)
{
	const char *path = getenv("PCSCLITE_CSOCK_NAME");
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 1;
	*out = NULL;
	if (!slash || strlen(path) >= PATH_MAX || strlen(slash + 1) > NAME_MAX || !slash[1])
		return CARD_E_INTERNAL; /* not a path pcsc-lite could connect to either */
	sockwatch *w = calloc(1, sizeof(*w));
	if (!w)
		return CARD_E_NOMEM;
	memcpy(w->dir, dlen ? path : "/", dlen ? dlen : 1);
	strcpy(w->name, slash + 1);
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->wd = -1;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	(void)arm(w);
	*out = w;
	return CARD_OK;
}

int sockwatch_fd(const sockwatch *w)
{
	return w->wd >= 0 ? w->fd : -1;
}

bool sockwatch_changed(sockwatch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;
	while (w->fd >= 0 && (n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				if (w->wd >= 0)
					inotify_rm_watch(w->fd, w->wd);
				w->wd = -1; /* the directory went: watch it again once it is back */
			} else if (ev->len && !strcmp(ev->name, w->name)) {
				hit = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	return arm(w) || hit;
}

void sockwatch_close(sockwatch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
