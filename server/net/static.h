/* static.h — the page's files from the www directory, safely.
 * Lookups walk the decoded path one component at a time with openat(O_NOFOLLOW) from a
 * directory descriptor opened once, so no symlink (in or out of www), no "..", no hidden file
 * and no directory is ever served; there are no listings. Only known file types are served.
 * Thread-safe after static_open_root(). */
#ifndef SITHS_STATIC_H
#define SITHS_STATIC_H

#include <stddef.h>
#include <sys/types.h>

typedef enum {
	STATIC_OK = 0,
	STATIC_E_NOT_FOUND, /* no such file, or a directory */
	STATIC_E_SYMLINK,   /* a component is a symlink: refused */
	STATIC_E_HIDDEN,    /* a component starts with '.' */
	STATIC_E_BAD_TYPE,  /* extension not in the served list */
	STATIC_E_IO,        /* open/stat failed otherwise */
	STATIC_E_NOMEM,
} static_err;

const char *static_strerror(static_err e);

typedef struct static_root static_root;

/* Opens the root directory. *out released with static_close_root(). */
static_err static_open_root(const char *dir, static_root **out);
void static_close_root(static_root *r);

/* The Content-Type for a file name by extension, or NULL if such files are not served. */
const char *static_content_type(const char *name);

/* path: decoded (urlpath_decode) and starting with '/'; a trailing '/' means index.html.
 * On STATIC_OK, *fd is an open regular file (caller closes), *size its size, *ctype static. */
static_err static_open(const static_root *r, const char *path, int *fd, off_t *size,
		       const char **ctype);

#endif
