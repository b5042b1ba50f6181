/* SPDX-License-Identifier: MIT */
/* Host-only paths must not exist: shadow files, /root, /home, ssh keys,
 * the source tree, /var, /boot, /run, docker state; /etc holds only a few
 * harmless files. */
#include <dirent.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        const char *paths[] = {
                "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/sudoers", "/etc/ssh", "/root", "/home",
                "/work", "/var/lib", "/boot", "/run/secrets", "/var/run/secrets",
                "/var/log", "/lost+found", "/srv", "/opt", "/mnt", "/media",
        };
        int found = 0;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                struct stat st;
                if (lstat(paths[i], &st) == 0) {
                        note_hole("%s exists", paths[i]);
                        found++;
                }
        }
        /* private key directories: readable is a hole, present is a spec deviation */
        const char *keydirs[] = { "/etc/ssl/private", "/etc/pki/tls/private", "/etc/letsencrypt" };
        for (size_t i = 0; i < sizeof(keydirs) / sizeof(keydirs[0]); i++) {
                DIR *kd = opendir(keydirs[i]);
                if (kd) {
                        int entries = 0;
                        struct dirent *de;
                        while ((de = readdir(kd)))
                                entries += de->d_name[0] != '.';
                        closedir(kd);
                        note_hole("%s is listable (%d entries)", keydirs[i], entries);
                        found++;
                } else if (errno != ENOENT) {
                        note_weak("%s exists (%s)", keydirs[i], attack_errname(errno));
                        found++;
                }
        }
        const char *src = getenv("HOST_SRCDIR");
        struct stat st;
        if (src && stat(src, &st) == 0) {
                note_hole("host source tree %s visible", src);
                found++;
        }
        DIR *d = opendir("/etc");
        int n = 0;
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.')
                                n++;
                closedir(d);
        }
        if (n > 40)
                note_weak("/etc has %d entries (expected a few)", n);
        if (!found)
                note_ok("%zu host-only paths absent, /etc has %d entries", sizeof(paths) / sizeof(paths[0]), n);
        attack_finish();
}
