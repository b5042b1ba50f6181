/* SPDX-License-Identifier: MIT */
/* Flood stdout and stderr with 32 MiB each under --json --max-output.
 * The runner checks that the run ends, the JSON is valid, and both
 * streams are truncated to the limit. */
#include <signal.h>
#include "attack.h"

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        static char buf[65536];
        memset(buf, 'o', sizeof(buf));
        buf[sizeof(buf) - 1] = '\n';
        for (int i = 0; i < 512; i++) {
                if (write(1, buf, sizeof(buf)) < 0 && errno == EPIPE)
                        break;
                if (write(2, buf, sizeof(buf)) < 0 && errno == EPIPE)
                        break;
        }
        return 0;
}
