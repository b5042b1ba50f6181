/* SPDX-License-Identifier: MIT */
/*
 * Replays fuzz corpora without libFuzzer: every file named on the command
 * line, or found in a folder named there, goes to LLVMFuzzerTestOneInput
 * once. Built with each fuzz target as a normal test (gcc or clang).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (8u << 20)
#define REPLAY_MAX_FILES 100000u

static int replay_file(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                (void)fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > REPLAY_MAX_INPUT) {
                (void)fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n", path,
                        REPLAY_MAX_INPUT);
                close(fd);
                return -1;
        }
        size_t len = (size_t)st.st_size, got = 0;
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
                close(fd);
                return -1;
        }
        while (got < len) {
                ssize_t n = read(fd, buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        close(fd);
        /* An exact-size copy, so ASan catches reads past the end. */
        (void)LLVMFuzzerTestOneInput(buf, got);
        free(buf);
        return 0;
}

static int replay_dir(const char *dir, unsigned *count)
{
        DIR *d = opendir(dir);
        if (!d) {
                (void)fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
                return -1;
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d)) && *count < REPLAY_MAX_FILES) {
                if (de->d_name[0] == '.')
                        continue;
                char path[4096];
                if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
                        continue;
                r = replay_file(path);
                (*count)++;
        }
        closedir(d);
        return r;
}

int main(int argc, char **argv)
{
        unsigned count = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)
                                ? replay_dir(argv[i], &count)
                                : (count++, replay_file(argv[i]));
                if (r < 0)
                        return 1;
        }
        printf("replayed %u inputs\n", count);
        /* An empty corpus is a broken test, not a pass. */
        return count > 0 ? 0 : 1;
}
