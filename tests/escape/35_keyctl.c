/* SPDX-License-Identifier: MIT */
/* The kernel keyring is not namespaced: keyctl, add_key and request_key
 * could read or plant keys of the same host uid. */
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("keyctl(GET_KEYRING_ID, user)", syscall(SYS_keyctl, 0, -4 /* USER */, 0), EPERM);
        EXPECT_FAIL("keyctl(JOIN_SESSION_KEYRING)", syscall(SYS_keyctl, 1, NULL), EPERM);
        EXPECT_FAIL("add_key(user)", syscall(SYS_add_key, "user", "bridle-escape", "x", 1, -3), EPERM);
        EXPECT_FAIL("request_key(user)", syscall(SYS_request_key, "user", "bridle-escape", NULL, 0), EPERM);
        attack_finish();
}
