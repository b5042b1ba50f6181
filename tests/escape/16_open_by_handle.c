/* SPDX-License-Identifier: MIT */
/* "Shocker": forge a file handle for the root inode of the host filesystem
 * behind the /usr bind and open it with open_by_handle_at, bypassing the
 * mount tree. Needs CAP_DAC_READ_SEARCH in the initial namespace. */
#include <fcntl.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        struct {
                struct file_handle fh;
                unsigned char data[MAX_HANDLE_SZ];
        } h;
        memset(&h, 0, sizeof(h));
        h.fh.handle_bytes = MAX_HANDLE_SZ;
        int mnt = -1;
        long r = syscall(SYS_name_to_handle_at, AT_FDCWD, "/usr/bin", &h.fh, &mnt, 0);
        if (r < 0) {
                note_ok("name_to_handle_at(/usr/bin): %s", attack_errname(errno));
                /* forge an ext4-style handle for inode 2 (the fs root) */
                h.fh.handle_bytes = 8;
                h.fh.handle_type = 1; /* FILEID_INO32_GEN */
                unsigned int ino = 2, gen = 0;
                memcpy(h.fh.f_handle, &ino, 4);
                memcpy(h.fh.f_handle + 4, &gen, 4);
        } else {
                note_ok("name_to_handle_at(/usr/bin) works (type %d)", h.fh.handle_type);
        }
        int usr = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        EXPECT_FAIL("open_by_handle_at(/usr, handle)",
                    syscall(SYS_open_by_handle_at, usr, &h.fh, O_RDONLY | O_CLOEXEC), EPERM, ENOSYS);
        /* root inode of the same fs */
        struct {
                struct file_handle fh;
                unsigned char data[8];
        } root = { .fh = { .handle_bytes = 8, .handle_type = 1 } };
        unsigned int ino = 2;
        memcpy(root.fh.f_handle, &ino, 4);
        EXPECT_FAIL("open_by_handle_at(forged inode 2)",
                    syscall(SYS_open_by_handle_at, usr, &root.fh, O_RDONLY | O_CLOEXEC), EPERM, ENOSYS);
        attack_finish();
}
