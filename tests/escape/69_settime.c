/* SPDX-License-Identifier: MIT */
/* The clock is not namespaced: clock_settime, settimeofday, adjtimex (with
 * a change) must fail. The values written are the current time, so even a
 * success leaves the host clock practically unchanged. */
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include "attack.h"

int main(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        EXPECT_FAIL("clock_settime(REALTIME, now)", clock_settime(CLOCK_REALTIME, &ts), EPERM);
        struct timeval tv;
        gettimeofday(&tv, NULL);
        EXPECT_FAIL("settimeofday(now)", settimeofday(&tv, NULL), EPERM);
        struct timex tx = { .modes = ADJ_OFFSET | ADJ_STATUS, .offset = 0, .status = 0 };
        struct timex cur = { .modes = 0 };
        if (adjtimex(&cur) >= 0) {
                tx.status = cur.status;
                EXPECT_FAIL("adjtimex(ADJ_OFFSET)", adjtimex(&tx), EPERM);
        }
        struct timex tx2 = { .modes = ADJ_OFFSET };
        EXPECT_FAIL("clock_adjtime(REALTIME)", clock_adjtime(CLOCK_REALTIME, &tx2), EPERM);
        attack_finish();
}
