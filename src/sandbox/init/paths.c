/* SPDX-License-Identifier: MIT */
/* mkdir -p for bridle-init's mount points and workspace entries. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/init/init.h"

#define PATH_BUF (2 * BRIDLE__INIT_MAX_STR + 16)

/* The whole path first (usually its parents exist), else each missing parent. */
int init_mkdir_p(const char *path, mode_t mode)
{
        if (mkdir(path, mode) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        char buf[PATH_BUF];
        if (strlen(path) >= sizeof(buf))
                return -ENAMETOOLONG;
        strcpy(buf, path);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                int r = mkdir(buf, 0755);
                *p = '/';
                if (r < 0 && errno != EEXIST)
                        return -errno;
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int init_mkparents(const char *path)
{
        char buf[PATH_BUF];
        if (strlen(path) >= sizeof(buf))
                return -ENAMETOOLONG;
        strcpy(buf, path);
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
                return 0;
        *slash = '\0';
        return init_mkdir_p(buf, 0755);
}
