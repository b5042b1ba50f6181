/* SPDX-License-Identifier: MIT */
/* SysV IPC: the runner creates a shared memory segment, a message queue and
 * a semaphore set on the host (ipcmk). The sandbox's ipc namespace must be
 * empty: no ids found by enumeration, /proc/sysvipc empty, the host key
 * unknown. */
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include "attack.h"

static int lines(const char *path)
{
        char buf[8192];
        long n = attack_read_file(path, buf, sizeof(buf));
        if (n < 0)
                return -1;
        int c = 0;
        for (long i = 0; i < n; i++)
                c += buf[i] == '\n';
        return c - 1; /* header */
}

int main(void)
{
        int found = 0;
        for (int i = 0; i < 4096; i++) {
                struct shmid_ds s;
                struct msqid_ds m;
                struct semid_ds sd;
                union { int val; struct semid_ds *buf; } arg = { .buf = &sd };
                if (shmctl(i, SHM_STAT, &s) >= 0 || msgctl(i, MSG_STAT, &m) >= 0 ||
                    semctl(i, 0, SEM_STAT, arg) >= 0) {
                        if (found++ < 3)
                                note_hole("ipc object at index %d visible", i);
                }
        }
        const char *files[] = { "/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem" };
        for (int i = 0; i < 3; i++) {
                int l = lines(files[i]);
                if (l > 0) {
                        note_hole("%s lists %d objects", files[i], l);
                        found++;
                }
        }
        const char *k = getenv("HOST_SHM_KEY");
        if (k) {
                key_t key = (key_t)strtoul(k, NULL, 0);
                EXPECT_FAIL("shmget(host key)", shmget(key, 0, 0), ENOENT);
        }
        if (!found)
                note_ok("ipc namespace empty (shm/msg/sem)");
        attack_finish();
}
