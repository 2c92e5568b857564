/* static.c — serving files from www/ without ever leaving it.
 * Each path component is opened with openat(O_NOFOLLOW) relative to the previous directory, so
 * the kernel, not string handling, guarantees that the file lies under the root. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct static_root {
	int dirfd;
};

const char *static_strerror(static_err e)
{
	switch (e) {
	case STATIC_OK: return "ok";
	case STATIC_E_NOT_FOUND: return "not found";
	case STATIC_E_SYMLINK: return "symlink refused";
	case STATIC_E_HIDDEN: return "hidden file refused";
	case STATIC_E_BAD_TYPE: return "file type not served";
	case STATIC_E_IO: return "I/O error";
	case STATIC_E_NOMEM: return "out of memory";
	}
	return "unknown error";
}

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "ico", "image/x-icon" },
	{ "json", "application/json" },
	{ "woff2", "font/woff2" },
	{ "txt", "text/plain; charset=utf-8" },
};

const char *static_content_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');
	if (!dot || dot[1] == '\0')
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static_err static_open_root(const char *dir, static_root **out)
{
	*out = NULL;
	static_root *r = malloc(sizeof *r);
	if (!r)
		return STATIC_E_NOMEM;
	/* The root itself may be reached through symlinks (e.g. /usr/share/...); below it, none. */
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		free(r);
		return errno == ENOENT || errno == ENOTDIR ? STATIC_E_NOT_FOUND : STATIC_E_IO;
	}
	*out = r;
	return STATIC_OK;
}

void static_close_root(static_root *r)
{
	if (!r)
		return;
	close(r->dirfd);
	free(r);
}

static static_err open_err(int err)
{
	switch (err) {
	case ELOOP: return STATIC_E_SYMLINK;
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case ENAMETOOLONG: return STATIC_E_NOT_FOUND;
	default: return STATIC_E_IO;
	}
}

static_err static_open(const static_root *r, const char *path, int *fd, off_t *size,
		       const char **ctype)
{
	char buf[1024];
	static_err e = STATIC_OK;
	int dir = -1, f = -1;

	*fd = -1;
	size_t n = strlen(path);
	if (n == 0 || path[0] != '/' || n + sizeof "index.html" > sizeof buf)
		return STATIC_E_NOT_FOUND;
	memcpy(buf, path, n + 1);
	if (buf[n - 1] == '/')
		memcpy(buf + n, "index.html", sizeof "index.html");
	if (!(*ctype = static_content_type(buf)))
		return STATIC_E_BAD_TYPE;

	if ((dir = dup(r->dirfd)) < 0)
		return STATIC_E_IO;
	char *save = NULL;
	for (char *comp = strtok_r(buf + 1, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (comp[0] == '.') {
			e = STATIC_E_HIDDEN;
			goto out;
		}
		char *next = save && *save ? save : NULL;
		int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			(next ? O_DIRECTORY : O_NONBLOCK);
		if ((f = openat(dir, comp, flags)) < 0) {
			e = open_err(errno);
			struct stat ls;
			/* O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR: name the real reason. */
			if (e == STATIC_E_NOT_FOUND &&
			    fstatat(dir, comp, &ls, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(ls.st_mode))
				e = STATIC_E_SYMLINK;
			goto out;
		}
		close(dir);
		dir = f;
		f = -1;
	}
	/* dir now holds the final component. */
	struct stat st;
	if (fstat(dir, &st) < 0) {
		e = STATIC_E_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = STATIC_E_NOT_FOUND;
		goto out;
	}
	*fd = dir;
	*size = st.st_size;
	dir = -1;
out:
	if (dir >= 0)
		close(dir);
	return e;
}
