/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "bridle/bridle.h"

int main(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        printf("bridle %s\n", bridle_version());
        return 0;
}
