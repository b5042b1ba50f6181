/* SPDX-License-Identifier: MIT */
/* Load a new kernel (nothing valid is passed; a success is the hole). */
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        /* this kernel may lack CONFIG_KEXEC: then ENOSYS is also an answer */
        EXPECT_FAIL("kexec_load(0 segments)", syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM, ENOSYS);
        EXPECT_FAIL("kexec_file_load(-1,-1)", syscall(SYS_kexec_file_load, -1, -1, 0, "", 2 /* UNLOAD */),
                    EPERM, ENOSYS);
        attack_finish();
}
