/* SPDX-License-Identifier: MIT */
/* A jansson reference dropped at scope exit (util/cleanup.h is also built
 * into bridle-init, which has no jansson). */
#pragma once

#include <jansson.h>

#include "util/cleanup.h"

static inline void bridle__json_decrefp(json_t **p)
{
        json_decref(*p);
}
#define _cleanup_json_ _cleanup_(bridle__json_decrefp)
