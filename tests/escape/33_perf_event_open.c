/* SPDX-License-Identifier: MIT */
/* perf_event_open: kernel profiling, a classic source of info leaks and
 * exploitable bugs. */
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        struct perf_event_attr a;
        memset(&a, 0, sizeof(a));
        a.type = PERF_TYPE_SOFTWARE;
        a.size = sizeof(a);
        a.config = PERF_COUNT_SW_CPU_CLOCK;
        a.exclude_kernel = 1;
        EXPECT_FAIL("perf_event_open(self, sw clock)", syscall(SYS_perf_event_open, &a, 0, -1, -1, 0), EPERM);
        a.exclude_kernel = 0;
        EXPECT_FAIL("perf_event_open(cpu 0, all tasks)", syscall(SYS_perf_event_open, &a, -1, 0, -1, 0), EPERM);
        a.type = PERF_TYPE_TRACEPOINT;
        EXPECT_FAIL("perf_event_open(tracepoint)", syscall(SYS_perf_event_open, &a, 0, -1, -1, 0), EPERM);
        attack_finish();
}
