/* SPDX-License-Identifier: MIT */
/* Change the hostname / domainname (the runner checks the host's hostname
 * afterwards; the sandbox has its own uts namespace and no CAP_SYS_ADMIN). */
#include <sys/utsname.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("sethostname(pwned)", sethostname("bridle-pwned", 12), EPERM);
        EXPECT_FAIL("setdomainname(pwned)", setdomainname("bridle-pwned", 12), EPERM);
        struct utsname u;
        if (uname(&u) == 0 && !strcmp(u.nodename, "bridle-pwned"))
                note_hole("nodename is now %s", u.nodename);
        const char *host = getenv("HOST_HOSTNAME");
        if (host && uname(&u) == 0 && !strcmp(u.nodename, host))
                note_weak("sandbox shows the host's hostname %s (no uts namespace?)", host);
        attack_finish();
}
