/* SPDX-License-Identifier: MIT */
/* --net none (the default): the runner listens on host 127.0.0.1, ::1 and
 * the host's own addresses; nothing may be reachable. The runner also
 * checks that its listener never saw a connection. */
#include "net.h"

int main(void)
{
        net_attack_targets();
        attack_finish();
}
